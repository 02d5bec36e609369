import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { getExperiment } from '../../api/experiments/store.ts'
import { experimentReport } from '../../api/reports/experiment-report.ts'
import { liftTimeseries } from '../../api/reports/timeseries.ts'
import { offerLibrary } from '../../api/reports/library.ts'
import { customerSlices } from '../../api/reports/customer-slices.ts'
import type { RawEvent } from '../helpers/raw-event.ts'

/** Deep equality with numbers compared to 9 significant digits (slices add float sums in another order). */
function expectSameNumbers(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const tolerance = 1e-9 * Math.max(1, Math.abs(expected))
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance)
  } else if (expected && typeof expected === 'object') {
    expect(actual && typeof actual === 'object', path).toBe(true)
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual as object)])
    for (const k of keys) expectSameNumbers((actual as any)[k], (expected as any)[k], `${path}.${k}`)
  } else {
    expect(actual, path).toEqual(expected)
  }
}

const DAY = 86_400_000
const T0 = Date.parse('2026-08-01T00:00:00Z')
const AS_OF = T0 + 40 * DAY
let clock = T0
let h: Harness

const globalHeld = new Map<string, number>()
const exposures = new Map<string, { arm: string; t0: number }>()
const events: RawEvent[] = []

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  const created = await h.call('POST', '/v1/experiments', {
    id: 'winback',
    name: 'Win-back',
    holdoutPct: 0.2,
    arms: [
      { key: 'control', name: 'Message only', weight: 0.4, isControl: true },
      { key: 'pct15', name: '15% off', weight: 0.3, offer: { type: 'percent_off', value: 15 } },
      { key: 'freeship', name: 'Free shipping', weight: 0.3, offer: { type: 'free_shipping', value: 0 } },
    ],
    analysis: { attributionDays: 30, ltvDays: 60, cuped: { enabled: true, lookbackDays: 90 }, defaultMarginRate: 0.3, multipleTesting: 'holm' },
  })
  expect(created.status).toBe(201)
  await h.call('POST', '/v1/experiments/winback/start')
  await h.call('PUT', '/v1/settings', {}) // no-op: the global holdout stays at its default

  const rand = mulberry32(7)
  const ids = Array.from({ length: 3000 }, (_, i) => `cust-${i}`)
  // Exposures spread over 20 days; a tenth of customers are assigned again later (only the first counts).
  for (let day = 0; day < 20; day++) {
    clock = T0 + day * DAY + 3_600_000
    const cohort = ids.filter((_, i) => i % 20 === day)
    const res = await h.call('POST', '/v1/assign/batch', {
      experimentId: 'winback',
      customers: cohort.map((customerId) => ({ customerId, attributes: { tier: rand() < 0.3 ? 'gold' : 'silver' } })),
    })
    for (const a of res.body.assignments) {
      if (a.inExperiment) exposures.set(a.customerId, { arm: a.arm, t0: clock })
      else if (a.reason === 'global_holdout') globalHeld.set(a.customerId, clock)
    }
  }
  clock = T0 + 25 * DAY
  const again = ids.filter((_, i) => i % 10 === 3)
  await h.call('POST', '/v1/assign/batch', { experimentId: 'winback', customers: again.map((customerId) => ({ customerId })) })

  // Raw events around each customer's exposure: before it (pre-period), inside and after the window, after asOf.
  let n = 0
  for (const id of ids) {
    const k = Math.floor(rand() * 7)
    const base = exposures.get(id)?.t0 ?? T0
    for (let j = 0; j < k; j++) {
      const ts = base + Math.round((rand() * 170 - 100) * DAY)
      if (ts < T0 - 100 * DAY || ts > Date.now()) continue
      const r = rand()
      const e: RawEvent =
        r < 0.55
          ? {
              eventId: `e${n++}`,
              customerId: id,
              type: 'purchase',
              ts,
              revenue: Math.round(Math.exp(3 + rand()) * 100) / 100,
              ...(rand() < 0.5 ? { margin: Math.round(rand() * 2000) / 100 } : {}),
            }
          : r < 0.65
            ? { eventId: `e${n++}`, customerId: id, type: 'refund', ts, revenue: Math.round(rand() * 3000) / 100 }
            : r < 0.85
              ? {
                  eventId: `e${n++}`,
                  customerId: id,
                  type: 'offer_redeemed',
                  ts,
                  cost: Math.round(rand() * 800) / 100,
                  experimentId: rand() < 0.85 ? 'winback' : 'other-test',
                }
              : r < 0.92
                ? { eventId: `e${n++}`, customerId: id, type: 'unsubscribe', ts }
                : { eventId: `e${n++}`, customerId: id, type: 'offer_opened', ts, experimentId: 'winback' }
      events.push(e)
    }
  }
  // Send in batches, then resend a slice as duplicates (another batch) and some events twice in one batch.
  for (let i = 0; i < events.length; i += 2000) expect((await h.call('POST', '/v1/events', events.slice(i, i + 2000))).status).toBe(200)
  await h.call('POST', '/v1/events', events.slice(100, 900))
  await h.call('POST', '/v1/events', [...events.slice(5, 10), ...events.slice(5, 10)])
}, 120_000)
afterAll(() => h.close())

