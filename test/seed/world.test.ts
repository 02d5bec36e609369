import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CHANNEL_SHARES,
  customerAt,
  DAY,
  purchaseHistory,
  RECENCY_DAYS,
  RECENCY_SHARES,
  TIER_MEDIAN_ORDER,
  VALUE_TIERS,
  type Customer,
} from '../../seed/world.ts'
import { demoPlan } from '../../seed/experiments.ts'
import { compileDefinition, placeExperiments, placementOf, worldChunks } from '../../seed/generate.ts'
import { expectedOutcomes, windowEvents } from '../../seed/simulate.ts'
import { streamFor } from '../../seed/random.ts'
import { TRUTH_METRICS, TruthBuilder } from '../../seed/truth.ts'
import { writeTruth } from '../../seed/demo.ts'

const NOW = Date.parse('2026-11-01T00:00:00Z')

/** The demo world generated in memory, as the direct writer would insert it. */
function generate(seed: number, customers: number) {
  const placed = placeExperiments(demoPlan, (p) => NOW - p.timeline.startDaysAgo * DAY)
  const compiled = new Map(placed.map((e) => [e.id, compileDefinition(e.planned)]))
  const truth = new TruthBuilder(seed, demoPlan.globalHoldout)
  const chunks = [
    ...worldChunks({ seed, customers, placed, compiled, holdout: demoPlan.globalHoldout, nowMs: NOW, referenceMs: NOW - 45 * DAY, truth, chunkRows: 5_000 }),
  ]
  return { exposures: chunks.flatMap((c) => c.exposures), events: chunks.flatMap((c) => c.events), truth: truth.build() }
}

const share = (xs: Customer[], f: (c: Customer) => boolean) => xs.filter(f).length / xs.length

