import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { evalCondition, type Condition } from '../../api/assignment/targeting.ts'
import { ruleProblems, SEGMENT_FIELDS, type SegmentField } from '../../api/segments/rule.ts'
import { rfmGroupSql, ruleSql, SqlParams } from '../../api/segments/rule-sql.ts'
import { LAPSE_STAGES, OFFER_RESPONSES } from '../../api/segments/features.ts'
import { RFM_GROUPS, rfmScore } from '../../api/segments/rfm.ts'

/**
 * A segment rule compiled to ClickHouse (api/segments/rule-sql.ts) selects exactly the customers JavaScript's
 * evalCondition selects — the profile and targeting use the latter, report breakdowns the former — on random rules
 * over random feature rows drawn from small value pools, so equality, null and boundary cases come up often.
 */

const NUMBER_POOLS: Record<string, Array<number | null>> = {
  recency_days: [null, 0, 1, 5, 30, 90, 400],
  orders_90d: [0, 1, 2, 5],
  orders_365d: [0, 1, 3, 12],
  monetary_365d: [-20, 0, 49.5, 120, 1000],
  aov_365d: [null, 10, 49.5, 80.25],
  tenure_days: [null, 0, 45, 700],
  inter_purchase_days: [null, 3.5, 30, 91.25],
  discount_affinity: [null, 0, 0.25, 1 / 3, 1],
}
const CATEGORY_POOLS: Record<string, readonly string[]> = { lapse_stage: LAPSE_STAGES, last_offer_response: OFFER_RESPONSES, rfm_group: RFM_GROUPS }
const FIELDS = Object.keys(SEGMENT_FIELDS) as SegmentField[]

type Row = Record<string, number | string | null> & { i: number }

const rowArb = fc.record(
  Object.fromEntries([
    ...Object.entries(NUMBER_POOLS).map(([k, pool]) => [k, fc.constantFrom(...pool)]),
    ...Object.entries(CATEGORY_POOLS).map(([k, pool]) => [k, fc.constantFrom(...pool)]),
  ]) as Record<string, fc.Arbitrary<number | string | null>>,
)

/** A field test as segment rules may write it (rule.ts): bare values and the field operators. */
function testArb(field: SegmentField): fc.Arbitrary<unknown> {
  const type = SEGMENT_FIELDS[field]
  if (type.kind === 'category') {
    const v = fc.constantFrom(...type.values)
    return fc.oneof(
      v,
      fc.record({ $eq: v }),
      fc.record({ $ne: v }),
      fc.record({ $in: fc.array(v, { minLength: 1, maxLength: 3 }) }),
      fc.record({ $nin: fc.array(v, { minLength: 1, maxLength: 3 }) }),
      fc.record({ $exists: fc.boolean() }),
      fc.record({ $not: fc.record({ $in: fc.array(v, { minLength: 1, maxLength: 2 }) }) }),
    )
  }
  const pool = NUMBER_POOLS[field].filter((x) => x !== null || type.nullable)
  const v = fc.constantFrom(...pool)
  const n = fc.constantFrom(...(pool.filter((x) => x !== null) as number[]), 2, 0.5)
  const cmp = fc.constantFrom('$lt', '$lte', '$gt', '$gte')
  return fc.oneof(
    v,
    fc.record({ $eq: v }),
    fc.record({ $ne: v }),
    fc.tuple(cmp, n).map(([op, x]) => ({ [op]: x })),
    fc.tuple(cmp, n, cmp, n).map(([a, x, b, y]) => ({ [a]: x, [b]: y })),
    fc.record({ $in: fc.array(v, { minLength: 1, maxLength: 3 }) }),
    fc.record({ $nin: fc.array(v, { minLength: 1, maxLength: 3 }) }),
    fc.record({ $exists: fc.boolean() }),
    fc.tuple(cmp, n).map(([op, x]) => ({ $not: { [op]: x } })),
    fc.record({ $exists: fc.constant(true), $lte: n }),
  )
}

