/**
 * Segment heterogeneity in the experiment report (issue 20, item 5): a seeded world where free shipping multiplies
 * reactivation by 2.5 among lapsed customers and by 1.2 elsewhere, while 15% off multiplies every recency band's
 * (different) baseline by 1.2; the channel customers came through plays no part in either. Through the real API
 * and stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import type { RawEvent } from '../helpers/raw-event.ts'
import type { BreakdownHeterogeneity, ExperimentReport } from '../../api/contract/index.ts'

const DAY = 86_400_000
const T0 = Date.parse('2026-09-01T00:00:00Z')
const AS_OF = T0 + 45 * DAY
const RECENCY = ['active', 'slipping', 'lapsed', 'dormant']
const CHANNELS = ['email', 'sms', 'push']
const BASE_RATE: Record<string, number> = { active: 0.3, slipping: 0.2, lapsed: 0.1, dormant: 0.05 }
const LIFT = (arm: string, recency: string) => (arm === 'control' ? 1 : arm === 'freeship' && recency === 'lapsed' ? 2.5 : 1.2)

let clock = T0
let h: Harness
const customers = new Map<string, { arm: string; recency: string; channel: string; reactivated: boolean }>()

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  const created = await h.call('POST', '/v1/experiments', {
    id: 'hetero',
    name: 'Win-back by recency',
    arms: [
      { key: 'control', name: 'Message only', weight: 0.34, isControl: true },
      { key: 'pct15', name: '15% off', weight: 0.33, offer: { type: 'percent_off', value: 15 } },
      { key: 'freeship', name: 'Free shipping', weight: 0.33, offer: { type: 'free_shipping', value: 0 } },
    ],
    analysis: { primaryMetric: 'reactivation', attributionDays: 30 },
  })
  expect(created.status).toBe(201)
  expect((await h.call('POST', '/v1/experiments/hetero/start')).status).toBe(200)

  const rand = mulberry32(2020)
  const ids = Array.from({ length: 9000 }, (_, i) => `c-${i}`)
  const attributes = new Map(ids.map((id) => [id, { recency: RECENCY[Math.floor(rand() * 4)], channel: CHANNELS[Math.floor(rand() * 3)] }]))
  for (let i = 0; i < ids.length; i += 3000) {
    clock = T0 + (i / 3000) * DAY
    const batch = ids.slice(i, i + 3000)
    const res = await h.call('POST', '/v1/assign/batch', {
      experimentId: 'hetero',
      customers: batch.map((customerId) => ({ customerId, attributes: attributes.get(customerId) })),
    })
    expect(res.status).toBe(200)
    for (const a of res.body.assignments) {
      if (!a.inExperiment) continue
      const { recency, channel } = attributes.get(a.customerId)!
      customers.set(a.customerId, { arm: a.arm, recency, channel, reactivated: false })
    }
  }
  const events: RawEvent[] = []
  for (const [id, c] of customers) {
    if (rand() >= BASE_RATE[c.recency] * LIFT(c.arm, c.recency)) continue
    c.reactivated = true
    events.push({ eventId: `p-${id}`, customerId: id, type: 'purchase', ts: T0 + Math.floor((3 + rand() * 20) * DAY), revenue: 40 })
  }
  clock = AS_OF
  for (let i = 0; i < events.length; i += 2000) expect((await h.call('POST', '/v1/events', events.slice(i, i + 2000))).status).toBe(200)
}, 180_000)
afterAll(() => h?.close())

async function report(query: string): Promise<ExperimentReport> {
  const res = await h.call('GET', `/v1/experiments/hetero/report?asOf=${AS_OF}${query}`)
  expect(res.status).toBe(200)
  return res.body
}

/** Reactivation in one segment of one arm, from the raw assignments and events. */
function rate(arm: string, dimension: 'recency' | 'channel', value: string): number {
  const group = [...customers.values()].filter((c) => c.arm === arm && c[dimension] === value)
  return group.filter((c) => c.reactivated).length / group.length
}

function expectVerdictsMatchIntervals(het: BreakdownHeterogeneity): void {
  for (const v of het.variants) for (const s of v.segments) expect(s.ci[0] > 0 || s.ci[1] < 0, `${v.variant} ${s.value}`).toBe(s.differs)
}

