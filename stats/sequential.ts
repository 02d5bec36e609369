/**
 * Always-valid inference for experiments that are looked at every day: the asymptotic confidence sequences
 * of Waudby-Smith, Arnold, Wu, McAuliffe, Ramdas (2023), "Time-uniform central limit theory and asymptotic
 * confidence sequences", Annals of Statistics (arXiv:2103.06476v7), as implemented by GrowthBook's gbstats
 * (SequentialTwoSidedTTest): normal mixture boundary with mixing parameter ρ chosen so the sequence is
 * tightest when the total sample size equals the tuning parameter.
 */

/** GrowthBook's default: the total sample size at which the confidence sequence is tightest. */
export const DEFAULT_SEQUENTIAL_TUNING = 5000

/**
 * Mixing parameter ρ = √((−2 ln α + ln(−2 ln α + 1)) / N*), N* the tuning parameter
 * (Waudby-Smith et al. 2023, eq. 161).
 * @example sequentialRho(0.05, 5000) // ≈ 0.0378
 */
export function sequentialRho(alpha: number, tuning: number): number {
  const logAlpha = Math.log(alpha)
  return Math.sqrt((-2 * logAlpha + Math.log(-2 * logAlpha + 1)) / tuning)
}

export interface SequentialTest {
  ci: [number, number]
  pValue: number
}

/**
 * The confidence sequence's half-width in standard errors, c = half-width / SE =
 * √N · √(2(Nρ² + 1) · ln(√(Nρ² + 1)/α) / (N²ρ²)) (Waudby-Smith et al. 2023, eq. 9 / Theorem 2.2, with the
 * per-customer variance s² = SE²·N) and ρ = sequentialRho(designAlpha, tuning). Any fixed ρ > 0 gives a valid
 * sequence at every α; tuning ρ at the family's α (designAlpha) and evaluating at an adjusted level keeps the
 * p-value fixed across levels. It plays the role of the critical value when the same boundary is used for
 * another interval (the Fieller interval of a relative lift, fieller.ts).
 * @example confidenceSequenceMultiplier(6461, 0.05, 5000) // ≈ 3.04
 */
export function confidenceSequenceMultiplier(n: number, alpha: number, tuning = DEFAULT_SEQUENTIAL_TUNING, designAlpha = alpha): number {
  const rho = sequentialRho(designAlpha, tuning)
  const nRho2p1 = n * rho * rho + 1
  return Math.sqrt(n) * Math.sqrt((2 * nRho2p1 * Math.log(Math.sqrt(nRho2p1) / alpha)) / (n * n * rho * rho))
}

/**
 * Two-sided asymptotic confidence sequence for an effect with standard error SE from N = nA + nB customers:
 * estimate ± SE·c with c from confidenceSequenceMultiplier. The p-value is the reciprocal of the mixture
 * e-value, p = min(1, √(Nρ² + 1) · exp(−ρ² N Δ² / (2 SE² (Nρ² + 1)))) (eq. 155 reparameterised as in
 * gbstats), so p < α exactly when the sequence excludes 0. Both use ρ tuned at designAlpha (default α); with
 * designAlpha held fixed the p-value does not depend on the level α the interval is drawn at.
 * @example confidenceSequence(0.5, 0.0339, 6461, 0.05, 5000).ci // ≈ [0.401, 0.607]
 */
export function confidenceSequence(
  estimate: number,
  standardError: number,
  n: number,
  alpha: number,
  tuning = DEFAULT_SEQUENTIAL_TUNING,
  designAlpha = alpha,
): SequentialTest {
  const rho = sequentialRho(designAlpha, tuning)
  const variance = standardError * standardError
  const nRho2p1 = n * rho * rho + 1
  const halfWidth = standardError * confidenceSequenceMultiplier(n, alpha, tuning, designAlpha)
  const logEValue = (rho * rho * n * estimate * estimate) / (2 * variance * nRho2p1) - 0.5 * Math.log(nRho2p1)
  return {
    ci: [estimate - halfWidth, estimate + halfWidth],
    pValue: Math.min(1, Math.exp(-logEValue)),
  }
}