const leafArb = fc.constantFrom(...FIELDS).chain((f) => testArb(f).map((t) => ({ [f]: t })))
const { rule: ruleArb } = fc.letrec<{ rule: Record<string, unknown> }>((tie) => ({
  rule: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.tuple(leafArb, leafArb).map(([a, b]) => ({ ...a, ...b })),
    fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((l) => ({ $and: l })),
    fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((l) => ({ $or: l })),
    fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((l) => ({ $nor: l })),
    tie('rule').map((r) => ({ $not: r })),
  ),
}))

let h: Harness
let rows: Row[]

beforeAll(async () => {
  h = await openHarness()
  rows = fc.sample(rowArb, { numRuns: 400, seed: 42 }).map((r, i) => ({ ...r, i }) as Row)
  await h.ch.client.command({
    query: `CREATE TABLE seg_rows (i UInt32, recency_days Nullable(Int64), orders_90d UInt32, orders_365d UInt32, monetary_365d Float64,
      aov_365d Nullable(Float64), tenure_days Nullable(Int64), inter_purchase_days Nullable(Float64), discount_affinity Nullable(Float64),
      lapse_stage String, last_offer_response String, rfm_group String) ENGINE = MergeTree ORDER BY i`,
  })
  await h.ch.client.insert({ table: 'seg_rows', values: rows, format: 'JSONEachRow' })
})

afterAll(() => h?.close())

async function selected(where: string, params: Record<string, unknown>): Promise<number[]> {
  const out = await h.chQuery<{ ids: number[] }>(`SELECT arraySort(groupArray(i)) AS ids FROM seg_rows WHERE ${where}`, params)
  return out[0].ids.map(Number)
}

describe('segment rules in ClickHouse', () => {
  it('select the same customers as evalCondition on 300 random valid rules', async () => {
    const rules = fc.sample(ruleArb, { numRuns: 300, seed: 7 }).filter((r) => ruleProblems(r).length === 0)
    expect(rules.length).toBeGreaterThan(250)
    let nonTrivial = 0
    for (const rule of rules) {
      const params = new SqlParams()
      const where = ruleSql(rule, params)
      const expected = rows.filter((r) => evalCondition(r, rule as Condition)).map((r) => r.i)
      if (expected.length > 0 && expected.length < rows.length) nonTrivial++
      expect(await selected(where, params.values), `${JSON.stringify(rule)}\n${where}`).toEqual(expected)
    }
    // Most rules split the rows, so agreement is not the trivial all-or-nothing kind.
    expect(nonTrivial).toBeGreaterThan(rules.length / 2)
  })

  it('binds every value as a parameter: a hostile category value is refused by validation and never spliced', () => {
    const params = new SqlParams()
    const where = ruleSql({ lapse_stage: { $in: ["x') OR 1=1 --"] } }, params)
    expect(where).not.toContain('OR 1=1')
    expect(Object.values(params.values)).toEqual([["x') OR 1=1 --"]])
    expect(() => ruleSql({ 'recency_days) OR (1': 1 }, new SqlParams())).toThrow(/unknown field/)
  })

  it('names the same RFM group as rfmScore for random scores and cut points', async () => {
    const cutsArb = fc.array(fc.constantFrom(0, 1, 2, 5, 10, 49.5, 100, 400), { minLength: 4, maxLength: 4 }).map((c) => c.sort((a, b) => a - b))
    const cases = fc.sample(fc.record({ recency: cutsArb, frequency: cutsArb, monetary: cutsArb }), { numRuns: 40, seed: 3 })
    for (const cuts of cases) {
      const params = new SqlParams()
      const out = await h.chQuery<{ i: number; g: string }>(`SELECT i, ${rfmGroupSql(cuts, params)} AS g FROM seg_rows ORDER BY i`, params.values)
      for (const { i, g } of out) {
        const r = rows[Number(i)]
        const want = rfmScore(r as never, cuts)?.group ?? 'no_purchases'
        expect(g, `${JSON.stringify(r)} ${JSON.stringify(cuts)}`).toBe(want)
      }
    }
  })
})
