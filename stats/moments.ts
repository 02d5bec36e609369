/**
 * Per-arm mean and variance from sufficient statistics.
 * Sample variances divide by n − 1; a proportion's variance is p(1 − p) without the n/(n − 1) correction,
 * as GrowthBook's gbstats does (ProportionStatistic), so both conventions agree at realistic n.
 */
import type { MeanStats, ProportionStats } from './types.ts'

/** One arm reduced to what every comparison needs: size, mean and per-customer variance. */
export interface ArmSummary {
  n: number
  mean: number
  variance: number
}

/**
 * Σx² − (Σx)²/n with rounding noise snapped to 0: the difference of two nearly equal sums carries an error
 * of order 1e-16·Σx², so anything below 1e-12·Σx² is "all values equal", not a tiny variance.
 */
export function centeredSumOfSquares(n: number, sum: number, sumSquares: number): number {
  const centered = sumSquares - (sum * sum) / n
  return centered <= 1e-12 * Math.abs(sumSquares) ? 0 : centered
}

/**
 * Relative rounding allowed in Σx² − (Σx)²/n (and Σxy − ΣxΣy/n) before a negative value is called impossible:
 * the two terms are each rounded to about 1e-16 of their size per addition, so a billion-row sum in arbitrary
 * order stays well inside 1e-9 of max(Σx², (Σx)²/n) (values up to 1e12 included), while sums that were never
 * those of real values (a wrong n, a sum of squares of the wrong column) miss by far more.
 */
export const SUMS_ROUNDING = 1e-9

function squaresScale(n: number, sum: number, sumSquares: number): number {
  return Math.max(Math.abs(sumSquares), (sum * sum) / n)
}

/**
 * True when Σx² − (Σx)²/n < −SUMS_ROUNDING · max(Σx², (Σx)²/n): no real values have these sums (Cauchy–Schwarz
 * gives (Σx)² ≤ nΣx²). Smaller negatives are rounding and read as "all values equal".
 * @example impossibleSumOfSquares(2, 1396.87, 52377.9767) // true
 */
export function impossibleSumOfSquares(n: number, sum: number, sumSquares: number): boolean {
  if (!(n > 0)) return false
  return sumSquares - (sum * sum) / n < -SUMS_ROUNDING * squaresScale(n, sum, sumSquares)
}

/**
 * True when the centred cross-product breaks Cauchy–Schwarz beyond rounding,
 * |Σxy − ΣxΣy/n| > √(CxxCyy) + SUMS_ROUNDING·√(scale_x·scale_y), i.e. |Cov(x, y)| > √(Var x · Var y): a
 * correlation outside [−1, 1], which no real pairs of values can have.
 */
export function impossibleCrossProduct(n: number, sumX: number, sumY: number, crossSum: number, sumSquaresX: number, sumSquaresY: number): boolean {
  if (!(n > 0)) return false
  const cxx = Math.max(0, sumSquaresX - (sumX * sumX) / n)
  const cyy = Math.max(0, sumSquaresY - (sumY * sumY) / n)
  const cxy = crossSum - (sumX * sumY) / n
  return Math.abs(cxy) > Math.sqrt(cxx * cyy) + SUMS_ROUNDING * Math.sqrt(squaresScale(n, sumX, sumSquaresX) * squaresScale(n, sumY, sumSquaresY))
}

/**
 * Centered cross-product Σxy − ΣxΣy/n, snapped to 0 under the same rounding floor as
 * centeredSumOfSquares (relative to √(Σx² Σy²), the Cauchy–Schwarz bound).
 */
export function centeredCrossProduct(n: number, sumX: number, sumY: number, crossSum: number, sumSquaresX: number, sumSquaresY: number): number {
  const centered = crossSum - (sumX * sumY) / n
  return Math.abs(centered) <= 1e-12 * Math.sqrt(Math.abs(sumSquaresX * sumSquaresY)) ? 0 : centered
}

/**
 * Mean of an arm: x̄ = Σx / n. Works for proportions (the rate) and per-customer means; null when n = 0.
 * Reference: docs/statistics.md, "Inputs".
 * @example meanOf({ n: 200, sum: 30 }) // 0.15
 */
export function meanOf(stats: ProportionStats | MeanStats): number | null {
  return stats.n > 0 ? stats.sum / stats.n : null
}

/** Sample variance s² = (Σx² − (Σx)²/n) / (n − 1) (requires n ≥ 2); the computational form of Bessel's unbiased estimator. */
export function sampleVariance(n: number, sum: number, sumSquares: number): number {
  return centeredSumOfSquares(n, sum, sumSquares) / (n - 1)
}

/** Summary of a 0/1 outcome: mean p = Σx/n, variance p(1 − p) (Bernoulli; gbstats ProportionStatistic). */
export function summarizeProportion(stats: ProportionStats): ArmSummary {
  const p = stats.sum / stats.n
  return { n: stats.n, mean: p, variance: Math.max(0, p * (1 - p)) }
}

/** Summary of a per-customer value: mean Σx/n, sample variance with n − 1 (gbstats SampleMeanStatistic). */
export function summarizeMean(stats: MeanStats): ArmSummary {
  return { n: stats.n, mean: stats.sum / stats.n, variance: sampleVariance(stats.n, stats.sum, stats.sumSquares) }
}
