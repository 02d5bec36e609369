/**
 * CUPED (regression adjustment on a pre-exposure covariate). Reference: Deng, Xu, Kohavi, Walker (2013),
 * "Improving the sensitivity of online controlled experiments by utilizing pre-experiment data", WSDM,
 * §3.2: with θ = Cov(Y, X)/Var(X) the adjusted metric Y − θ(X − E X) keeps the mean and has variance
 * Var(Y)(1 − ρ²). θ is pooled over the two arms compared, from their combined sums, as GrowthBook's gbstats
 * does (compute_theta), so both arms are adjusted by the same θ and randomization keeps the estimate unbiased.
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
import type { CompareOptions, CupedComparison, CupedStats, NotEstimable } from './types.ts'

/**
 * Pooled θ = Cov(post, pre) / Var(pre) over the customers of both arms together,
 * Cov = (Σpost·pre − Σpost Σpre / n) / (n − 1), Var = (Σpre² − (Σpre)²/n) / (n − 1); 0 when Var(pre) = 0
 * (no covariate information, CUPED becomes the plain comparison). Reference: Deng et al. (2013), eq. (3).
 * @example cupedTheta(a, b) // ≈ 0.7 when post = 0.7·pre + noise with equal variances
 */
export function cupedTheta(a: CupedStats, b: CupedStats): number {
  const n = a.n + b.n
  const preSum = a.pre.sum + b.pre.sum
  const preSumSquares = a.pre.sumSquares + b.pre.sumSquares
  const postSum = a.post.sum + b.post.sum
  const postSumSquares = a.post.sumSquares + b.post.sumSquares
  const preCentered = centeredSumOfSquares(n, preSum, preSumSquares)
  if (!(preCentered > 0)) return 0
  return centeredCrossProduct(n, postSum, preSum, a.crossSum + b.crossSum, postSumSquares, preSumSquares) / preCentered
}

/**
 * One arm adjusted by θ around the pooled pre-period mean μ̄pre:
 * mean μpost − θ(μpre − μ̄pre), per-customer variance σ²post + θ²σ²pre − 2θ·Cov(post, pre) (n − 1 throughout).
 * Reference: Deng et al. (2013), §3.2.
 */
export function adjustArm(stats: CupedStats, theta: number, pooledPreMean: number): { adjusted: ArmSummary; unadjusted: ArmSummary } {
  const { n } = stats
  const postMean = stats.post.sum / n
  const preMean = stats.pre.sum / n
  const postVar = centeredSumOfSquares(n, stats.post.sum, stats.post.sumSquares) / (n - 1)
  const preVar = centeredSumOfSquares(n, stats.pre.sum, stats.pre.sumSquares) / (n - 1)
  const cov = centeredCrossProduct(n, stats.post.sum, stats.pre.sum, stats.crossSum, stats.post.sumSquares, stats.pre.sumSquares) / (n - 1)
  const adjustedVar = postVar + theta * theta * preVar - 2 * theta * cov
  return {
    adjusted: { n, mean: postMean - theta * (preMean - pooledPreMean), variance: adjustedVar > 1e-12 * postVar ? adjustedVar : 0 },
    unadjusted: { n, mean: postMean, variance: postVar },
  }
}

function cupedProblem(s: CupedStats, arm: string): NotEstimable | null {
  if (!allFinite([s.n, s.post?.sum, s.post?.sumSquares, s.pre?.sum, s.pre?.sumSquares, s.crossSum])) {
    return notEstimable('invalid_input', `${arm} statistics must be finite numbers`)
  }
  const count = countProblem(s.n, arm)
  if (count) return count
  if (s.post.sumSquares < 0 || s.pre.sumSquares < 0) return notEstimable('invalid_input', `${arm} sums of squares cannot be negative`)
  return (
    squaresProblem(s.n, s.post.sum, s.post.sumSquares, `${arm} outcome`) ??
    squaresProblem(s.n, s.pre.sum, s.pre.sumSquares, `${arm} pre-exposure covariate`) ??
    crossProblem(s.n, s.post.sum, s.pre.sum, s.crossSum, s.post.sumSquares, s.pre.sumSquares, `${arm} outcome × covariate`)
  )
}

/**
 * Compare CUPED-adjusted means (absolute or delta-method relative, Welch t or sequential) and report the
 * pooled θ and the variance reduction 1 − Var_adj/Var_unadj of the difference in means,
 * Var = σ²A/nA + σ²B/nB with adjusted and raw per-customer variances respectively (≈ ρ² for large n).
 * @example compareCuped(a, b, { kind: 'absolute' }).varianceReduction // ≈ 0.49 when corr(post, pre) = 0.7
 */
export function compareCuped(a: CupedStats, b: CupedStats, options: CompareOptions = {}): CupedComparison {
  const opts = resolveOptions(options)
  const problem = optionsProblem(opts) ?? cupedProblem(a, 'baseline') ?? cupedProblem(b, 'variant')
  if (problem) return { ...notEstimableComparison(opts, problem, { baselineN: a.n, variantN: b.n }), theta: null, varianceReduction: null }
  if (a.n < 2 || b.n < 2) {
    const arms = { baselineN: a.n, variantN: b.n, baselineMean: a.n > 0 ? a.post.sum / a.n : null, variantMean: b.n > 0 ? b.post.sum / b.n : null }
    return { ...insufficient(opts, arms), theta: null, varianceReduction: null }
  }
  const theta = cupedTheta(a, b)
  const pooledPreMean = (a.pre.sum + b.pre.sum) / (a.n + b.n)
  const armA = adjustArm(a, theta, pooledPreMean)
  const armB = adjustArm(b, theta, pooledPreMean)
  const comparison = compareSummaries(armA.adjusted, armB.adjusted, opts)
  const rawVariance = armA.unadjusted.variance / a.n + armB.unadjusted.variance / b.n
  const adjustedVariance = armA.adjusted.variance / a.n + armB.adjusted.variance / b.n
  const reduction = 1 - adjustedVariance / rawVariance
  const estimable = comparison.notEstimable === undefined && rawVariance > 0
  return {
    ...comparison,
    theta: estimable && Number.isFinite(theta) ? theta : null,
    varianceReduction: estimable && Number.isFinite(reduction) ? reduction : null,
  }
}