describe('the generated world', () => {
  it('is the same world for the same seed, and another world for another seed', () => {
    const a = generate(42, 1_500)
    const b = generate(42, 1_500)
    expect(b.events).toEqual(a.events)
    expect(b.exposures).toEqual(a.exposures)
    expect(b.truth).toEqual(a.truth)
    const c = generate(7, 1_500)
    expect(c.events.length).not.toBe(a.events.length)
    expect(customerAt(7, 10)).not.toEqual(customerAt(42, 10))
  })

  it('gives a customer the same attributes whatever else was generated first', () => {
    expect(customerAt(42, 999)).toEqual(customerAt(42, 999))
    expect(generate(42, 200).exposures).toEqual(generate(42, 1_000).exposures.filter((x) => Number(x.customer_id.slice(2)) < 200))
  })

  it('has plausible segment shares', () => {
    const customers = Array.from({ length: 20_000 }, (_, i) => customerAt(42, i))
    for (const [band, expected] of Object.entries(RECENCY_SHARES)) expect(share(customers, (c) => c.attributes.recency === band)).toBeCloseTo(expected, 1)
    for (const [channel, expected] of Object.entries(CHANNEL_SHARES)) expect(share(customers, (c) => c.attributes.channel === channel)).toBeCloseTo(expected, 1)
    const tiers = VALUE_TIERS.map((t) => share(customers, (c) => c.attributes.valueTier === t))
    expect(tiers[0]).toBeGreaterThan(tiers[1])
    expect(tiers[1]).toBeGreaterThan(tiers[2])
    expect(tiers[2]).toBeGreaterThan(0.08)
    // Churn risk follows recency: dormant customers are riskier than active ones.
    const meanRisk = (band: string) =>
      customers.filter((c) => c.attributes.recency === band).reduce((s, c) => s + c.attributes.churnRisk, 0) /
      customers.filter((c) => c.attributes.recency === band).length
    expect(meanRisk('dormant')).toBeGreaterThan(meanRisk('lapsed_60_180'))
    expect(meanRisk('lapsed_60_180')).toBeGreaterThan(meanRisk('active'))
  })

  it('writes a purchase history that makes each recency band true at the anchor', () => {
    for (let i = 0; i < 2_000; i++) {
      const c = customerAt(42, i)
      const purchases = purchaseHistory(c, 42).filter((e) => e.type === 'purchase')
      const [lo, hi] = RECENCY_DAYS[c.attributes.recency]
      if (c.attributes.recency !== 'dormant' || c.lastPurchaseDaysAgo < 365) {
        const lastDaysAgo = -Math.max(...purchases.map((p) => p.offsetMs)) / DAY
        expect(lastDaysAgo).toBeGreaterThanOrEqual(lo - 1e-6)
        expect(lastDaysAgo).toBeLessThanOrEqual(hi + 1e-6)
      }
      for (const e of purchaseHistory(c, 42)) {
        expect(e.offsetMs).toBeLessThan(0)
        expect(e.offsetMs).toBeGreaterThan(-366 * DAY)
      }
    }
  })

  it('draws heavy-tailed order values around each tier’s median, with refunds', () => {
    const byTier: Record<string, number[]> = { low: [], mid: [], high: [] }
    let orders = 0
    let refunds = 0
    for (let i = 0; i < 5_000; i++) {
      const c = customerAt(42, i)
      for (const e of purchaseHistory(c, 42)) {
        if (e.type === 'purchase') {
          byTier[c.attributes.valueTier].push(e.revenue!)
          orders++
        } else refunds++
      }
    }
    for (const tier of VALUE_TIERS) {
      const values = byTier[tier].sort((a, b) => a - b)
      const median = values[Math.floor(values.length / 2)]
      const mean = values.reduce((s, v) => s + v, 0) / values.length
      expect(median / TIER_MEDIAN_ORDER[tier]).toBeGreaterThan(0.85)
      expect(median / TIER_MEDIAN_ORDER[tier]).toBeLessThan(1.15)
      // Log-normal: the mean sits well above the median and the top percent is several times it.
      expect(mean).toBeGreaterThan(median * 1.1)
      expect(values[Math.floor(values.length * 0.99)]).toBeGreaterThan(median * 3)
    }
    expect(refunds / orders).toBeGreaterThan(0.05)
    expect(refunds / orders).toBeLessThan(0.09)
  })

  it.each(demoPlan.experiments.map((e) => [e.definition.id, e] as const))(
    'simulates %s outcomes whose averages match the closed form the truth is built from',
    (id, planned) => {
      // The experiment's eligible customers among the first 40k, simulated 25 times in each arm (≈ 200–300k draws
      // an arm: enough to see a 2–3% bias in reactivation or 6% in revenue): sample means against expectedOutcomes.
      const REPLICATES = 25
      const [placed] = placeExperiments({ ...demoPlan, experiments: [planned] }, () => NOW)
      const customers = Array.from({ length: 40_000 }, (_, i) => customerAt(42, i)).filter((c) => placementOf(c, [placed]))
      for (const arm of planned.definition.arms) {
        const offer = arm.offer as { type: string; value?: number; unitCost?: number }
        const keys = ['reactivation', 'orders', 'revenue', 'incentive_cost', 'redemption'] as const
        const sum = Object.fromEntries(keys.map((k) => [k, 0])) as Record<(typeof keys)[number], number>
        const sq = { ...sum }
        const expected = { ...sum }
        for (const c of customers) {
          const effect = planned.effects[arm.key][c.attributes.valueTier]
          const e = expectedOutcomes(c, effect, offer)
          for (const k of keys) expected[k] += REPLICATES * e[k]
          for (let r = 0; r < REPLICATES; r++) {
            const events = windowEvents(streamFor(r, c.index, 3), c, id, arm.key, effect, offer)
            const total = (type: string, field: 'revenue' | 'cost') => events.filter((e) => e.type === type).reduce((s, e) => s + e[field]!, 0)
            const purchases = events.filter((e) => e.type === 'purchase').length
            const observed = {
              reactivation: purchases > 0 ? 1 : 0,
              orders: purchases,
              revenue: total('purchase', 'revenue') - total('refund', 'revenue'),
              incentive_cost: total('offer_redeemed', 'cost'),
              redemption: events.some((e) => e.type === 'offer_redeemed') ? 1 : 0,
            }
            for (const k of keys) {
              sum[k] += observed[k]
              sq[k] += observed[k] * observed[k]
            }
          }
        }
        const n = customers.length * REPLICATES
        for (const k of keys) {
          const mean = sum[k] / n
          const se = Math.sqrt((sq[k] / n - mean * mean) / n)
          // A metric that is 0 in an arm (no offer: no redemption, no cost) must be exactly 0 in the closed form too.
          expect(Math.abs(mean - expected[k] / n), `${arm.key} ${k}: simulated ${mean} vs expected ${expected[k] / n}`).toBeLessThanOrEqual(
            se === 0 ? 1e-12 : 4.5 * se,
          )
        }
      }
    },
  )
})

