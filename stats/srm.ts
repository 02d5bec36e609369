/**
 * Sample ratio mismatch: Pearson's chi-square goodness of fit of the observed arm counts (holdout included)
 * against the configured weights. Reference: Pearson (1900); Fabijan et al. (2019), "Diagnosing Sample Ratio
 * Mismatch in Online Controlled Experiments", KDD. GrowthBook flags p < 0.001.
 */
import { chiSquareSf } from './distributions.ts'

/** GrowthBook's threshold: an SRM p-value below this is shown loudly as a mismatch. */
export const SRM_THRESHOLD = 0.001

export interface SrmResult {
  /** Σ (Oᵢ − Eᵢ)² / Eᵢ with Eᵢ = N·wᵢ/Σw; null when an arm with weight 0 received customers. */
  chiSquare: number | null
  /** Number of arms with positive weight minus one. */
  df: number
  pValue: number
  mismatch: boolean
}

/**
 * Pearson's (1900) chi-square goodness-of-fit test of observed counts against weights (any positive scale, e.g. [50, 50] or
 * [0.45, 0.45, 0.1]): χ² = Σ (Oᵢ − Eᵢ)²/Eᵢ, df = k − 1, p = P(χ²_df > χ²), mismatch when p < threshold.
 * Arms with weight 0 are left out unless they received customers, which is a mismatch by itself.
 * @example srmTest([5000, 5400], [0.5, 0.5]) // { chiSquare: 15.38, df: 1, pValue: 8.8e-5, mismatch: true }
 */
export function srmTest(observed: number[], weights: number[], threshold = SRM_THRESHOLD): SrmResult {
  if (observed.length !== weights.length) throw new RangeError(`srmTest needs one weight per arm (${observed.length} counts, ${weights.length} weights)`)
  if (observed.some((o) => !(Number.isFinite(o) && o >= 0)) || weights.some((w) => !(Number.isFinite(w) && w >= 0))) {
    throw new RangeError('srmTest needs non-negative finite counts and weights')
  }
  const arms = observed.map((o, i) => ({ o, w: weights[i] }))
  const weighted = arms.filter((arm) => arm.w > 0)
  const df = Math.max(0, weighted.length - 1)
  if (arms.some((arm) => arm.w === 0 && arm.o > 0)) return { chiSquare: null, df, pValue: 0, mismatch: true }
  const total = weighted.reduce((s, arm) => s + arm.o, 0)
  const weightSum = weighted.reduce((s, arm) => s + arm.w, 0)
  if (total === 0 || df === 0) return { chiSquare: 0, df, pValue: 1, mismatch: false }
  const chiSquare = weighted.reduce((s, arm) => {
    const expected = (total * arm.w) / weightSum
    return s + (arm.o - expected) ** 2 / expected
  }, 0)
  const pValue = chiSquareSf(chiSquare, df)
  return { chiSquare, df, pValue, mismatch: pValue < threshold }
}
