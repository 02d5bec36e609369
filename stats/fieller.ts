/**
 * Interval for a relative lift that agrees with the absolute test. Fieller (1954), "Some problems in interval
 * estimation", JRSS B 16: for independent means with variances V_A, V_B (of the means) and a critical value
 * c, the set {ρ : (μB − ρμA)² ≤ c²(V_B + ρ²V_A)} is a confidence set for ρ = E[B]/E[A]. Its boundary at ρ = 1
 * is (μB − μA)² = c²(V_A + V_B), the boundary of the absolute test with the same c, so the interval contains
 * "no change" exactly when that test does not reject. The delta-method interval (estimate ± c·SE) lacks this:
 * it is symmetric around a skewed estimator and errs more often downwards than upwards (see docs/statistics.md).
 */

export interface FiellerLift {
  /** Interval for (μB − μA)/|μA|; null when the confidence set is unbounded (see `unbounded`). */
  ci: [number, number] | null
  /**
   * True when μA² ≤ c²V_A, i.e. the baseline mean itself is not significantly different from 0 at this level:
   * the Fieller set is then the whole line or the complement of an interval, and no finite interval exists.
   */
  unbounded: boolean
}

/**
 * Fieller interval for the lift λ = (μB − μA)/|μA| = (ρ − 1)·sign(μA), solved on the lift scale so that
 * λ = 0 (ρ = 1) is located without cancellation. With s = sign(μA), m = |μA|, Δ = μB − μA, substituting
 * ρ = 1 + sλ gives the quadratic a·λ² − 2b·λ + C ≤ 0 with a = m² − c²V_A, b = Δm + s·c²V_A,
 * C = Δ² − c²(V_A + V_B); its discriminant is b² − aC = c²(V_A μB² + V_B a) (no cancellation). When a > 0
 * the set is [λ₁, λ₂] with λ₁λ₂ = C/a, so 0 lies strictly outside exactly when C > 0, i.e. when |Δ| > c·√(V_A + V_B).
 * Roots by the cancellation-free pair q = b + sign(b)√disc, λ = q/a and C/q (Press et al., Numerical Recipes
 * §5.6). Requires μA ≠ 0.
 * @example fiellerLift(10, 0.04, 11, 0.05, 1.96).ci // ≈ [0.0401, 0.1632] (delta method: 0.1 ± 0.0615)
 */
export function fiellerLift(meanA: number, varianceOfMeanA: number, meanB: number, varianceOfMeanB: number, critical: number): FiellerLift {
  const s = Math.sign(meanA)
  const m = Math.abs(meanA)
  const delta = meanB - meanA
  const c2 = critical * critical
  const a = m * m - c2 * varianceOfMeanA
  if (!(a > 0)) return { ci: null, unbounded: true }
  const b = delta * m + s * c2 * varianceOfMeanA
  const constant = delta * delta - c2 * (varianceOfMeanA + varianceOfMeanB)
  const disc = Math.max(0, c2 * (varianceOfMeanA * meanB * meanB + varianceOfMeanB * a))
  const q = b + (b >= 0 ? 1 : -1) * Math.sqrt(disc)
  const roots = q === 0 ? [0, 0] : [q / a, constant / q]
  const lo = Math.min(roots[0], roots[1])
  const hi = Math.max(roots[0], roots[1])
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return { ci: null, unbounded: true }
  return { ci: [lo, hi], unbounded: false }
}
