/**
 * Restricted means, purchase probability by day and the median helper at their edges: no purchases, everyone
 * purchasing, ties, horizons past follow-up, bad input. Numbers are finite or null with a reason, and a verdict
 * never contradicts its interval or its p-value (fast-check).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  comparePurchaseProbability,
  compareRestrictedMeans,
  kaplanMeier,
  medianTimeToEvent,
  purchaseProbabilityBy,
  restrictedMeanSurvival,
  restrictedMeanTimeToPurchase,
  type Comparison,
  type SurvivalRow,
} from '../../../stats/index.ts'
import { normalComparison } from '../../../stats/survival.ts'
import { expectClose } from './support/close.ts'

function finiteOrNullEverywhere(value: unknown, path = 'result'): void {
  if (typeof value === 'number') expect(Number.isFinite(value), `${path} = ${value}`).toBe(true)
  else if (Array.isArray(value)) value.forEach((v, i) => finiteOrNullEverywhere(v, `${path}[${i}]`))
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) finiteOrNullEverywhere(v, `${path}.${k}`)
}

function expectConsistentVerdict(c: Comparison): void {
  if (c.ci === null || c.pValue === null) {
    expect(c.significant).toBe(false)
    return
  }
  const excludesZero = c.ci[0] > 0 || c.ci[1] < 0
  expect(c.significant).toBe(excludesZero)
  expect(c.pValue < c.alpha).toBe(excludesZero)
}

const noPurchases: SurvivalRow[] = [{ time: 30, events: 0, censored: 500 }]
const winBack: SurvivalRow[] = [
  { time: 0, events: 12, censored: 0 },
  { time: 3, events: 20, censored: 0 },
  { time: 7, events: 31, censored: 0 },
  { time: 15, events: 18, censored: 0 },
  { time: 30, events: 0, censored: 419 },
]

describe('restricted mean survival time', () => {
  it('with no purchases is τ with standard error 0, and a comparison of two such arms is not estimable', () => {
    expect(restrictedMeanSurvival(noPurchases, 30)).toMatchObject({ estimate: 30, standardError: 0, ci: [30, 30], truncated: false, events: 0 })
    const c = compareRestrictedMeans(noPurchases, noPurchases, 30)
    expect(c).toMatchObject({ estimate: null, ci: null, pValue: null, standardError: null, significant: false, baselineMean: 30, variantMean: 30 })
    expect(c.notEstimable?.code).toBe('zero_variance')
    finiteOrNullEverywhere(c)
  })

  it('without censoring, past the last time, is the sample mean with SE √(Σ(x − x̄)²)/n', () => {
    const times = [1, 1, 2, 4, 4, 4, 7, 9, 12, 20]
    const rows = times.map((time) => ({ time, events: 1, censored: 0 }))
    const r = restrictedMeanSurvival(rows, 25)
    const mean = times.reduce((s, x) => s + x, 0) / times.length
    expectClose(r.estimate, mean, 1e-12)
    expectClose(r.standardError, Math.sqrt(times.reduce((s, x) => s + (x - mean) ** 2, 0)) / times.length, 1e-12)
    expect(r).toMatchObject({ tauUsed: 25, truncated: false })
  })

  it('stops at the last observed time when τ lies past it and Ŝ > 0 there, and says so', () => {
    const r = restrictedMeanSurvival(winBack, 45)
    expect(r).toMatchObject({ tau: 45, tauUsed: 30, truncated: true })
    expect(r.estimate).toBe(restrictedMeanSurvival(winBack, 30).estimate)
    const c = compareRestrictedMeans(winBack, [...winBack.slice(0, 4), { time: 20, events: 0, censored: 419 }], 30)
    expect(c.tauUsed).toBe(20)
    expect(c.baselineArm.tauUsed).toBe(20)
  })

  it('counts events before censorings at a tied time, and merges repeated or unsorted rows', () => {
    const tied = [
      { time: 5, events: 2, censored: 3 },
      { time: 10, events: 0, censored: 5 },
    ]
    // 10 at risk at day 5, 2 purchase: Ŝ = 0.8 from day 5, so the area to 10 is 5 + 5·0.8.
    expectClose(restrictedMeanSurvival(tied, 10).estimate, 9, 1e-15)
    const shuffled = [
      { time: 10, events: 0, censored: 5 },
      { time: 5, events: 0, censored: 3 },
      { time: 5, events: 2, censored: 0 },
    ]
    expect(restrictedMeanSurvival(shuffled, 10)).toEqual(restrictedMeanSurvival(tied, 10))
  })

  it('scales with time: days → hours multiplies the RMST and its SE by 24', () => {
    const hours = winBack.map((r) => ({ ...r, time: r.time * 24 }))
    const d = restrictedMeanSurvival(winBack, 30)
    const h = restrictedMeanSurvival(hours, 720)
    expectClose(h.estimate, 24 * (d.estimate as number), 1e-12)
    expectClose(h.standardError, 24 * (d.standardError as number), 1e-12)
  })

  it('is the restricted mean time to purchase: expected days without a purchase in the first τ', () => {
    expect(restrictedMeanTimeToPurchase).toBe(restrictedMeanSurvival)
    // 12 buy on day 0, 20 on day 3, 31 on day 7, 18 on day 15, 419 never: E[min(T, 30)] computed per customer.
    const perCustomer = (12 * 0 + 20 * 3 + 31 * 7 + 18 * 15 + 419 * 30) / 500
    expectClose(restrictedMeanTimeToPurchase(winBack, 30).estimate, perCustomer, 1e-12)
  })

  it('rejects bad horizons, α and rows with a reason and no NaN', () => {
    for (const [rows, tau, alpha] of [
      [winBack, Number.NaN, 0.05],
      [winBack, -1, 0.05],
      [winBack, Infinity, 0.05],
      [winBack, 30, 1],
      [[{ time: -1, events: 1, censored: 0 }], 30, 0.05],
      [[], 30, 0.05],
    ] as const) {
      const r = restrictedMeanSurvival(rows as SurvivalRow[], tau, { alpha })
      expect(r.estimate).toBeNull()
      expect(r.notEstimable?.message).toBeTruthy()
      finiteOrNullEverywhere(r)
      const c = compareRestrictedMeans(rows as SurvivalRow[], winBack, tau, { alpha })
      expect(c.notEstimable).toBeDefined()
      finiteOrNullEverywhere(c)
    }
  })
})

describe('purchase probability by day', () => {
  it('is 0 with SE 0 before the first purchase, counts purchases on the day itself, and is 1 once everyone bought', () => {
    const rows = [
      { time: 2, events: 1, censored: 0 },
      { time: 4, events: 1, censored: 1 },
      { time: 6, events: 1, censored: 0 },
    ]
    expect(purchaseProbabilityBy(rows, 1)).toMatchObject({ estimate: 0, standardError: 0, ci: [0, 0] })
    expectClose(purchaseProbabilityBy(rows, 2).estimate, 0.25, 1e-15)
    expectClose(purchaseProbabilityBy(rows, 3.5).estimate, 0.25, 1e-15)
    expect(purchaseProbabilityBy(rows, 6)).toMatchObject({ estimate: 1, standardError: 0, ci: [1, 1] })
    expect(purchaseProbabilityBy(rows, 60).estimate).toBe(1)
  })

  it('is unknown past follow-up while some never purchased', () => {
    const r = purchaseProbabilityBy(winBack, 31)
    expect(r).toMatchObject({ estimate: null, ci: null, notEstimable: { code: 'insufficient_sample' } })
    expect(comparePurchaseProbability(winBack, winBack, 31).notEstimable?.message).toMatch(/^baseline: nobody was followed past 30/)
  })

  it('matches 1 − Ŝ of kaplanMeier with its band flipped', () => {
    const km = kaplanMeier(winBack).points[2]
    const p = purchaseProbabilityBy(winBack, 7)
    expectClose(p.estimate, 1 - km.survival, 1e-15)
    expectClose(p.standardError, km.standardError as number, 1e-15)
    expect(p.ci).toEqual([1 - km.upper, 1 - km.lower])
  })
})

describe('medians only where reached', () => {
  it("says 'not reached' and reports no interval when the curve stays above ½", () => {
    const m = medianTimeToEvent(winBack)
    expect(m).toMatchObject({ status: 'not reached', median: null, ci: null })
    expectClose(m.lastSurvival, 419 / 500, 1e-12)
    expect(m.message).toMatch(/^not reached: 16\.2% had the event by 30/)
    expect(medianTimeToEvent(noPurchases).status).toBe('not reached')
  })

  it('returns the Kaplan–Meier median and its Brookmeyer–Crowley interval when reached', () => {
    const rows = [
      { time: 1, events: 30, censored: 0 },
      { time: 2, events: 30, censored: 5 },
      { time: 5, events: 10, censored: 25 },
    ]
    const km = kaplanMeier(rows)
    expect(medianTimeToEvent(rows)).toMatchObject({ status: 'reached', median: km.median, ci: km.medianCi })
    expect(medianTimeToEvent([], {}).notEstimable).toBeDefined()
  })
})

describe('significant ⇔ the interval excludes 0 ⇔ p < α, exactly', () => {
  it('holds at the boundary |Δ/SE| = z, including the neighbouring doubles', () => {
    for (const alpha of [0.05, 0.1, 0.01, 1e-6]) {
      for (const se of [1, 0.3, 1e-3, 7.77]) {
        const base = normalComparison({ estimate: 0, standardError: se, n: 10 }, { estimate: 0, standardError: 0, n: 10 }, { alpha }, false)
        const edge = (base.ci as [number, number])[1] // z·SE as the code computes it
        for (const scale of [1 - 4 * Number.EPSILON, 1 - Number.EPSILON, 1, 1 + Number.EPSILON, 1 + 4 * Number.EPSILON]) {
          for (const sign of [1, -1]) {
            const c = normalComparison({ estimate: 0, standardError: se, n: 10 }, { estimate: sign * edge * scale, standardError: 0, n: 10 }, { alpha }, false)
            expectConsistentVerdict(c)
          }
        }
      }
    }
  })

  const row = fc.record({ time: fc.integer({ min: 0, max: 35 }), events: fc.nat(60), censored: fc.nat(200) })
  const arm = fc.array(row, { minLength: 0, maxLength: 12 })
  it('for random arms, horizons, days and α (fast-check), with every number finite or null', () => {
    const tally = { significant: 0, notSignificant: 0, notEstimable: 0 }
    fc.assert(
      fc.property(arm, arm, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.constantFrom(0.05, 0.1, 0.01), (a, b, tau, day, alpha) => {
        const rm = compareRestrictedMeans(a, b, tau, { alpha })
        const pp = comparePurchaseProbability(a, b, day, { alpha })
        for (const c of [rm, pp]) {
          finiteOrNullEverywhere(c)
          expectConsistentVerdict(c)
          if (c.notEstimable) tally.notEstimable++
          else if (c.significant) tally.significant++
          else tally.notSignificant++
        }
        for (const r of [rm.baselineArm, rm.variantArm]) {
          if (r.estimate === null) continue
          expect(r.estimate).toBeGreaterThanOrEqual(0)
          expect(r.estimate).toBeLessThanOrEqual((r.tauUsed as number) + 1e-9)
          expect(r.ci?.[0]).toBeLessThanOrEqual(r.estimate)
          expect(r.ci?.[1]).toBeGreaterThanOrEqual(r.estimate)
        }
        for (const p of [pp.baselineArm, pp.variantArm]) {
          if (p.estimate === null) continue
          expect(p.estimate).toBeGreaterThanOrEqual(0)
          expect(p.estimate).toBeLessThanOrEqual(1)
        }
      }),
      { numRuns: 1500, seed: 22 },
    )
    expect(tally.significant).toBeGreaterThan(150)
    expect(tally.notSignificant).toBeGreaterThan(150)
    expect(tally.notEstimable).toBeGreaterThan(50)
  })
})
