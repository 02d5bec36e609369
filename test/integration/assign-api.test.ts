import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import jStat from 'jstat'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'

let h: Harness
beforeAll(async () => {
  h = await openHarness()
})
afterAll(() => h.close())

/** Pearson chi-square goodness of fit p-value, straight from the definition. */
function chiSquareP(observed: number[], expectedShares: number[]): number {
  const total = observed.reduce((a, b) => a + b, 0)
  const stat = observed.reduce((s, o, i) => s + (o - total * expectedShares[i]) ** 2 / (total * expectedShares[i]), 0)
  return 1 - (jStat as any).chisquare.cdf(stat, observed.length - 1)
}

async function startExperiment(body: Record<string, unknown>) {
  const created = await h.call('POST', '/v1/experiments', body)
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  expect((await h.call('POST', `/v1/experiments/${body.id}/start`)).status).toBe(200)
}

async function assignBatch(experimentId: string, ids: string[], attributes?: (id: string) => Record<string, unknown>) {
  const out: any[] = []
  for (let i = 0; i < ids.length; i += 10_000) {
    const customers = ids.slice(i, i + 10_000).map((customerId) => ({ customerId, attributes: attributes?.(customerId) }))
    const res = await h.call('POST', '/v1/assign/batch', { experimentId, customers })
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
    out.push(...res.body.assignments)
  }
  return out
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)

