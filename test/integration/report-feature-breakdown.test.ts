/**
 * Report breakdowns by what customers were at first exposure (issue 20, item 3): a lapse stage, their last offer
 * response, their RFM group or a saved segment, computed from the event stream — no attribute sent with the
 * assignment. Each row's per-arm n and reactivation are recomputed here from the raw events: features with the
 * brute-force reference as of each customer's own first exposure, outcomes over the window after it. Many
 * customers buy at the very instant of first exposure or inside their window, so a feature that read one of those
 * purchases (leakage) would move them to `active` and break the comparison.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { purchaseHistories, referenceFeatures, referenceRfmCuts } from '../helpers/features-reference.ts'
import type { RawEvent } from '../helpers/raw-event.ts'
import type { CustomerFeatures } from '../../api/segments/features.ts'
import { rfmScore } from '../../api/segments/rfm.ts'
import type { ExperimentReport } from '../../api/contract/index.ts'

const DAY = 86_400_000
const T0 = Date.parse('2026-09-01T00:00:00Z')
const AS_OF = T0 + 40 * DAY
const WINDOW = 30 * DAY
const CUSTOMERS = 900

let clock = T0
let h: Harness
const events: RawEvent[] = []
/** Each analysed customer's arm, first exposure and features then (brute force). */
const customers = new Map<string, { arm: string; t0: number; features: CustomerFeatures; reactivated: boolean }>()

beforeAll(async () => {
  const rand = mulberry32(31)
  h = await openHarness({ now: () => clock })
  const created = await h.call('POST', '/v1/experiments', {
    id: 'fbreak',
    name: 'Win-back by lapse stage',
    arms: [
      { key: 'control', name: 'Message only', weight: 0.5, isControl: true },
      { key: 'freeship', name: 'Free shipping', weight: 0.5, offer: { type: 'free_shipping', value: 0 } },
    ],
    analysis: { primaryMetric: 'reactivation', attributionDays: 30 },
  })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  expect((await h.call('POST', '/v1/experiments/fbreak/start')).status).toBe(200)
  events.push(...purchaseHistories({ prefix: 'fb-', customers: CUSTOMERS, before: T0, spreadDays: 400, rand, offers: true }))
  expect((await h.call('POST', '/v1/events', events)).body.rejected).toEqual([])

  // Three days of enrolment, no attributes sent.
  const ids = Array.from({ length: CUSTOMERS }, (_, c) => `fb-${c}`)
  const arms = new Map<string, string>()
  for (let day = 0; day < 3; day++) {
    clock = T0 + day * DAY
    const batch = ids.filter((_, i) => i % 3 === day)
    const res = await h.call('POST', '/v1/assign/batch', { experimentId: 'fbreak', customers: batch.map((customerId) => ({ customerId })) })
    expect(res.status).toBe(200)
    for (const a of res.body.assignments) if (a.inExperiment) arms.set(a.customerId, a.arm)
  }
  const exposed = await h.chQuery<{ customer_id: string; t0: string }>(
    `SELECT customer_id, toUnixTimestamp64Milli(min(ts)) AS t0 FROM exposures WHERE experiment_id = 'fbreak' GROUP BY customer_id`,
  )
  const t0s = new Map(exposed.map((r) => [r.customer_id, Number(r.t0)]))

  // Outcomes: a purchase at the instant of first exposure for some, inside the window for others, after it for a few.
  const outcomes: RawEvent[] = []
  for (const [id, arm] of arms) {
    const t0 = t0s.get(id)!
    const u = rand()
    const p = arm === 'freeship' ? 0.45 : 0.3
    if (u < 0.1) outcomes.push({ eventId: `${id}:at`, customerId: id, type: 'purchase', ts: t0, revenue: 30 })
    else if (u < p) outcomes.push({ eventId: `${id}:in`, customerId: id, type: 'purchase', ts: t0 + Math.floor(rand() * 25 * DAY) + 1, revenue: 50 })
    else if (u < p + 0.05) outcomes.push({ eventId: `${id}:late`, customerId: id, type: 'purchase', ts: t0 + WINDOW + DAY, revenue: 50 })
    if (rand() < 0.2) outcomes.push({ eventId: `${id}:os`, customerId: id, type: 'offer_redeemed', ts: t0 + DAY, cost: 4, experimentId: 'fbreak', arm })
  }
  clock = AS_OF
  expect((await h.call('POST', '/v1/events', outcomes)).body.rejected).toEqual([])
  events.push(...outcomes)

  const byCustomer = new Map<string, RawEvent[]>()
  for (const e of events) byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e])
  for (const [id, arm] of arms) {
    const t0 = t0s.get(id)!
    const own = byCustomer.get(id) ?? []
    const reactivated = own.some((e) => e.type === 'purchase' && e.ts >= t0 && e.ts < t0 + WINDOW && e.ts <= AS_OF)
    customers.set(id, { arm, t0, features: referenceFeatures(own, t0), reactivated })
  }

  const segment = (key: string, rule: unknown) => h.call('POST', '/v1/segments', { key, name: key.replace(/_/g, ' '), rule })
  expect((await segment('deal_seeking_lapsed', { lapse_stage: { $in: ['lapsed', 'dormant'] }, discount_affinity: { $gte: 0.2 } })).status).toBe(201)
  expect((await segment('valuable', { rfm_group: { $in: ['champions', 'loyal', 'cant_lose_them'] } })).status).toBe(201)
}, 180_000)
afterAll(() => h?.close())

