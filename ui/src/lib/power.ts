/**
 * Sample size for a fixed-horizon two-sided test of a difference in means, by the normal approximation:
 *
 *   n per arm = (z₁₋α/2 + z₁₋β)² · (σ²_A + σ²_B) / Δ²
 *
 * with σ² = p(1 − p) for a rate. The stats library (stats/power.ts) may replace this later; until then the
 * dashboard keeps its own copy so the calculator never waits on the network.
 */

// Coefficients of Acklam's rational approximation of the inverse normal CDF (relative error < 1.15e-9).
// https://web.archive.org/web/20151030215612/http://home.online.no/~pjacklam/notes/invnorm/
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
const P_LOW = 0.02425

/**
 * The quantile of the standard normal distribution: `inverseNormal(0.975)` ≈ 1.959964.
 * NaN outside (0, 1).
 */
export function inverseNormal(p: number): number {
  if (!(p > 0 && p < 1)) return Number.NaN
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1)
  }
  if (p > 1 - P_LOW) return -inverseNormal(1 - p)
  const q = p - 0.5
  const r = q * q
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
}

export interface PowerInput {
  /** Two-sided significance level, e.g. 0.05. */
  alpha: number
  /** Probability of detecting the effect when it is real, e.g. 0.8. */
  power: number
  /** Per-customer variance in the control arm. */
  varianceA: number
  /** Per-customer variance in the treatment arm. */
  varianceB: number
  /** Absolute difference to detect (same unit as the metric). */
  delta: number
}

/**
 * Customers needed in each of the two compared arms; NaN when an input is out of range.
 *
 * @example
 * samplesPerArm({ alpha: 0.05, power: 0.8, varianceA: 0.09, varianceB: 0.0979, delta: 0.01 }) // 14749
 */
export function samplesPerArm({ alpha, power, varianceA, varianceB, delta }: PowerInput): number {
  if (!(alpha > 0 && alpha < 1 && power > 0 && power < 1 && varianceA >= 0 && varianceB >= 0 && delta !== 0 && Number.isFinite(delta))) return Number.NaN
  const z = inverseNormal(1 - alpha / 2) + inverseNormal(power)
  return Math.ceil((z * z * (varianceA + varianceB)) / (delta * delta))
}

export type Baseline = { kind: 'rate'; rate: number } | { kind: 'mean'; mean: number; sd: number }

export interface PlanInput {
  baseline: Baseline
  /** Relative minimum detectable effect: 0.05 detects a 5% lift over the baseline. */
  mde: number
  alpha: number
  power: number
  /** Traffic weights of the arms (control included); they need not be normalised. */
  weights: number[]
  /** Share of eligible customers held out of the experiment (0–0.5). */
  holdoutPct: number
  /** Share of eligible customers entering the experiment at all (0–1). */
  coverage: number
  /** Share of all customers in the platform-wide holdout (0–0.5). */
  globalHoldoutPct: number
  /** Eligible customers per day reaching the assignment call. */
  eligiblePerDay: number
}

export interface Plan {
  /** Bonferroni-split alpha per comparison (each variant vs control), the worst case for Holm. */
  alphaPerComparison: number
  comparisons: number
  perArm: number
  /** Customers across all arms when the smallest arm reaches `perArm`. */
  inArms: number
  /** Eligible customers that must reach assignment, holdouts and coverage included. */
  eligible: number
  days: number
}

/**
 * Everything the power panel shows, from the experiment's design and its expected traffic. Unequal weights
 * are honoured: the smallest arm sets the pace. Every field is NaN when the inputs do not define a plan.
 */
export function planExperiment(input: PlanInput): Plan {
  const weights = input.weights.filter((w) => Number.isFinite(w) && w > 0)
  const comparisons = Math.max(1, weights.length - 1)
  const alphaPerComparison = input.alpha / comparisons
  const { mde, baseline } = input
  let perArm = Number.NaN
  if (baseline.kind === 'rate') {
    const pA = baseline.rate
    const pB = pA * (1 + mde)
    if (pA > 0 && pA < 1 && pB > 0 && pB < 1) {
      perArm = samplesPerArm({ alpha: alphaPerComparison, power: input.power, varianceA: pA * (1 - pA), varianceB: pB * (1 - pB), delta: pB - pA })
    }
  } else if (baseline.mean !== 0 && baseline.sd > 0) {
    const variance = baseline.sd * baseline.sd
    perArm = samplesPerArm({ alpha: alphaPerComparison, power: input.power, varianceA: variance, varianceB: variance, delta: baseline.mean * mde })
  }
  const total = weights.reduce((s, w) => s + w, 0)
  const smallest = weights.length >= 2 ? Math.min(...weights) / total : Number.NaN
  const inArms = Math.ceil(perArm / smallest)
  const reach = input.coverage * (1 - input.holdoutPct) * (1 - input.globalHoldoutPct)
  const eligible = reach > 0 ? Math.ceil(inArms / reach) : Number.NaN
  const days = input.eligiblePerDay > 0 ? eligible / input.eligiblePerDay : Number.NaN
  return { alphaPerComparison, comparisons, perArm, inArms, eligible, days }
}
