/**
 * Relative lift over |baseline| (issue 23) and the Fieller interval that makes it agree with the absolute test
 * (issue 15 item 3).
 */
import { describe, expect, it } from 'vitest'
import { compareMeans, fiellerLift, relativeEffect, type MeanStats } from '../../../stats/index.ts'

/** Sufficient statistics of n values with the given mean and sample variance. */
function arm(n: number, mean: number, variance: number): MeanStats {
  return { n, sum: n * mean, sumSquares: (n - 1) * variance + n * mean * mean }
}

describe('relative lift is measured over |baseline| (GrowthBook convention)', () => {
  it.each([
    [-10, -5, 0.5],
    [-10, -15, -0.5],
    [-2, 3, 2.5],
    [10, 12, 0.2],
    [4, -2, -1.5],
  ])('baseline %d → variant %d is %d', (muA, muB, lift) => {
    expect(relativeEffect({ n: 100, mean: muA, variance: 4 }, { n: 100, mean: muB, variance: 4 }).estimate).toBeCloseTo(lift, 12)
    const c = compareMeans(arm(400, muA, 4), arm(400, muB, 4))
    expect(c.estimate).toBeCloseTo(lift, 9)
    expect(Math.sign(c.estimate as number)).toBe(Math.sign(muB - muA))
    const [lo, hi] = c.ci as [number, number]
    expect(lo).toBeLessThan(c.estimate as number)
    expect(hi).toBeGreaterThan(c.estimate as number)
  })

  it('has the same delta-method variance for a negative baseline as for its mirror image', () => {
    const up = relativeEffect({ n: 50, mean: 10, variance: 9 }, { n: 60, mean: 12, variance: 16 })
    const mirrored = relativeEffect({ n: 50, mean: -10, variance: 9 }, { n: 60, mean: -12, variance: 16 })
    expect(mirrored.estimate).toBeCloseTo(-up.estimate, 14)
    expect(mirrored.variance).toBeCloseTo(up.variance, 14)
  })

  it('mirrors the Fieller interval when both means change sign', () => {
    const up = compareMeans(arm(300, 10, 25), arm(300, 11, 36))
    const down = compareMeans(arm(300, -10, 25), arm(300, -11, 36))
    expect(down.ci?.[0]).toBeCloseTo(-(up.ci?.[1] as number), 10)
    expect(down.ci?.[1]).toBeCloseTo(-(up.ci?.[0] as number), 10)
    expect(down.pValue).toBeCloseTo(up.pValue as number, 14)
    expect(down.chanceToWin).toBeCloseTo(1 - (up.chanceToWin as number), 12)
  })

  it('keeps a baseline of exactly 0 not estimable (zero_baseline)', () => {
    expect(compareMeans(arm(100, 0, 4), arm(100, 1, 4)).notEstimable?.code).toBe('zero_baseline')
  })
})

describe('the relative kind is decided by the absolute test', () => {
  const a = arm(800, 20, 100)
  const b = arm(820, 21.2, 120)

  it('shares its p-value, verdict and chance to win, and scales its risk by 1/|μA|', () => {
    const relative = compareMeans(a, b)
    const absolute = compareMeans(a, b, { kind: 'absolute' })
    expect(relative.pValue).toBe(absolute.pValue)
    expect(relative.significant).toBe(absolute.significant)
    expect(relative.chanceToWin).toBe(absolute.chanceToWin)
    expect(relative.df).toBe(absolute.df)
    expect(relative.risk?.baseline).toBeCloseTo((absolute.risk?.baseline as number) / 20, 14)
    expect(relative.risk?.variant).toBeCloseTo((absolute.risk?.variant as number) / 20, 14)
  })

  it('reports the Fieller set {ρ : (μB − ρμA)² ≤ c²(V_B + ρ²V_A)} on the lift scale, with 0 on its edge at α = p', () => {
    const c = compareMeans(a, b)
    const critical = 1.9614 // t quantile for ≈ 1,600 df, checked below through the set's defining equation
    const [lo, hi] = c.ci as [number, number]
    const vA = 100 / 800
    const vB = 120 / 820
    const boundary = (lift: number) => (21.2 - (1 + lift) * 20) ** 2 / (vB + (1 + lift) ** 2 * vA)
    expect(Math.sqrt(boundary(lo))).toBeCloseTo(critical, 3)
    expect(Math.sqrt(boundary(hi))).toBeCloseTo(critical, 3)
    expect(Math.sqrt(boundary(lo))).toBeCloseTo(Math.sqrt(boundary(hi)), 10)
    const atP = compareMeans(a, b, { alpha: c.pValue as number })
    expect(Math.min(Math.abs(atP.ci?.[0] as number), Math.abs(atP.ci?.[1] as number))).toBeLessThan(1e-10)
  })

  it('has no finite interval when the baseline mean is not bounded away from 0, but keeps the estimate and verdict', () => {
    const c = compareMeans(arm(50, 0.5, 100), arm(50, 8, 100))
    expect(c.ci).toBeNull()
    expect(c.ciUnbounded).toBe(true)
    expect(c.notEstimable).toBeUndefined()
    expect(c.estimate).toBeCloseTo(15, 9)
    expect(c.significant).toBe(true)
    expect(c.pValue).toBe(compareMeans(arm(50, 0.5, 100), arm(50, 8, 100), { kind: 'absolute' }).pValue)
    expect(fiellerLift(0.5, 2, 8, 2, 1.96)).toEqual({ ci: null, unbounded: true })
    expect(compareMeans(a, b).ciUnbounded).toBeUndefined()
  })
})
