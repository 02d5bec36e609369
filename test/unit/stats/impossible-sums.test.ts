/**
 * Sufficient statistics no real values can have are refused (issue 23): a centred sum of squares below
 * −1e-9·max(Σx², (Σx)²/n), or a covariance beyond √(Var x · Var y), is 'invalid_input' with a message, never
 * floored at 0. Rounding-level negatives (equal values summed in floating point) are still accepted.
 */
import { describe, expect, it } from 'vitest'
import { compareCuped, compareMeans, compareRatios, type Comparison, type CupedStats, type RatioStats } from '../../../stats/index.ts'
import { impossibleCrossProduct, impossibleSumOfSquares } from '../../../stats/moments.ts'

function expectRefused(c: Comparison, mentions: string): void {
  expect(c.notEstimable?.code).toBe('invalid_input')
  expect(c.notEstimable?.message).toContain(mentions)
  expect(c.estimate).toBeNull()
  expect(c.ci).toBeNull()
  expect(c.significant).toBe(false)
}

const normal = { n: 500, sum: 5000, sumSquares: 500 * 100 + 499 * 16 }

/** Sums of n values near `value`, accumulated one at a time as a query would. */
function nearlyEqual(value: number, n: number, wobble: number) {
  let sum = 0
  let sumSquares = 0
  for (let i = 0; i < n; i++) {
    const x = value + ((i % 3) - 1) * wobble
    sum += x
    sumSquares += x * x
  }
  return { n, sum, sumSquares }
}

describe('a centred sum of squares below −rounding', () => {
  it('n = 2, Σx = 1396.87, Σx² = 52377.9767 is refused (Σx² must be at least (Σx)²/n = 975,622.9)', () => {
    expect(impossibleSumOfSquares(2, 1396.87, 52377.9767)).toBe(true)
    expectRefused(compareMeans({ n: 2, sum: 1396.87, sumSquares: 52377.9767 }, normal), 'baseline values')
    expectRefused(compareMeans(normal, { n: 2, sum: 1396.87, sumSquares: 52377.9767 }, { kind: 'absolute' }), 'variant values')
  })

  it('is refused just beyond the tolerance and accepted inside it', () => {
    const n = 1000
    const sum = 1e6
    const floor = (sum * sum) / n
    expect(impossibleSumOfSquares(n, sum, floor * (1 - 1e-8))).toBe(true)
    expect(impossibleSumOfSquares(n, sum, floor * (1 - 1e-10))).toBe(false)
  })

  it('accepts values equal to 1e6 ± 1e-9 summed in floating point (rounding, not an impossible input)', () => {
    const arm = nearlyEqual(1e6, 3000, 1e-9)
    expect(impossibleSumOfSquares(arm.n, arm.sum, arm.sumSquares)).toBe(false)
    const c = compareMeans(arm, { n: 3000, sum: 3000 * 1e6 + 50, sumSquares: 3000 * 1e12 + 2 * 1e6 * 50 + 2999 * 4 }, { kind: 'absolute' })
    expect(c.notEstimable).toBeUndefined()
    expect(compareMeans(arm, nearlyEqual(1e6, 2000, 1e-9)).notEstimable?.code).toBe('zero_variance')
  })

  it('accepts large exact sums (values up to 1e12) whose centred sum rounds slightly negative', () => {
    const arm = nearlyEqual(1e12, 1001, 0)
    expect(arm.sumSquares - (arm.sum * arm.sum) / arm.n).toBeLessThanOrEqual(0)
    expect(impossibleSumOfSquares(arm.n, arm.sum, arm.sumSquares)).toBe(false)
  })
})

function ratioArm(n: number, corr: number): RatioStats {
  const [muN, muD, sdN, sdD] = [40, 2, 30, 1]
  return {
    n,
    numSum: n * muN,
    numSumSquares: (n - 1) * sdN ** 2 + n * muN ** 2,
    denSum: n * muD,
    denSumSquares: (n - 1) * sdD ** 2 + n * muD ** 2,
    crossSum: (n - 1) * corr * sdN * sdD + n * muN * muD,
  }
}

function cupedArm(n: number, corr: number): CupedStats {
  const [mu, sd] = [10, 3]
  const ss = (n - 1) * sd ** 2 + n * mu ** 2
  return { n, post: { sum: n * mu, sumSquares: ss }, pre: { sum: n * mu, sumSquares: ss }, crossSum: (n - 1) * corr * sd * sd + n * mu * mu }
}

describe('a covariance beyond √(Var x · Var y)', () => {
  it('is refused in ratio metrics (correlation 1.01), and accepted at correlation ±1', () => {
    expectRefused(compareRatios(ratioArm(400, 1.01), ratioArm(400, 0.5)), 'baseline numerator × denominator')
    expectRefused(compareRatios(ratioArm(400, 0.5), ratioArm(400, -1.01)), 'variant numerator × denominator')
    expect(compareRatios(ratioArm(400, 1), ratioArm(400, -1)).notEstimable?.code).not.toBe('invalid_input')
  })

  it('is refused in CUPED statistics (correlation −1.02), and accepted at 0.999', () => {
    const c = compareCuped(cupedArm(300, -1.02), cupedArm(300, 0.5))
    expectRefused(c, 'baseline outcome × covariate')
    expect(c.theta).toBeNull()
    expect(compareCuped(cupedArm(300, 0.999), cupedArm(300, 0.999)).notEstimable).toBeUndefined()
  })

  it('refuses an impossible numerator or covariate sum of squares too', () => {
    const bad = { ...ratioArm(400, 0.5), numSumSquares: 400 * 40 ** 2 * 0.9 }
    expectRefused(compareRatios(ratioArm(400, 0.5), bad), 'variant numerator')
    const badPre = { ...cupedArm(300, 0.5), pre: { sum: 3000, sumSquares: 1000 } }
    expectRefused(compareCuped(badPre, cupedArm(300, 0.5)), 'baseline pre-exposure covariate')
  })

  it('treats a rounding-level excess as rounding (identical columns, correlation exactly 1 in the sums)', () => {
    const xs = Array.from({ length: 999 }, (_, i) => 1e6 + ((i % 3) - 1) * 1e-9)
    const s = xs.reduce((a, x) => a + x, 0)
    const ss = xs.reduce((a, x) => a + x * x, 0)
    expect(impossibleCrossProduct(xs.length, s, s, ss, ss, ss)).toBe(false)
  })
})
