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
 * Relative lift Δ = μB/μA − 1 with the delta-method variance
 * Var ≈ σ²B/(nB μA²) + μB² σ²A/(nA μA⁴) (first-order Taylor expansion of μB/μA around the true means).
 * Undefined when μA = 0 (callers check first). Reference: Deng, Knoblich, Lu (2018), "Applying the Delta
 * Method in Metric Analytics", KDD; the same expression as GrowthBook's gbstats TTest.variance.
 */
export function relativeEffect(a: ArmSummary, b: ArmSummary): Effect {
  const muA2 = a.mean * a.mean
  return {
    estimate: b.mean / a.mean - 1,
    variance: b.variance / (b.n * muA2) + (b.mean * b.mean * a.variance) / (a.n * muA2 * muA2),
  }
}