/** Brute force over the raw rows with the DESIGN.md definitions. */
function bruteForce() {
  const unique = new Map(events.map((e) => [e.eventId, e]))
  const per = new Map<string, Record<string, number>>()
  for (const [id, { arm }] of exposures) per.set(id, { arm: arm as never, orders: 0, gross: 0, refunds: 0, ltv: 0, cost: 0, redeemed: 0, unsub: 0, margin: 0 })
  for (const e of unique.values()) {
    const x = exposures.get(e.customerId)
    if (!x || e.ts > AS_OF) continue
    const p = per.get(e.customerId)!
    const dt = e.ts - x.t0
    const inWin = dt >= 0 && dt < 30 * DAY
    const inLtv = dt >= 0 && dt < 60 * DAY
    const m = e.margin ?? (e.revenue ?? 0) * 0.3
    if (e.type === 'purchase') {
      if (inWin) {
        p.orders++
        p.gross += e.revenue!
        p.margin += m
      }
      if (inLtv) p.ltv += e.revenue!
    }
    if (e.type === 'refund') {
      if (inWin) {
        p.refunds += e.revenue!
        p.margin -= m
      }
      if (inLtv) p.ltv -= e.revenue!
    }
    if (e.type === 'offer_redeemed' && e.experimentId === 'winback' && inWin) {
      p.cost += e.cost!
      p.redeemed = 1
    }
    if (e.type === 'unsubscribe' && inWin) p.unsub = 1
  }
  const byArm = new Map<string, Record<string, number>[]>()
  for (const p of per.values()) byArm.set(p.arm as unknown as string, [...(byArm.get(p.arm as unknown as string) ?? []), p])
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length
  const out = new Map<string, Record<string, number>>()
  for (const [arm, ps] of byArm) {
    out.set(arm, {
      n: ps.length,
      redemption: mean(ps.map((p) => p.redeemed)),
      reactivation: mean(ps.map((p) => (p.orders >= 1 ? 1 : 0))),
      repeat_purchase: mean(ps.map((p) => (p.orders >= 2 ? 1 : 0))),
      revenue: mean(ps.map((p) => p.gross - p.refunds)),
      ltv: mean(ps.map((p) => p.ltv)),
      orders: mean(ps.map((p) => p.orders)),
      aov: ps.reduce((s, p) => s + p.gross, 0) / ps.reduce((s, p) => s + p.orders, 0),
      incentive_cost: mean(ps.map((p) => p.cost)),
      net_value: mean(ps.map((p) => p.margin - p.cost)),
      unsubscribe: mean(ps.map((p) => p.unsub)),
    })
  }
  return out
}