async function report(dimension: string): Promise<ExperimentReport> {
  const res = await h.call('GET', `/v1/experiments/fbreak/report?asOf=${AS_OF}&metrics=reactivation&dimension=${encodeURIComponent(dimension)}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

/** The breakdown's per-arm n and reactivation rate against the brute force's grouping. */
function expectRows(body: ExperimentReport, groupOf: (c: { features: CustomerFeatures }) => string) {
  const expected = new Map<string, Map<string, { n: number; reactivated: number }>>()
  for (const c of customers.values()) {
    const g = groupOf(c)
    const arms = expected.get(g) ?? new Map()
    const cell = arms.get(c.arm) ?? { n: 0, reactivated: 0 }
    cell.n++
    cell.reactivated += c.reactivated ? 1 : 0
    arms.set(c.arm, cell)
    expected.set(g, arms)
  }
  const rows = body.breakdown!.segments
  expect(rows.map((r) => r.value).sort()).toEqual([...expected.keys()].sort())
  for (const row of rows) {
    const want = expected.get(row.value)!
    for (const arm of ['control', 'freeship']) {
      const cell = want.get(arm) ?? { n: 0, reactivated: 0 }
      expect(row.arms.find((a) => a.arm === arm)!.n, `${row.value} ${arm}`).toBe(cell.n)
      const value = row.metrics[0].values.find((v) => v.arm === arm)!
      if (cell.n > 0) expect(value.value!, `${row.value} ${arm}`).toBeCloseTo(cell.reactivated / cell.n, 12)
    }
  }
  return expected
}

/** RFM groups against the quintiles among the experiment's customers who had bought before first exposure. */
function rfmGroups(): Map<string, string> {
  const cut = referenceRfmCuts([...customers.values()].map((c) => c.features))
  return new Map([...customers].map(([id, c]) => [id, rfmScore(c.features, cut)?.group ?? 'no_purchases']))
}

describe('report breakdowns by features and segments as of first exposure', () => {
  it('splits by lapse stage exactly as the brute force over events before each first exposure', async () => {
    const body = await report('feature:lapse_stage')
    expect(body.breakdown!.source).toEqual({ kind: 'feature', key: 'lapse_stage' })
    const groups = expectRows(body, (c) => c.features.lapse_stage)
    // Every stage is populated, so a customer moved by a leaked purchase would show.
    expect([...groups.keys()].sort()).toEqual(['active', 'dormant', 'lapsed', 'none', 'slipping'])
    // Leakage would be visible: many customers bought at or after their first exposure, before asOf.
    const boughtAtOrAfter = [...customers.values()].filter((c) => c.reactivated && c.features.lapse_stage !== 'active').length
    expect(boughtAtOrAfter).toBeGreaterThan(50)
    // The totals are the unbroken report's.
    const total = body.breakdown!.segments.reduce((s, r) => s + r.arms.reduce((t, a) => t + a.n, 0), 0)
    expect(total).toBe(body.totalCustomers)
  })

  it('splits by last offer response and by RFM group among the experiment’s customers', async () => {
    expectRows(await report('feature:last_offer_response'), (c) => c.features.last_offer_response)
    const groups = rfmGroups()
    const byId = new Map([...customers].map(([id, c]) => [c, id]))
    const expected = expectRows(await report('feature:rfm_group'), (c) => groups.get(byId.get(c as never)!)!)
    expect(expected.size).toBeGreaterThanOrEqual(5)
  })

  it('splits by membership of a saved segment, at its latest version, rules over RFM included', async () => {
    const lapsed = await report('segment:deal_seeking_lapsed')
    expect(lapsed.breakdown!.source).toEqual({ kind: 'segment', key: 'deal_seeking_lapsed', name: 'deal seeking lapsed', version: 1 })
    const inRule = (f: CustomerFeatures) => ['lapsed', 'dormant'].includes(f.lapse_stage) && (f.discount_affinity ?? 0) >= 0.2
    const split = expectRows(lapsed, (c) => (inRule(c.features) ? 'in segment' : 'not in segment'))
    expect(split.size).toBe(2)

    const groups = rfmGroups()
    const byId = new Map([...customers].map(([id, c]) => [c, id]))
    expectRows(await report('segment:valuable'), (c) =>
      ['champions', 'loyal', 'cant_lose_them'].includes(groups.get(byId.get(c as never)!)!) ? 'in segment' : 'not in segment',
    )

    // A new version changes the split (and the cached report is not served for it).
    const v2 = await h.call('POST', '/v1/segments/deal_seeking_lapsed/versions', {
      key: 'deal_seeking_lapsed',
      name: 'deal seeking lapsed',
      rule: { lapse_stage: 'dormant' },
    })
    expect(v2.status, JSON.stringify(v2.body)).toBeLessThan(300)
    const after = await report('segment:deal_seeking_lapsed')
    expect(after.breakdown!.source).toMatchObject({ version: 2 })
    expectRows(after, (c) => (c.features.lapse_stage === 'dormant' ? 'in segment' : 'not in segment'))
  })

  it('refuses an unknown or numeric feature and an unknown segment with a 400 naming the dimension', async () => {
    for (const [dimension, message] of [
      ['feature:recency_days', /is a number: define a segment/],
      ['feature:nope', /unknown feature 'nope'/],
      ['segment:no_such_segment', /unknown segment 'no_such_segment'/],
      ["segment:x' OR 1=1", /is not a segment key/],
    ] as const) {
      const res = await h.call('GET', `/v1/experiments/fbreak/report?asOf=${AS_OF}&dimension=${encodeURIComponent(dimension)}`)
      expect(res.status, dimension).toBe(400)
      expect(res.body.error.field).toBe('dimension')
      expect(res.body.error.message).toMatch(message)
    }
  })
})
