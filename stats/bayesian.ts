/**
 * Bayesian reading of an effect shown beside the frequentist one: a flat prior and the normal approximation
 * of the estimate give the posterior Δ ~ N(estimate, SE²). Reference: GrowthBook gbstats (EffectBayesianABTest
 * with an improper prior); expected loss as in Stucchio (2015), "Bayesian A/B Testing at VWO".
 */
import { normalCdf, normalPdf } from './distributions.ts'
import type { Risk } from './types.ts'

/**
 * Chance that the variant beats the baseline, P(Δ > 0) = Φ(estimate / SE) under the flat-prior posterior
 * N(estimate, SE²) (Gelman et al., Bayesian Data Analysis, 3rd ed., §2.5; gbstats chance_to_win).
 * @example chanceToWin(0.02, 0.01) // ≈ 0.977
 */
export function chanceToWin(estimate: number, standardError: number): number {
  if (standardError === 0) return estimate > 0 ? 1 : estimate < 0 ? 0 : 0.5
  return normalCdf(estimate / standardError)
}

/**
 * Expected loss (risk) of each decision under Δ ~ N(μ, σ²), in the units of the effect:
 * keeping the baseline loses E[max(0, Δ)] = μΦ(μ/σ) + σφ(μ/σ); shipping the variant loses
 * E[max(0, −Δ)] = −μΦ(−μ/σ) + σφ(μ/σ) (mean of a truncated normal).
 * @example expectedLoss(0, 1) // { baseline: 0.3989, variant: 0.3989 }
 */
export function expectedLoss(estimate: number, standardError: number): Risk {
  if (standardError === 0) return { baseline: Math.max(0, estimate), variant: Math.max(0, -estimate) }
  const z = estimate / standardError
  const density = standardError * normalPdf(z)
  return {
    baseline: Math.max(0, estimate * normalCdf(z) + density),
    variant: Math.max(0, -estimate * normalCdf(-z) + density),
  }
}
