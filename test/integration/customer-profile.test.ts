import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { quintileCuts as cuts, referenceFeatures } from '../helpers/features-reference.ts'
import type { RawEvent } from '../helpers/raw-event.ts'

/**
 * GET /v1/customers/:id/profile (issue 20): a customer's features as of now agree with the brute force over the
 * events sent, RFM scores place them among all buyers by the quintiles computed here from those same features,
 * and the segments listed are exactly the live ones whose rule they meet.
 */

const DAY = 86_400_000
const NOW = Date.parse('2026-06-01T00:00:00Z')
const CUSTOMERS = 60
const rng = mulberry32(7)
const events: RawEvent[] = []
let h: Harness
let viewer: string

function world() {
  for (let c = 0; c < CUSTOMERS; c++) {
    const customerId = `p-${c}`
    // Customer c buys c % 6 + 1 times, the last purchase c * 4 days ago, orders of c-dependent size.
    const orders = (c % 6) + 1
    const last = NOW - c * 4 * DAY - 3_600_000
    for (let k = 0; k < orders; k++) {
      const revenue = Math.round((20 + ((c * 37) % 90) + rng() * 10) * 100) / 100
      events.push({ eventId: `${customerId}:o${k}`, customerId, type: 'purchase', ts: last - k * 20 * DAY, revenue })
    }
    if (c % 3 === 0) {
      events.push({ eventId: `${customerId}:s`, customerId, type: 'offer_sent', ts: last - 2 * DAY })
      events.push({ eventId: `${customerId}:r`, customerId, type: 'offer_redeemed', ts: last - DAY, cost: 5 })
    }
  }
  // Someone who was only ever sent an offer.
  events.push({ eventId: 'p-sent:s', customerId: 'p-sent', type: 'offer_sent', ts: NOW - 3 * DAY })
}

const quintile = (x: number, cs: number[]) => 1 + cs.filter((c) => c < x).length

const profile = async (id: string, key?: string) => h.call('GET', `/v1/customers/${encodeURIComponent(id)}/profile`, undefined, key ?? viewer)

beforeAll(async () => {
  world()
  h = await openHarness({ now: () => NOW })
  viewer = await h.keyFor('viewer')
  const res = await h.call('POST', '/v1/events', events)
  expect(res.status).toBe(200)
  expect(res.body.rejected).toEqual([])
  const segment = (key: string, rule: unknown) =>
    h.call('POST', '/v1/segments', { key, name: key, rule }).then((r) => expect(r.status, JSON.stringify(r.body)).toBe(201))
  await segment('deal_seekers', { discount_affinity: { $gte: 0.2 }, lapse_stage: { $ne: 'none' } })
  await segment('recent', { recency_days: { $exists: true, $lte: 30 } })
  await segment('never_bought', { rfm_group: 'no_purchases' })
  await segment('champions', { rfm_group: 'champions' })
  await segment('retired', { orders_365d: { $gte: 0 } })
  expect((await h.call('POST', '/v1/segments/retired/archive')).status).toBe(200)
})

afterAll(() => h?.close())

describe('the customer profile', () => {
  it("gives each customer's features as of now, RFM scores among buyers and the live segments they meet", async () => {
    const byCustomer = new Map<string, RawEvent[]>()
    for (const e of events) byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e])
    const expected = new Map([...byCustomer].map(([id, es]) => [id, referenceFeatures(es, NOW)]))
    const buyers = [...expected.values()].filter((f) => f.recency_days !== null)
    const [rc, fc, mc] = [cuts(buyers.map((f) => f.recency_days!)), cuts(buyers.map((f) => f.orders_365d)), cuts(buyers.map((f) => f.monetary_365d))]
    const groups = new Set<string>()
    for (const [id, f] of expected) {
      const res = await profile(id)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      const p = res.body
      expect(p.customerId).toBe(id)
      expect(p.asOf).toBe(new Date(NOW).toISOString())
      for (const [name, v] of Object.entries(f))
        if (typeof v === 'number') expect(p.features[name], `${id} ${name}`).toBeCloseTo(v, 9)
        else expect(p.features[name], `${id} ${name}`).toBe(v)
      if (f.recency_days === null) {
        expect(p.rfm).toBeNull()
        expect(p.rfmGroup).toBe('no_purchases')
      } else {
        expect([p.rfm.r, p.rfm.f, p.rfm.m], id).toEqual([6 - quintile(f.recency_days, rc), quintile(f.orders_365d, fc), quintile(f.monetary_365d, mc)])
        expect(p.rfmGroup).toBe(p.rfm.group)
      }
      groups.add(p.rfmGroup)
      const want = [
        (f.discount_affinity ?? 0) >= 0.2 && f.lapse_stage !== 'none' ? 'deal_seekers' : null,
        f.recency_days !== null && f.recency_days <= 30 ? 'recent' : null,
        p.rfmGroup === 'no_purchases' ? 'never_bought' : null,
        p.rfmGroup === 'champions' ? 'champions' : null,
      ].filter(Boolean)
      expect(p.segments.map((s: { key: string }) => s.key).sort(), id).toEqual(want.sort())
      for (const s of p.segments) expect(s.version).toBe(1)
    }
    // The world spreads customers over several groups, champions among them, so the checks above bite.
    expect(groups.size).toBeGreaterThanOrEqual(4)
    expect(groups).toContain('champions')
  })

  it('answers for a customer with no events as someone who never bought', async () => {
    const res = await profile('nobody-at-all')
    expect(res.status).toBe(200)
    expect(res.body.features).toEqual(referenceFeatures([], NOW))
    expect(res.body.rfm).toBeNull()
    expect(res.body.segments.map((s: { key: string }) => s.key)).toEqual(['never_bought'])
  })

  it('takes any printable id as a path parameter and refuses a control character with 400', async () => {
    expect((await profile("o'brien; DROP TABLE events --")).status).toBe(200)
    const bad = await profile('a\u0001b')
    expect(bad.status).toBe(400)
    expect((await h.call('GET', '/v1/customers/p-1/profile', undefined, null)).status).toBe(401)
    expect((await profile('p-1', await h.keyFor('ingest'))).status).toBe(403)
  })
})
