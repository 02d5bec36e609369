/**
 * Point estimate and sampling variance of variant B against baseline A, from the arm summaries.
 */
import type { ArmSummary } from './moments.ts'

export interface Effect {
  estimate: number
  /** Sampling variance of the estimate (the square of its standard error). */
  variance: number
}

/**
 * Absolute difference Δ = μB − μA with Var = σ²A/nA + σ²B/nB (independent arms; Welch 1947).
 * @example absoluteEffect({ n: 100, mean: 1, variance: 4 }, { n: 100, mean: 1.5, variance: 4 }) // { estimate: 0.5, variance: 0.08 }
 */
export function absoluteEffect(a: ArmSummary, b: ArmSummary): Effect {
  return { estimate: b.mean - a.mean, variance: a.variance / a.n + b.variance / b.n }
}

/**
 * Relative lift over the baseline's magnitude, Δ = (μB − μA)/|μA| (GrowthBook's convention), so the sign says
 * whether the variant went up or down even when the baseline is negative: −10 → −5 is +50%, −10 → −15 is −50%,
 * −2 → 3 is +250%. For μA > 0 this is μB/μA − 1. Delta-method variance (first-order Taylor expansion around
 * the true means): ∂Δ/∂μB = 1/|μA| and ∂Δ/∂μA = −sign(μA)·μB/μA², whose squares do not depend on the sign, so
 * Var ≈ σ²B/(nB μA²) + μB² σ²A/(nA μA⁴) for either sign. Undefined when μA = 0 (callers check first).
 * Reference: Deng, Knoblich, Lu (2018), "Applying the Delta Method in Metric Analytics", KDD; the same
 * expression as GrowthBook's gbstats TTest.variance. The test and interval reported for a relative lift are
 * not built on this variance (see fieller.ts); it is kept as the informational standard error.
 * @example relativeEffect({ n: 100, mean: -10, variance: 4 }, { n: 100, mean: -5, variance: 4 }).estimate // 0.5
 */
export function relativeEffect(a: ArmSummary, b: ArmSummary): Effect {
  const muA2 = a.mean * a.mean
  return {
    estimate: (b.mean - a.mean) / Math.abs(a.mean),
    variance: b.variance / (b.n * muA2) + (b.mean * b.mean * a.variance) / (a.n * muA2 * muA2),
  }
}