describe('the planted truth', () => {
  const { truth, exposures } = generate(42, 12_000)

  it('covers every demo experiment, arm, metric and segment', () => {
    expect(truth.version).toBe(1)
    expect(truth.customers).toBe(12_000)
    expect(truth.globalHoldout).toEqual({ pct: 0.05, seed: 'global-holdout' })
    expect(truth.experiments.map((e) => e.id)).toEqual(demoPlan.experiments.map((e) => e.definition.id))
    for (const e of truth.experiments) {
      const planned = demoPlan.experiments.find((p) => p.definition.id === e.id)!
      expect(e.arms).toEqual([...((planned.definition.holdoutPct ?? 0) > 0 ? ['holdout'] : []), ...planned.definition.arms.map((a) => a.key)])
      expect(e.n).toBe(Object.values(e.assigned).reduce((s, x) => s + x, 0))
      expect(e.n + e.globalHoldout).toBe(exposures.filter((x) => x.experiment_id === e.id).length)
      for (const m of TRUTH_METRICS) {
        for (const arm of e.arms) {
          expect(Number.isFinite(e.values[m][arm])).toBe(true)
          expect(e.lift[m][arm]).toHaveProperty('vsControl')
          expect(e.lift[m][arm]).toHaveProperty('vsHoldout')
        }
      }
      expect(Object.keys(e.segments)).toEqual(['valueTier', 'channel', 'churnBand'])
      expect(Object.values(e.segments.valueTier).reduce((s, cell) => s + cell.n, 0)).toBe(e.n)
    }
    expect(e('save-offer-at-risk').status).toBe('stopped')
    // About 5% of eligible customers are in the global holdout.
    const eligible = truth.experiments.reduce((s, x) => s + x.n + x.globalHoldout, 0)
    expect(truth.experiments.reduce((s, x) => s + x.globalHoldout, 0) / eligible).toBeCloseTo(0.05, 1)
  })

  const e = (id: string) => truth.experiments.find((x) => x.id === id)!

  it('plants the stories the demo tells', () => {
    const winback = e('winback-lapsed')
    // Loyalty points do nothing beyond the message for low-value customers, and help high-value ones.
    expect(winback.segments.valueTier.low.lift.reactivation.points.vsControl).toBeCloseTo(0, 12)
    expect(winback.segments.valueTier.high.lift.reactivation.points.vsControl).toBeGreaterThan(0.3)
    expect(winback.lift.reactivation.pct15.vsControl).toBeGreaterThan(0.3)
    expect(winback.lift.reactivation.control.vsHoldout).toBeCloseTo(0.25, 2)
    // 20% off: more revenue, less money after the discount.
    const vip = e('vip-20-off-active')
    expect(vip.lift.revenue.pct20.vsControl).toBeGreaterThan(0.1)
    expect(vip.lift.net_value.pct20.vsControl).toBeLessThan(-0.1)
    // A/A: nothing differs.
    for (const m of TRUTH_METRICS) expect(e('aa-dormant-newsletter').lift[m].b.vsControl ?? 0).toBeCloseTo(0, 12)
    // The holdout receives nothing: no redemptions, no unsubscribes.
    expect(winback.values.redemption.holdout).toBe(0)
    expect(winback.values.unsubscribe.holdout).toBe(0)
  })

  it('round-trips through truth.json', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rl-truth-')), 'truth.json')
    writeTruth(file, truth)
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(truth)
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
  })
})