describe('experiment report metrics', () => {
  it('counts by default only customers whose window has ended, and says how many are still inside it', async () => {
    const res = await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&metrics=reactivation`)
    const matureByArm = new Map<string, number>()
    let immature = 0
    for (const { arm, t0 } of exposures.values()) {
      if (t0 + 30 * DAY <= AS_OF) matureByArm.set(arm, (matureByArm.get(arm) ?? 0) + 1)
      else immature++
    }
    expect(immature).toBeGreaterThan(0)
    for (const arm of res.body.arms) expect(arm.n, arm.key).toBe(matureByArm.get(arm.key) ?? 0)
    expect(res.body.health.maturity).toMatchObject({ included: false, immature, enrolled: exposures.size })
  })

  it('match a brute-force computation over the same raw rows for every arm and metric (immature customers included)', async () => {
    const res = await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&include=immature`)
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200)
    const expected = bruteForce()
    const report = res.body
    expect(report.arms.map((a: any) => a.key).sort()).toEqual([...expected.keys()].sort())
    for (const arm of report.arms) expect(arm.n).toBe(expected.get(arm.key)!.n)
    let checked = 0
    for (const metric of report.metrics) {
      if (metric.kind === 'survival') continue
      for (const v of metric.values) {
        const want = expected.get(v.arm)![metric.key]
        expect(v.value, `${metric.key} / ${v.arm}`).toBeCloseTo(want, 9)
        checked++
      }
    }
    expect(checked).toBe(10 * 4)
  })

  it('counts time to first purchase per arm with every customer either an event or censored', async () => {
    const res = await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&metrics=time_to_purchase,reactivation`)
    const km = res.body.metrics.find((m: any) => m.key === 'time_to_purchase')
    const reactivation = res.body.metrics.find((m: any) => m.key === 'reactivation')
    for (const s of km.survival) {
      const v = reactivation.values.find((x: any) => x.arm === s.arm)
      expect(s.n).toBe(v.n)
      expect(s.events).toBe(Math.round(v.value * v.n))
      // Customers followed into the last, partly observed day stay at risk for it: the curve must not fall
      // to "everyone purchased" while most customers have not.
      expect(s.events).toBeLessThan(s.n / 2)
      expect(s.points.at(-1).survival).toBeGreaterThan(0.2)
    }
  })

  it('follows customers who purchased in the window to their next purchase (time to repurchase)', async () => {
    const res = await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&metrics=time_to_repurchase,reactivation&include=immature`)
    const repurchase = res.body.metrics.find((m: any) => m.key === 'time_to_repurchase')
    const reactivation = res.body.metrics.find((m: any) => m.key === 'reactivation')
    // Brute force: the first purchase in [t0, t0 + 30 d), then the next one within 30 days of it and by asOf.
    const unique = new Map(events.map((e) => [e.eventId, e]))
    const times = new Map<string, number[]>()
    for (const e of unique.values()) {
      const x = exposures.get(e.customerId)
      if (!x || e.type !== 'purchase' || e.ts > AS_OF || e.ts < x.t0) continue
      times.set(e.customerId, [...(times.get(e.customerId) ?? []), e.ts])
    }
    const expected = new Map<string, { n: number; events: number }>()
    for (const [id, ts] of times) {
      ts.sort((a, b) => a - b)
      const x = exposures.get(id)!
      if (ts[0] - x.t0 >= 30 * DAY) continue
      const e = expected.get(x.arm) ?? { n: 0, events: 0 }
      e.n++
      if (ts.length >= 2 && ts[1] - ts[0] < 30 * DAY) e.events++
      expected.set(x.arm, e)
    }
    for (const s of repurchase.survival) {
      const v = reactivation.values.find((x: any) => x.arm === s.arm)
      expect(s.n, s.arm).toBe(Math.round(v.value * v.n))
      expect({ n: s.n, events: s.events }, s.arm).toEqual(expected.get(s.arm) ?? { n: 0, events: 0 })
    }
    for (const c of repurchase.comparisons) if (c.ci) expect(c.significant).toBe(c.ci[0] > 0 || c.ci[1] < 0)
    expect(repurchase.summary).toMatch(/^Time to repurchase — /)
  })

  it('keeps customers followed into a partly observed day at risk in a young experiment', async () => {
    // Five and a half days in, every window is open: the last day is observed only in part for everyone.
    const res = await h.call('GET', `/v1/experiments/winback/report?asOf=${T0 + 5.5 * DAY}&metrics=time_to_purchase`)
    for (const s of res.body.metrics[0].survival) {
      if (!s.n) continue
      expect(s.events).toBeLessThan(s.n / 2)
      expect(s.points.at(-1).survival, s.arm).toBeGreaterThan(0.3)
    }
  })

  it('compares each variant with control and each arm with the holdout, adjusting each test family on its own', async () => {
    const { body } = await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&include=immature`)
    const reactivation = body.metrics.find((m: any) => m.key === 'reactivation')
    const pairs = reactivation.comparisons.map((c: any) => `${c.variant}:${c.against}`).sort()
    expect(pairs).toEqual(['control:holdout', 'freeship:control', 'freeship:holdout', 'pct15:control', 'pct15:holdout'])
    const all = body.metrics.flatMap((m: any) => m.comparisons).filter((c: any) => c.pValue !== null)
    const expectedMethod: Record<string, string> = { decision: 'holm', guardrail: 'holm', secondary: 'bh', holdout: 'holm' }
    for (const c of all) {
      expect(c.adjustedPValue).toBeGreaterThanOrEqual(c.pValue - 1e-12)
      expect(c.adjustment).toBe(expectedMethod[c.family])
      // The displayed interval is the family-adjusted one, and the verdict agrees with it.
      if (c.ci) expect(c.significant).toBe(c.ci[0] > 0 || c.ci[1] < 0)
    }
    expect(new Set(all.map((c: any) => c.family))).toEqual(new Set(['decision', 'guardrail', 'secondary', 'holdout']))
    const revenue = body.metrics.find((m: any) => m.key === 'revenue')
    expect(revenue.comparisons[0].cuped).not.toBeNull()
    expect(typeof revenue.summary).toBe('string')
    expect(body.srm.pValue).toBeGreaterThan(0)
    expect(body.economics.length).toBe(5)
    expect(JSON.stringify(body)).not.toMatch(/NaN|Infinity/)
  })

  it('breaks the report down by an attribute captured at first exposure', async () => {
    const { body } = await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&dimension=tier&metrics=reactivation`)
    const values = body.breakdown.segments.map((s: any) => s.value).sort()
    expect(values).toEqual(['gold', 'silver'])
    const total = body.breakdown.segments.reduce((s: number, seg: any) => s + seg.arms.reduce((t: number, a: any) => t + a.n, 0), 0)
    expect(total).toBe(body.totalCustomers)
  })

  it('lists the attributes captured at first exposure, with customers and distinct values, to viewers', async () => {
    const viewer = await h.keyFor('viewer')
    const res = await h.call('GET', '/v1/experiments/winback/attributes', undefined, viewer)
    expect(res.status).toBe(200)
    // Every analysed customer had a tier at first exposure (the later re-assignment sent none).
    expect(res.body.attributes).toEqual([{ key: 'tier', customers: exposures.size, values: 2 }])
    expect((await h.call('GET', '/v1/experiments/nope/attributes', undefined, viewer)).status).toBe(404)
    expect((await h.call('GET', '/v1/experiments/winback/attributes', undefined, null)).status).toBe(401)
  })

  it('plots cumulative lift over time whose last point matches the report', async () => {
    const { body } = await h.call('GET', `/v1/experiments/winback/timeseries?asOf=${AS_OF}&metrics=reactivation`)
    const series = body.series[0]
    const last = series.points.filter((p: any) => p.at === new Date(AS_OF).toISOString())
    const report = (await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&metrics=reactivation`)).body
    for (const p of last) {
      const c = report.metrics[0].comparisons.find((x: any) => x.variant === p.arm && x.against === 'control')
      expect(p.estimate).toBeCloseTo(c.estimate, 12)
    }
    const cuts = [...new Set(series.points.map((p: any) => p.at))] as string[]
    expect(cuts.length).toBeGreaterThan(5)
    // An intermediate point equals the report as of just before that cut.
    const mid = cuts[Math.floor(cuts.length / 2)]
    const then = (await h.call('GET', `/v1/experiments/winback/report?asOf=${Date.parse(mid) - 1}&metrics=reactivation`)).body
    for (const p of series.points.filter((x: any) => x.at === mid)) {
      const c = then.metrics[0].comparisons.find((x: any) => x.variant === p.arm && x.against === 'control')
      expect(p.n).toBe(then.arms.find((a: any) => a.key === p.arm).n)
      expect(p.estimate).toBeCloseTo(c.estimate, 12)
    }
  })

  it('computes lift over time for another outcome window like the report with that window', async () => {
    const series = (await h.call('GET', `/v1/experiments/winback/timeseries?asOf=${AS_OF}&metrics=reactivation&window=7`)).body.series[0]
    const report = (await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&metrics=reactivation&window=7`)).body
    const full = (await h.call('GET', `/v1/experiments/winback/report?asOf=${AS_OF}&metrics=reactivation`)).body
    const last = series.points.filter((p: any) => p.at === new Date(AS_OF).toISOString() && p.against === 'control')
    expect(last.length).toBe(2)
    for (const p of last) {
      const c = report.metrics[0].comparisons.find((x: any) => x.variant === p.arm && x.against === 'control')
      expect(p.estimate).toBeCloseTo(c.estimate, 12)
    }
    // A 7-day window reactivates fewer customers than the 30-day one.
    const value = (r: any) => r.metrics[0].values.find((v: any) => v.arm === 'control').value
    expect(value(report)).toBeLessThan(value(full))
  })

  it('computes program KPIs (treated vs global holdout) that match a brute force over the raw rows', async () => {
    clock = AS_OF
    const res = await h.call('GET', `/v1/kpis?from=${T0 - DAY}&to=${AS_OF}&include=immature`)
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
    const unique = new Map(events.map((e) => [e.eventId, e]))
    const groups = { treated: [] as Array<[string, number]>, global_holdout: [] as Array<[string, number]> }
    for (const [id, x] of exposures) if (x.arm !== 'holdout') groups.treated.push([id, x.t0])
    for (const [id, t0] of globalHeld) groups.global_holdout.push([id, t0])
    const brute = (members: Array<[string, number]>) => {
      const t0s = new Map(members)
      let reactivated = 0,
        revenue = 0,
        spend = 0
      const bought = new Set<string>()
      for (const e of unique.values()) {
        const t0 = t0s.get(e.customerId)
        if (t0 === undefined || e.ts > AS_OF || e.ts < t0 || e.ts >= t0 + 30 * DAY) continue
        if (e.type === 'purchase') {
          revenue += e.revenue!
          bought.add(e.customerId)
        }
        if (e.type === 'refund') revenue -= e.revenue!
        if (e.type === 'offer_redeemed') spend += e.cost!
      }
      reactivated = bought.size
      return { n: members.length, reactivationRate: reactivated / members.length, revenuePerCustomer: revenue / members.length, spend }
    }
    const t = brute(groups.treated)
    const g = brute(groups.global_holdout)
    // Net value per customer: margin (given, or 30% of revenue) of purchases less refunds, less incentive cost.
    const netPerCustomer = (members: Array<[string, number]>) => {
      const t0s = new Map(members)
      const net = new Map(members.map(([id]) => [id, 0]))
      for (const e of unique.values()) {
        const t0 = t0s.get(e.customerId)
        if (t0 === undefined || e.ts > AS_OF || e.ts < t0 || e.ts >= t0 + 30 * DAY) continue
        const margin = e.margin ?? (e.revenue ?? 0) * 0.3
        if (e.type === 'purchase') net.set(e.customerId, net.get(e.customerId)! + margin)
        if (e.type === 'refund') net.set(e.customerId, net.get(e.customerId)! - margin)
        if (e.type === 'offer_redeemed') net.set(e.customerId, net.get(e.customerId)! - e.cost!)
      }
      return [...net.values()].reduce((a, b) => a + b, 0) / members.length
    }
    const incrementalNet = (netPerCustomer(groups.treated) - netPerCustomer(groups.global_holdout)) * t.n
    expect(res.body.incrementalNetValue.estimate).toBeCloseTo(incrementalNet, 6)
    // ROI's interval is the net value's over the observed spend, so it excludes zero exactly when that one does.
    const [lo, hi] = res.body.incrementalNetValue.ci
    expect(res.body.roi).toBeCloseTo(incrementalNet / t.spend, 9)
    expect(res.body.roiCi[0]).toBeCloseTo(lo / t.spend, 9)
    expect(res.body.roiCi[1]).toBeCloseTo(hi / t.spend, 9)
    expect(res.body.headline.outcome).toBe(lo > 0 ? 'earned' : hi < 0 ? 'lost' : 'unclear')
    // The weeks add up to the period, and the only experiment is the whole program.
    const monday = (ms: number) => {
      const d = new Date(ms)
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7))).toISOString().slice(0, 10)
    }
    for (const w of res.body.weekly) {
      const inWeek = (members: Array<[string, number]>) => members.filter(([, t0]) => monday(t0) === w.week)
      const treated = inWeek(groups.treated)
      const held = inWeek(groups.global_holdout)
      expect(w.treated.n).toBe(treated.length)
      if (held.length >= 2 && treated.length >= 2)
        expect(w.incrementalNetValue.estimate).toBeCloseTo((netPerCustomer(treated) - netPerCustomer(held)) * treated.length, 6)
    }
    expect(res.body.programs).toHaveLength(1)
    expect(res.body.programs[0]).toMatchObject({ experimentId: 'winback', treated: { n: t.n }, globalHoldout: { n: g.n } })
    expect(res.body.programs[0].incrementalNetValue.estimate).toBeCloseTo(incrementalNet, 6)
    // Everyone was first exposed more than 28 days before `to`… except the last cohorts: the run rate counts them.
    const recent = [...groups.treated].filter(([, t0]) => t0 >= AS_OF - 28 * DAY).length
    expect(res.body.projectedAnnual.basisDays).toBe(28)
    expect(res.body.projectedAnnual.treatedPerYear).toBeCloseTo((recent / 28) * 365, 9)
    expect(res.body.projectedAnnual.netValue.estimate).toBeCloseTo((incrementalNet / t.n) * (recent / 28) * 365, 6)
    expect(res.body.treated.n).toBe(t.n)
    expect(res.body.globalHoldout.n).toBe(g.n)
    expect(res.body.treated.reactivationRate).toBeCloseTo(t.reactivationRate, 12)
    expect(res.body.globalHoldout.revenuePerCustomer).toBeCloseTo(g.revenuePerCustomer, 9)
    expect(res.body.incentiveSpend).toBeCloseTo(t.spend, 6)
    expect(res.body.incrementalRevenue.estimate).toBeCloseTo((t.revenuePerCustomer - g.revenuePerCustomer) * t.n, 6)
    expect(res.body.weekly.reduce((s: number, w: any) => s + w.treated.n, 0)).toBe(t.n)
    expect(res.body.experiments.running).toBe(1)
  })

  it('takes the period as `days` ending now (minute-rounded, so repeated loads share a result), or as dates', async () => {
    clock = AS_OF + 12_345
    const last = await h.call('GET', '/v1/kpis?days=45')
    expect(last.status).toBe(200)
    expect(last.body).toMatchObject({ periodLabel: 'the last 45 days', from: new Date(AS_OF - 45 * DAY).toISOString(), to: new Date(AS_OF).toISOString() })
    const dated = await h.call('GET', `/v1/kpis?from=${T0}&to=${T0 + 30 * DAY}`)
    expect(dated.body.periodLabel).toBe('1 Aug 2026 to 30 Aug 2026')
    const both = await h.call('GET', `/v1/kpis?from=${T0}&days=30`)
    expect(both.status).toBe(400)
    expect(both.body.error).toMatchObject({ code: 'invalid_input', field: 'days' })
    clock = AS_OF
  })

  it('lists the winning offer per segment in the library once the experiment is stopped with a decision', async () => {
    expect((await h.call('GET', '/v1/library')).body.rows).toEqual([])
    await h.call('POST', '/v1/experiments/winback/stop')
    await h.call('POST', '/v1/experiments/winback/notes', { kind: 'decision', body: 'free shipping for gold', chosenArm: 'freeship' })
    const { body } = await h.call('GET', '/v1/library')
    const dims = new Set(body.rows.map((r: any) => `${r.dimension}=${r.segment}`))
    expect(dims).toEqual(new Set(['(all)=all customers', 'tier=gold', 'tier=silver']))
    const all = body.rows.find((r: any) => r.dimension === '(all)')
    const segs = body.rows.filter((r: any) => r.dimension === 'tier')
    expect(segs.reduce((s: number, r: any) => s + r.n, 0)).toBe(all.n)
    expect(all).toMatchObject({ experimentId: 'winback', chosenArm: 'freeship', metric: 'reactivation' })
    expect(all.comparisons.map((c: any) => c.variant).sort()).toEqual(['freeship', 'pct15'])
  })

  it('gives the same report, timeseries and library when large experiments are computed in customer slices', async () => {
    // ~2,400 analysed customers in slices of ~150: each customer must land in exactly one slice and the
    // per-slice sufficient statistics must add up to the single pass (to rounding of the float sums).
    const exp = (await getExperiment(h.db, 'winback'))!
    const sliced = { customersPerSlice: 150 }
    const slices = await customerSlices(h.ch, 'winback', AS_OF, 150)
    expect(slices.length).toBeGreaterThan(10)
    expectSameNumbers(
      await experimentReport(h.ch, exp, { asOf: AS_OF, dimension: 'tier' }, AS_OF, sliced),
      await experimentReport(h.ch, exp, { asOf: AS_OF, dimension: 'tier' }, AS_OF),
    )
    expectSameNumbers(
      await liftTimeseries(h.ch, exp, { asOf: AS_OF, points: 10 }, AS_OF, sliced),
      await liftTimeseries(h.ch, exp, { asOf: AS_OF, points: 10 }, AS_OF),
    )
    expectSameNumbers(await offerLibrary(h.ch, [exp], sliced), await offerLibrary(h.ch, [exp]))
    // A brute-force check of the sliced report itself, not only agreement with the single pass.
    const expected = bruteForce()
    const report = await experimentReport(h.ch, exp, { asOf: AS_OF, include: 'immature' }, AS_OF, sliced)
    for (const arm of report.arms) expect(arm.n).toBe(expected.get(arm.key)!.n)
    const revenue = report.metrics.find((m) => m.key === 'revenue')!
    for (const v of revenue.values) expect(v.value).toBeCloseTo(expected.get(v.arm)!.revenue, 9)
  })

  it('rejects unknown metrics and bad asOf values, and reports nothing for a draft', async () => {
    expect((await h.call('GET', '/v1/experiments/winback/report?metrics=bogus')).body.error.field).toBe('metrics')
    expect((await h.call('GET', '/v1/experiments/winback/report?asOf=yesterday')).status).toBe(400)
    await h.call('POST', '/v1/experiments', {
      id: 'drafty',
      name: 'Draft',
      arms: [
        { key: 'a', name: 'A', weight: 0.5, isControl: true },
        { key: 'b', name: 'B', weight: 0.5 },
      ],
    })
    expect((await h.call('GET', '/v1/experiments/drafty/report')).status).toBe(409)
  })
})