describe('assignment through the API on real stores', () => {
  it('gives the same customer the same arm every time and logs each eligible assignment with its attributes', async () => {
    await startExperiment(twoArmExperiment('sticky', { holdoutPct: 0.1 }))
    const first = await h.call('POST', '/v1/assign', { experimentId: 'sticky', customerId: 'cust-42', attributes: { tier: 'gold', churnRisk: 0.7 } })
    expect(first.status).toBe(200)
    for (let i = 0; i < 5; i++) {
      const again = await h.call('POST', '/v1/assign', { experimentId: 'sticky', customerId: 'cust-42' })
      expect(again.body.arm).toBe(first.body.arm)
    }
    // The answer came after the write: the exposure is readable now.
    const rows = await h.chQuery<any>(`SELECT arm, attributes FROM exposures WHERE experiment_id = {e:String} AND customer_id = {c:String} ORDER BY ts`, {
      e: 'sticky',
      c: 'cust-42',
    })
    if (first.body.reason === 'global_holdout') expect(rows.every((r) => r.arm === 'global_holdout')).toBe(true)
    else {
      expect(rows).toHaveLength(6)
      expect(rows[0]).toEqual({ arm: first.body.arm, attributes: { tier: 'gold', churnRisk: '0.7' } })
    }
  })

  it('splits 100,000 customers by the weights, with the experiment and global holdouts at their shares', async () => {
    await startExperiment({
      ...twoArmExperiment('shares', { holdoutPct: 0.1 }),
      arms: [
        { key: 'control', name: 'Control', weight: 0.2, isControl: true },
        { key: 'pct15', name: '15% off', weight: 0.3, offer: { type: 'percent_off', value: 15 } },
        { key: 'freeship', name: 'Free shipping', weight: 0.5, offer: { type: 'free_shipping', value: 0 } },
      ],
    })
    const assignments = await assignBatch('shares', ids('s', 100_000))
    const globalHeld = assignments.filter((a) => a.reason === 'global_holdout').length
    // Global holdout default 5%: binomial check at 4.5 standard errors.
    expect(Math.abs(globalHeld / 100_000 - 0.05)).toBeLessThan(4.5 * Math.sqrt((0.05 * 0.95) / 100_000))
    const counts = await h.chQuery<{ arm: string; n: string }>(`SELECT arm, count() AS n FROM exposures WHERE experiment_id = 'shares' GROUP BY arm`)
    const byArm = Object.fromEntries(counts.map((r) => [r.arm, Number(r.n)]))
    expect(byArm.global_holdout).toBe(globalHeld)
    const keys = ['holdout', 'control', 'pct15', 'freeship']
    const expected = [0.1, 0.9 * 0.2, 0.9 * 0.3, 0.9 * 0.5]
    const observed = keys.map((k) => byArm[k])
    expect(observed.reduce((a, b) => a + b, 0)).toBe(100_000 - globalHeld)
    expect(chiSquareP(observed, expected)).toBeGreaterThan(0.001)
  })

  it('never moves an assigned customer when coverage ramps up', async () => {
    await startExperiment(twoArmExperiment('ramp', { coverage: 0.2, holdoutPct: 0.05 }))
    const cohort = ids('r', 20_000)
    const at = async () => new Map((await assignBatch('ramp', cohort)).map((a) => [a.customerId, a.arm]))
    const before = await at()
    const enrolledBefore = [...before.values()].filter(Boolean).length
    expect((await h.call('PATCH', '/v1/experiments/ramp', { coverage: 0.5 })).status).toBe(200)
    const mid = await at()
    expect((await h.call('PATCH', '/v1/experiments/ramp', { coverage: 1 })).status).toBe(200)
    const after = await at()
    for (const [id, arm] of before) if (arm) expect(mid.get(id)).toBe(arm)
    for (const [id, arm] of mid) if (arm) expect(after.get(id)).toBe(arm)
    const enrolledAfter = [...after.values()].filter(Boolean).length
    expect(enrolledBefore / enrolledAfter).toBeGreaterThan(0.17)
    expect(enrolledBefore / enrolledAfter).toBeLessThan(0.23)
  })

  it('keeps two experiments in one namespace with disjoint ranges from sharing a customer', async () => {
    await startExperiment(twoArmExperiment('ns-a', { namespace: { name: 'winback', range: [0, 0.5] } }))
    await startExperiment(twoArmExperiment('ns-b', { namespace: { name: 'winback', range: [0.5, 1] } }))
    const cohort = ids('n', 20_000)
    const a = new Set((await assignBatch('ns-a', cohort)).filter((x) => x.inExperiment).map((x) => x.customerId))
    const b = (await assignBatch('ns-b', cohort)).filter((x) => x.inExperiment).map((x) => x.customerId)
    expect(a.size).toBeGreaterThan(8_000)
    expect(b.length).toBeGreaterThan(8_000)
    expect(b.filter((id) => a.has(id))).toEqual([])
  })

  it('applies targeting before anything else is logged', async () => {
    await startExperiment(twoArmExperiment('targeted', { targeting: { recency: { $gte: 60, $lt: 180 }, 'profile.tier': { $in: ['gold', 'silver'] } } }))
    const eligible = await h.call('POST', '/v1/assign', { experimentId: 'targeted', customerId: 't1', attributes: { recency: 90, profile: { tier: 'gold' } } })
    expect(eligible.body.reason === null || eligible.body.reason === 'global_holdout').toBe(true)
    const not = await h.call('POST', '/v1/assign', { experimentId: 'targeted', customerId: 't2', attributes: { recency: 20, profile: { tier: 'gold' } } })
    expect(not.body).toMatchObject({ arm: null, inExperiment: false, reason: 'not_eligible' })
    const rows = await h.chQuery(`SELECT customer_id FROM exposures WHERE experiment_id = 'targeted'`)
    // t1 is logged either as an arm or, if globally held out, as the program's comparison group.
    expect(rows.map((r: any) => r.customer_id)).toEqual(['t1'])
  })

  it('says not_running for a draft or paused experiment and logs nothing', async () => {
    await h.call('POST', '/v1/experiments', twoArmExperiment('drafty'))
    const res = await h.call('POST', '/v1/assign', { experimentId: 'drafty', customerId: 'd1' })
    expect(res.body).toMatchObject({ arm: null, reason: 'not_running', inExperiment: false })
    expect(await h.chQuery(`SELECT 1 FROM exposures WHERE experiment_id = 'drafty'`)).toEqual([])
  })

  describe('rejects bad input with a 4xx and writes nothing', () => {
    const exposureCount = async () => Number((await h.chQuery<{ n: string }>('SELECT count() AS n FROM exposures'))[0].n)
    const cases: Array<[string, unknown, number, string | undefined]> = [
      ['unknown experiment', { experimentId: 'nope', customerId: 'x' }, 404, undefined],
      ['empty customer id', { experimentId: 'sticky', customerId: '' }, 400, 'customerId'],
      ['customer id with control characters', { experimentId: 'sticky', customerId: 'a\u0000b' }, 400, 'customerId'],
      ['customer id longer than 256 characters', { experimentId: 'sticky', customerId: 'x'.repeat(257) }, 400, 'customerId'],
      ['numeric customer id', { experimentId: 'sticky', customerId: 42 }, 400, 'customerId'],
      ['attributes that are not an object', { experimentId: 'sticky', customerId: 'x', attributes: [1, 2] }, 400, 'attributes'],
    ]
    for (const [name, body, status, field] of cases) {
      it(name, async () => {
        const before = await exposureCount()
        const res = await h.call('POST', '/v1/assign', body)
        expect(res.status).toBe(status)
        expect(res.body.error.code).toBeTypeOf('string')
        if (field) expect(res.body.error.field).toBe(field)
        expect(await exposureCount()).toBe(before)
      })
    }
    it('10,001 customers in one batch', async () => {
      const before = await exposureCount()
      const res = await h.call('POST', '/v1/assign/batch', { experimentId: 'sticky', customers: ids('big', 10_001).map((customerId) => ({ customerId })) })
      expect(res.status).toBe(400)
      expect(res.body.error.field).toBe('customers')
      expect(await exposureCount()).toBe(before)
    })
    it('a batch with one malformed customer id among valid ones', async () => {
      const before = await exposureCount()
      const customers = [...ids('ok', 50).map((customerId) => ({ customerId })), { customerId: '' }]
      const res = await h.call('POST', '/v1/assign/batch', { experimentId: 'sticky', customers })
      expect(res.status).toBe(400)
      expect(res.body.error.field).toBe('customers.50.customerId')
      expect(await exposureCount()).toBe(before)
    })
    it('a body that is not JSON, and an oversized body', async () => {
      const before = await exposureCount()
      expect((await h.call('POST', '/v1/assign', 'customerId=1')).body.error.code).toBe('invalid_json')
      const huge = await h.call('POST', '/v1/assign', { experimentId: 'sticky', customerId: 'x', attributes: { blob: 'x'.repeat(1_100_000) } })
      expect(huge.status).toBe(413)
      expect(await exposureCount()).toBe(before)
    })
  })
})
