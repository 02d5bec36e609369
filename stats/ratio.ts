/**
 * Ratio metrics (e.g. average order value = revenue / orders) where the customer, not the order, is the
 * randomization unit: each arm's ratio of means and its variance by the delta method on (numerator,
 * denominator). Reference: Deng, Knoblich, Lu (2018), "Applying the Delta Method in Metric Analytics: A
 * Practical Guide with Novel Ideas", KDD, §3; GrowthBook gbstats RatioStatistic.
 */
import { compareSummaries } from './compare.ts'
import {
  allFinite,
  countProblem,
  crossProblem,
  insufficient,
  notEstimable,
  notEstimableComparison,
  optionsProblem,
  resolveOptions,
  squaresProblem,
} from './validation.ts'
import { centeredCrossProduct, centeredSumOfSquares, type ArmSummary } from './moments.ts'
import type { CompareOptions, Comparison, NotEstimable, RatioStats } from './types.ts'

/**
 * The arm's ratio R = ΣN / ΣD (= mean numerator over mean denominator); null when ΣD = 0.
 * Reference: Deng, Knoblich, Lu (2018), §3.
 * @example ratioMean({ n: 3, numSum: 90, numSumSquares: 3000, denSum: 3, denSumSquares: 3, crossSum: 90 }) // 30
 */
export function ratioMean(stats: RatioStats): number | null {
  return stats.denSum !== 0 ? stats.numSum / stats.denSum : null
}

/**
 * Per-customer delta-method variance of R = μN/μD:
 * σ²R = (σ²N − 2R·Cov(N, D) + R²σ²D) / μD², sample (co)variances with n − 1,
 * so that Var(R̂) ≈ σ²R / n. Requires n ≥ 2 and μD ≠ 0. Reference: Deng, Knoblich, Lu (2018), eq. (2).
 */
export function summarizeRatio(stats: RatioStats): ArmSummary {
  const { n } = stats
  const muN = stats.numSum / n
  const muD = stats.denSum / n
  const ratio = stats.numSum / stats.denSum
  const varN = centeredSumOfSquares(n, stats.numSum, stats.numSumSquares) / (n - 1)
  const varD = centeredSumOfSquares(n, stats.denSum, stats.denSumSquares) / (n - 1)
  const cov = centeredCrossProduct(n, stats.numSum, stats.denSum, stats.crossSum, stats.numSumSquares, stats.denSumSquares) / (n - 1)
  const variance = (varN - 2 * ratio * cov + ratio * ratio * varD) / (muD * muD)
  return { n, mean: muN / muD, variance: variance > (1e-12 * (varN + ratio * ratio * varD)) / (muD * muD) ? variance : 0 }
}

function ratioProblem(s: RatioStats, arm: string): NotEstimable | null {
  if (!allFinite([s.n, s.numSum, s.numSumSquares, s.denSum, s.denSumSquares, s.crossSum])) {
    return notEstimable('invalid_input', `${arm} statistics must be finite numbers`)
  }
  const count = countProblem(s.n, arm)
  if (count) return count
  if (s.numSumSquares < 0 || s.denSumSquares < 0) return notEstimable('invalid_input', `${arm} sums of squares cannot be negative`)
  return (
    squaresProblem(s.n, s.numSum, s.numSumSquares, `${arm} numerator`) ??
    squaresProblem(s.n, s.denSum, s.denSumSquares, `${arm} denominator`) ??
    crossProblem(s.n, s.numSum, s.denSum, s.crossSum, s.numSumSquares, s.denSumSquares, `${arm} numerator × denominator`)
  )
}

/**
 * Compare ratio metrics: each arm's R = ΣN/ΣD with delta-method variance (summarizeRatio), then the absolute
 * difference or the relative lift (delta method again, arms independent) with a Welch t interval, or the
 * confidence sequence when sequential. Not estimable when an arm's denominator sums to 0.
 * @example compareRatios(aovA, aovB, { kind: 'relative', metric: 'aov' })
 */
export function compareRatios(a: RatioStats, b: RatioStats, options: CompareOptions = {}): Comparison {
  const opts = resolveOptions(options)
  const problem = optionsProblem(opts) ?? ratioProblem(a, 'baseline') ?? ratioProblem(b, 'variant')
  if (problem) return notEstimableComparison(opts, problem, { baselineN: a.n, variantN: b.n })
  const arms = { baselineN: a.n, variantN: b.n, baselineMean: ratioMean(a), variantMean: ratioMean(b) }
  if (a.n < 2 || b.n < 2) return insufficient(opts, arms)
  if (a.denSum === 0 || b.denSum === 0) {
    const which = a.denSum === 0 ? 'baseline' : 'variant'
    return notEstimableComparison(opts, notEstimable('zero_denominator', `the ${which} denominator sums to 0, so its ratio is undefined`), arms)
  }
  return compareSummaries(summarizeRatio(a), summarizeRatio(b), opts)
}