describe('segment heterogeneity in the report breakdown', () => {
  it('flags lapsed customers as responding more strongly to free shipping, with an adjusted interval that excludes 0', async () => {
    const body = await report('&dimension=recency&metrics=reactivation')
    const het = body.breakdown!.heterogeneity!
    expect(het).toMatchObject({ metric: 'reactivation', scale: 'relative', adjustment: 'bh', alpha: 0.05, tests: 8 })
    expectVerdictsMatchIntervals(het)

    const freeship = het.variants.find((v) => v.variant === 'freeship')!
    expect(freeship.baseline).toBe('control')
    expect(freeship.k).toBe(4)
    expect(freeship.pValue!).toBeLessThan(0.01)
    expect(freeship.iSquared!).toBeGreaterThan(0.5)
    const lapsed = freeship.segments.find((s) => s.value === 'lapsed')!
    expect(lapsed).toMatchObject({ differs: true, direction: 'above' })
    expect(lapsed.ci[0]).toBeGreaterThan(0)
    // The planted gap in lift (+150% against +20%) lies inside the adjusted interval.
    expect(lapsed.ci[0]).toBeLessThan(1.3)
    expect(lapsed.ci[1]).toBeGreaterThan(1.3)
    // Each segment's effect is the relative lift of the raw reactivation rates, as the breakdown shows it.
    for (const s of freeship.segments) {
      expect(s.estimate).toBeCloseTo(rate('freeship', 'recency', s.value) / rate('control', 'recency', s.value) - 1, 12)
      const shown = body
        .breakdown!.segments.find((x) => x.value === s.value)!
        .metrics[0].comparisons.find((c) => c.variant === 'freeship' && c.against === 'control')!
      expect(s.estimate).toBeCloseTo(shown.estimate!, 12)
    }
    expect(freeship.segments.filter((s) => s.differs).map((s) => s.value)).toEqual(['lapsed'])

    // 15% off lifts every band alike (by a fifth of a baseline that differs by band): nothing is flagged for it.
    const pct15 = het.variants.find((v) => v.variant === 'pct15')!
    expect(pct15.segments.filter((s) => s.differs)).toEqual([])
    expect(het.summary).toMatch(/^Responds differently on reactivation rate after correction across 8 segment × variant comparisons/)
    expect(het.summary).toContain(
      `lapsed to Free shipping (lift +${(lapsed.estimate * 100).toFixed(1)}% vs +${(lapsed.rest.estimate * 100).toFixed(1)}% in the other segments`,
    )
  })

  it('does not flag any channel, a dimension the effects do not depend on', async () => {
    const het = (await report('&dimension=channel&metrics=reactivation')).breakdown!.heterogeneity!
    expectVerdictsMatchIntervals(het)
    expect(het.tests).toBe(6)
    expect(het.variants.flatMap((v) => v.segments.filter((s) => s.differs))).toEqual([])
    expect(het.summary).toBe(
      'No segment responds differently from the average on reactivation rate after correction across 6 segment × variant comparisons (Benjamini–Hochberg).',
    )
    const freeship = het.variants.find((v) => v.variant === 'freeship')!
    for (const s of freeship.segments) expect(s.estimate).toBeCloseTo(rate('freeship', 'channel', s.value) / rate('control', 'channel', s.value) - 1, 12)
  })

  it('tests the primary metric even when the breakdown shows another, and has no breakdown without a dimension', async () => {
    const body = await report('&dimension=recency&metrics=revenue')
    expect(body.breakdown!.segments[0].metrics.map((m) => m.key)).toEqual(['revenue'])
    const het = body.breakdown!.heterogeneity!
    expect(het.metric).toBe('reactivation')
    expect(het.variants.find((v) => v.variant === 'freeship')!.segments.find((s) => s.value === 'lapsed')!.differs).toBe(true)
    expect((await report('&metrics=reactivation')).breakdown).toBeNull()
  })

  it('leaves out segments with too few customers, saying why', async () => {
    // Customers without the attribute form '(not set)'; an attribute nobody sent gives one segment, nothing to test.
    const het = (await report('&dimension=nobody_sends_this&metrics=reactivation')).breakdown!.heterogeneity!
    expect(het.tests).toBe(0)
    for (const v of het.variants) {
      expect(v.q).toBeNull()
      expect(v.skipped).toEqual([{ value: '(not set)', reason: 'the only segment that could be tested' }])
    }
    expect(het.summary).toMatch(/^Too few customers per segment/)
  })
})
