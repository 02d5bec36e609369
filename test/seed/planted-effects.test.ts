import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, ADMIN_KEY, type Harness } from '../helpers/harness.ts'
import { seedThroughApi } from '../../seed/writer-api.ts'
import { allTiers, byTier, type WorldPlan } from '../../seed/experiments.ts'
import { NO_MESSAGE } from '../../seed/simulate.ts'
import { TRUTH_METRICS, type ExperimentTruth, type Truth, type TruthCell } from '../../seed/truth.ts'
import { DAY } from '../../seed/world.ts'

// Issue 5's acceptance, end to end: a seeded world with planted effects goes through the real API (assign
// batch, events) into the real stores, and the reports' intervals are checked against the planted truth.
// The truth is the closed-form expectation of the generator (seed/truth.ts), which world.test.ts checks
// against a large simulation. The world is deterministic (seed 42, hash assignment), so these checks give
// the same answer on every run.

const message = { ...NO_MESSAGE, reactivation: 1.1, daysToPurchase: 9, messaged: true }
const plan: WorldPlan = {
  referenceDaysAgo: 45,
  globalHoldout: { pct: 0.05, seed: 'global-holdout' },
  experiments: [
    {
      definition: {
        id: 'planted',
        name: 'Planted effects',
        arms: [
          { key: 'control', name: 'Message', weight: 0.34, isControl: true },
          { key: 'boost', name: '10% off', weight: 0.33, offer: { type: 'percent_off', value: 10 } },
          { key: 'tiered', name: 'Points', weight: 0.33, offer: { type: 'loyalty_points', value: 400, unitCost: 4 } },
        ],
        holdoutPct: 0.1,
        targeting: { recency: { $in: ['active', 'at_risk'] } },
      },
      timeline: { startDaysAgo: 0, exposureDays: 1 },
      effects: {
        control: allTiers(message),
        // A strong effect everywhere.
        boost: allTiers({ reactivation: 1.4, repeat: 1.2, orderValue: 1.05, redemption: 0.8, daysToPurchase: 5, messaged: true }),
        // Does nothing beyond the message for low-value customers (the control's 1.1), helps the others.
        tiered: byTier({ repeat: 1, orderValue: 1, redemption: 0.5, daysToPurchase: 7, messaged: true }, { low: 1.1, mid: 1.3, high: 1.55 }),
      },
    },
    {
      definition: {
        id: 'aa',
        name: 'A/A',
        arms: [
          { key: 'a', name: 'A', weight: 0.5, isControl: true },
          { key: 'b', name: 'A again', weight: 0.5 },
        ],
        targeting: { recency: { $in: ['lapsed_60_180', 'dormant'] } },
      },
      timeline: { startDaysAgo: 0, exposureDays: 1 },
      effects: { a: allTiers(message), b: allTiers(message) },
    },
  ],
}

const ASSIGNED_AT = Date.now() - 60 * DAY
let clock = ASSIGNED_AT
let h: Harness
let truth: Truth

beforeAll(async () => {
  // The API's clock is set two months back, so every customer's 30-day window lies in the past and the
  // generator keeps real offsets (timeline 'real'): exposures at ASSIGNED_AT, outcomes up to 30 days later.
  h = await openHarness({ now: () => clock })
  const result = await seedThroughApi(
    { url: 'http://retention.test', key: ADMIN_KEY, fetch: (url, init) => Promise.resolve(h.app.request(url, init)) },
    { seed: 42, customers: 24_000, plan, timeline: 'real', clock: () => clock, concurrency: 2 },
  )
  truth = result.truth
  // Reports are read 31 days after the assignment: every window is complete.
  clock = ASSIGNED_AT + 31 * DAY
}, 180_000)
afterAll(() => h?.close())

interface Checked {
  where: string
  truth: number
  estimate: number
  ci: [number, number]
  se: number
}

/** Every estimable relative comparison of a report section next to its truth. */
function pairUp(where: string, metrics: any[], cell: TruthCell): Checked[] {
  const out: Checked[] = []
  for (const m of metrics) {
    if (!(TRUTH_METRICS as readonly string[]).includes(m.key)) continue
    for (const c of m.comparisons) {
      const t = cell.lift[m.key as keyof TruthCell['lift']][c.variant]?.[c.against === 'control' ? 'vsControl' : 'vsHoldout']
      if (c.notEstimable || t === null || t === undefined) continue
      out.push({ where: `${where} ${m.key} ${c.variant} vs ${c.against}`, truth: t, estimate: c.estimate, ci: c.ci, se: c.standardError })
    }
  }
  return out
}

const contains = (x: Checked) => x.ci[0] <= x.truth && x.truth <= x.ci[1]
const experiment = (id: string): ExperimentTruth => truth.experiments.find((e) => e.id === id)!

