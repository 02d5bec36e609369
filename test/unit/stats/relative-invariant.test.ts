/**
 * The invariant of every comparison: significant (p < α) ⇔ the displayed interval excludes 0. For the relative
 * kind the interval is Fieller's (1954) and the p-value the absolute test's; Fieller's set contains ρ = 1 exactly
 * when (μB − μA)² ≤ c²(V_A + V_B), i.e. when that test does not reject. Checked by property over proportions,
 * means, ratios, CUPED, fixed-horizon and sequential. Cases within 1e-9 of the boundary |Δ| = c·SE are left
 * out: there the p-value (a tail probability) and the interval (a quantile) can round to opposite sides.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compareCuped,
  compareMeans,
  compareProportions,
  compareRatios,
  type CompareOptions,
  type Comparison,
  type CupedStats,
  type RatioStats,
} from '../../../stats/index.ts'

type Compare = (kind: 'absolute' | 'relative', options: CompareOptions) => Comparison

const options = fc.record({
  alpha: fc.constantFrom(0.2, 0.05, 0.01, 1e-3, 1e-6),
  sequential: fc.oneof(fc.constant(false as const), fc.record({ tuning: fc.double({ min: 100, max: 1e5, noNaN: true }) })),
})

/** A number on a grid of 1/1000 (fc.double favours denormals and the range ends, which are rarely means). */
function decimal(min: number, max: number) {
  return fc.integer({ min: Math.round(min * 1000), max: Math.round(max * 1000) }).map((k) => k / 1000)
}

/** A z-like shift in standard errors, so that both verdicts occur often. */
const shift = fc.integer({ min: -600, max: 600 }).map((k) => k / 100)
const size = fc.oneof(fc.integer({ min: 5, max: 100 }), fc.integer({ min: 100, max: 200_000 }))

const proportions = fc.tuple(size, size, decimal(0.005, 0.6), shift).map(([na, nb, p, z]): Compare => {
  const pb = Math.min(0.99, Math.max(0.001, p + z * Math.sqrt((2 * p * (1 - p)) / Math.min(na, nb))))
  const a = { n: na, sum: Math.round(na * p) }
  const b = { n: nb, sum: Math.round(nb * pb) }
  return (kind, opts) => compareProportions(a, b, { ...opts, kind })
})

function moments(n: number, mean: number, sd: number) {
  return { n, sum: n * mean, sumSquares: (n - 1) * sd * sd + n * mean * mean }
}

const means = fc.tuple(size, size, decimal(-100, 100), decimal(0.1, 50), decimal(0.1, 50), shift).map(([na, nb, mu, sa, sb, z]): Compare => {
  const a = moments(na, mu, sa)
  const b = moments(nb, mu + z * Math.sqrt((sa * sa) / na + (sb * sb) / nb), sb)
  return (kind, opts) => compareMeans(a, b, { ...opts, kind })
})

function ratioArm(n: number, muN: number, muD: number, sdN: number, sdD: number, corr: number): RatioStats {
  const num = moments(n, muN, sdN)
  const den = moments(n, muD, sdD)
  return {
    n,
    numSum: num.sum,
    numSumSquares: num.sumSquares,
    denSum: den.sum,
    denSumSquares: den.sumSquares,
    crossSum: (n - 1) * corr * sdN * sdD + n * muN * muD,
  }
}

const ratios = fc.tuple(size, size, decimal(5, 200), decimal(0.5, 3), decimal(-0.9, 0.9), shift).map(([na, nb, muN, muD, corr, z]): Compare => {
  const a = ratioArm(na, muN, muD, muN, muD / 2, corr)
  const lift = 1 + (z * 1.5) / Math.sqrt(Math.min(na, nb))
  const b = ratioArm(nb, muN * lift, muD, muN, muD / 2, corr)
  return (kind, opts) => compareRatios(a, b, { ...opts, kind })
})

function cupedArm(n: number, post: number, pre: number, sd: number, corr: number): CupedStats {
  const y = moments(n, post, sd)
  const x = moments(n, pre, sd)
  return {
    n,
    post: { sum: y.sum, sumSquares: y.sumSquares },
    pre: { sum: x.sum, sumSquares: x.sumSquares },
    crossSum: (n - 1) * corr * sd * sd + n * post * pre,
  }
}

const cuped = fc.tuple(size, size, decimal(-50, 50), decimal(1, 20), decimal(-0.95, 0.95), shift).map(([na, nb, mu, sd, corr, z]): Compare => {
  const a = cupedArm(na, mu, mu, sd, corr)
  const b = cupedArm(nb, mu + z * sd * Math.sqrt(1 / na + 1 / nb), mu, sd, corr)
  return (kind, opts) => compareCuped(a, b, { ...opts, kind })
})

function onBoundary(absolute: Comparison): boolean {
  if (!absolute.ci || absolute.estimate === null) return false
  const halfWidth = (absolute.ci[1] - absolute.ci[0]) / 2
  return Math.abs(Math.abs(absolute.estimate) - halfWidth) <= 1e-9 * halfWidth
}

function checkInvariant(compare: Compare, opts: CompareOptions, tally: { significant: number; unbounded: number; checked: number }): void {
  const absolute = compare('absolute', opts)
  const relative = compare('relative', opts)
  if (absolute.notEstimable || relative.notEstimable || onBoundary(absolute)) return
  for (const c of [absolute, relative]) {
    if (c.ci === null) {
      expect(c.ciUnbounded).toBe(true)
      tally.unbounded++
      continue
    }
    const excludesZero = c.ci[0] > 0 || c.ci[1] < 0
    expect(c.significant, JSON.stringify({ kind: c.kind, ci: c.ci, p: c.pValue, alpha: c.alpha })).toBe(excludesZero)
    expect(c.ci[0]).toBeLessThanOrEqual(c.estimate as number)
    expect(c.ci[1]).toBeGreaterThanOrEqual(c.estimate as number)
  }
  expect(relative.pValue).toBe(absolute.pValue)
  expect(relative.significant).toBe(absolute.significant)
  expect(relative.chanceToWin).toBe(absolute.chanceToWin)
  expect(Math.sign(relative.estimate as number)).toBe(Math.sign(absolute.estimate as number))
  tally.checked++
  if (absolute.significant) tally.significant++
}

describe('significant ⇔ the interval excludes 0, for both kinds (fast-check)', () => {
  it.each([
    ['proportions', proportions],
    ['means', means],
    ['ratios (delta-method variance of each arm)', ratios],
    ['CUPED-adjusted means', cuped],
  ] as const)('%s, fixed-horizon and sequential', (_, arbitrary) => {
    const tally = { significant: 0, unbounded: 0, checked: 0 }
    fc.assert(
      fc.property(arbitrary, options, (compare, opts) => checkInvariant(compare, opts, tally)),
      { numRuns: 3000, seed: 15 },
    )
    expect(tally.checked).toBeGreaterThan(2000)
    expect(tally.significant).toBeGreaterThan(600)
    expect(tally.checked - tally.significant).toBeGreaterThan(600)
  })
})