describe('planted effects through the API', () => {
  let report: any
  let breakdown: any
  beforeAll(async () => {
    report = (await h.call('GET', '/v1/experiments/planted/report')).body
    breakdown = (await h.call('GET', '/v1/experiments/planted/report?dimension=valueTier')).body
  })

  it('counts every assigned customer in its arm, with a split that matches the weights', () => {
    const t = experiment('planted')
    for (const arm of report.arms) expect(arm.n, arm.key).toBe(t.assigned[arm.key])
    expect(report.totalCustomers).toBeGreaterThan(9_000)
    expect(report.srm.mismatch).toBe(false)
  })

  it('gives intervals that contain the planted lifts', () => {
    const t = experiment('planted')
    const checks = [
      ...pairUp('all', report.metrics, t),
      ...breakdown.breakdown.segments.flatMap((s: any) => pairUp(`valueTier=${s.value}`, s.metrics, t.segments.valueTier[s.value])),
    ]
    expect(checks.length).toBeGreaterThan(80)
    // No estimate is biased: each lies within 4 standard errors of the truth.
    for (const x of checks) expect(Math.abs(x.estimate - x.truth), x.where).toBeLessThan(4 * x.se)
    // 95% intervals cover the truth about 95% of the time. The comparisons share data, so misses come in
    // groups; require 85% so that only a miscalibrated interval, not chance, fails this.
    const misses = checks.filter((x) => !contains(x))
    expect(
      1 - misses.length / checks.length,
      misses.map((x) => `${x.where}: truth ${x.truth.toFixed(3)} ∉ [${x.ci[0].toFixed(3)}, ${x.ci[1].toFixed(3)}]`).join('\n'),
    ).toBeGreaterThanOrEqual(0.85)
  })

  it('detects the planted effect on the primary metric, with the truth inside the interval', () => {
    const reactivation = report.metrics.find((m: any) => m.key === 'reactivation')
    const boost = reactivation.comparisons.find((c: any) => c.variant === 'boost' && c.against === 'control')
    const t = experiment('planted').lift.reactivation.boost.vsControl!
    expect(t).toBeGreaterThan(0.2)
    expect(boost.ci[0]).toBeLessThanOrEqual(t)
    expect(boost.ci[1]).toBeGreaterThanOrEqual(t)
    expect(boost.significant).toBe(true)
  })

  it('shows no effect where the offer does nothing, and the effect where it works', () => {
    const segment = (value: string) => breakdown.breakdown.segments.find((s: any) => s.value === value).metrics.find((m: any) => m.key === 'reactivation')
    const tiered = (value: string) => segment(value).comparisons.find((c: any) => c.variant === 'tiered' && c.against === 'control')
    const t = experiment('planted').segments.valueTier
    expect(t.low.lift.reactivation.tiered.vsControl).toBeCloseTo(0, 12)
    expect(tiered('low').ci[0]).toBeLessThanOrEqual(0)
    expect(tiered('low').ci[1]).toBeGreaterThanOrEqual(0)
    expect(tiered('low').significant).toBe(false)
    const high = t.high.lift.reactivation.tiered.vsControl!
    expect(high).toBeGreaterThan(0.25)
    expect(tiered('high').ci[0]).toBeGreaterThan(0)
    expect(tiered('high').ci[0]).toBeLessThanOrEqual(high)
    expect(tiered('high').ci[1]).toBeGreaterThanOrEqual(high)
  })
})

describe('an A/A experiment and a broken split', () => {
  it('shows no significant lift in an A/A test', async () => {
    const report = (await h.call('GET', '/v1/experiments/aa/report')).body
    expect(report.totalCustomers).toBeGreaterThan(9_000)
    const comparisons = report.metrics.flatMap((m: any) => m.comparisons).filter((c: any) => !c.notEstimable)
    expect(comparisons.length).toBeGreaterThan(5)
    for (const c of comparisons) expect(c.significant, `${c.metric} p=${c.pValue}`).toBe(false)
    expect(report.srm.mismatch).toBe(false)
  })

  it('raises the SRM alarm when a fifth of one arm’s exposures are lost', async () => {
    // A logging bug drops 20% of arm b's exposures (deterministically, by customer hash).
    await h.ch.client.command({
      query: `ALTER TABLE exposures DELETE WHERE experiment_id = 'aa' AND arm = 'b' AND cityHash64(customer_id) % 5 = 0 SETTINGS mutations_sync = 2`,
    })
    const report = (await h.call('GET', '/v1/experiments/aa/report')).body
    const b = report.arms.find((a: any) => a.key === 'b')
    expect(b.n).toBeLessThan(0.85 * experiment('aa').assigned.b)
    expect(report.srm.mismatch).toBe(true)
    expect(report.srm.pValue).toBeLessThan(0.001)
  })
})
