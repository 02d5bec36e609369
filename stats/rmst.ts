/**
 * Restricted mean survival time (RMST): the area under the Kaplan–Meier curve from 0 to a horizon τ, i.e. the
 * mean of min(T, τ). For the no-purchase curve it is the restricted mean time to purchase: the expected number of
 * days, out of the first τ, that a customer goes without a purchase (smaller = purchases sooner). Unlike the
 * median it exists however few customers purchase. Variance: the Greenwood-type formula of Klein &
 * Moeschberger (2003), Survival Analysis, 2nd ed., §4.5; comparisons of two arms as in Royston & Parmar (2013),
 * BMC Med Res Methodol 13:152, and Uno et al. (2014), J Clin Oncol 32(22).
 */
import {
  normalComparison,
  survivalSteps,
  twoSidedZ,
  type SurvivalKnot,
  type SurvivalRow,
  type TimeToEventCompareOptions,
  type TimeToEventOptions,
} from './survival.ts'
import type { Comparison, NotEstimable } from './types.ts'

export interface RestrictedMean {
  /** The horizon asked for (null when it was not a finite number). */
  tau: number | null
  /** The horizon integrated to: τ, or the last observed time when the curve is undefined beyond it (see `truncated`). */
  tauUsed: number | null
  /** True when τ lies past the last observed time and Ŝ > 0 there, so the area stops at that time. */
  truncated: boolean
  /** ∫₀^τ Ŝ(t) dt = mean of min(T, τ): e.g. days without a purchase within the first τ. */
  estimate: number | null
  standardError: number | null
  /** estimate ± z_{1−α/2}·SE, clamped to [0, τ used]. */
  ci: [number, number] | null
  alpha: number
  n: number
  /** Events at times before τ used (later ones do not change the area). */
  events: number
  notEstimable?: NotEstimable
}

interface Curve {
  n: number
  knots: SurvivalKnot[]
  /** Where the curve stops being defined: the last observed time while Ŝ > 0 there, else +∞. */
  definedUntil: number
}

function curveOf(rows: SurvivalRow[]): Curve | NotEstimable {
  const steps = survivalSteps(rows)
  if ('code' in steps) return steps
  const last = steps.knots.at(-1)
  if (!last) return { code: 'insufficient_sample', message: 'no customers' }
  return { n: steps.n, knots: steps.knots, definedUntil: last.survival > 0 ? last.time : Infinity }
}

/**
 * Area and variance on [0, τ]: with knots t₁ < … < t_m < τ, Ŝ_j the value on [t_j, t_{j+1}) and t_{m+1} = τ,
 * A_j = Σ_{k ≥ j} Ŝ_k (t_{k+1} − t_k) is the area from t_j to τ, RMST = t₁ + A₁ (Ŝ = 1 before t₁) and
 * Var = Σ_j A_j² d_j / (Y_j (Y_j − d_j)). A time with d_j = Y_j sends Ŝ to 0, so A_j = 0 and it adds nothing.
 */
function areaTo(curve: Curve, tau: number, alpha: number, requested: number): RestrictedMean {
  let m = 0
  while (m < curve.knots.length && curve.knots[m].time < tau) m++
  const knots = curve.knots.slice(0, m)
  let tail = 0
  let variance = 0
  for (let j = knots.length - 1; j >= 0; j--) {
    const next = j + 1 < knots.length ? knots[j + 1].time : tau
    tail += knots[j].survival * (next - knots[j].time)
    const { events, atRisk } = knots[j]
    if (events > 0 && tail > 0) variance += (tail * tail * events) / (atRisk * (atRisk - events))
  }
  const estimate = knots.length > 0 ? knots[0].time + tail : tau
  const standardError = Math.sqrt(variance)
  const halfWidth = twoSidedZ(alpha) * standardError
  return {
    tau: requested,
    tauUsed: tau,
    truncated: tau < requested,
    estimate,
    standardError,
    ci: [Math.max(0, estimate - halfWidth), Math.min(tau, estimate + halfWidth)],
    alpha,
    n: curve.n,
    events: knots.reduce((s, p) => s + p.events, 0),
  }
}

function problem(tau: number, alpha: number): NotEstimable | null {
  if (!(alpha > 0 && alpha < 1)) return { code: 'invalid_input', message: `alpha must lie strictly between 0 and 1, got ${alpha}` }
  if (!(Number.isFinite(tau) && tau > 0)) return { code: 'invalid_input', message: `tau must be a finite number > 0, got ${tau}` }
  return null
}

function unestimable(tau: number, alpha: number, reason: NotEstimable, n = 0): RestrictedMean {
  const echo = Number.isFinite(tau) ? tau : null
  return { tau: echo, tauUsed: echo, truncated: false, estimate: null, standardError: null, ci: null, alpha, n, events: 0, notEstimable: reason }
}

/**
 * Restricted mean survival time up to τ, ∫₀^τ Ŝ(t) dt, with the Greenwood-type standard error
 * √Σ_{t_j < τ} A_j² d_j/(Y_j(Y_j − d_j)) (A_j: area from t_j to τ; Klein & Moeschberger §4.5) and a normal
 * interval. Ties: events before censorings at the same time, as kaplanMeier. Past the last observed time the
 * curve is undefined unless it has reached 0, so the area then stops there (`tauUsed`, `truncated`); censoring
 * everyone still without a purchase at τ (administrative censoring) keeps the curve defined up to τ. No events
 * before τ: estimate τ, SE 0. Reused as is for time to repurchase after reactivation: pass those rows.
 * @example restrictedMeanSurvival([{ time: 10, events: 1, censored: 0 }, { time: 30, events: 0, censored: 9 }], 30).estimate // 10 + 20·0.9 = 28
 */
export function restrictedMeanSurvival(rows: SurvivalRow[], tau: number, options: TimeToEventOptions = {}): RestrictedMean {
  const alpha = options.alpha ?? 0.05
  const bad = problem(tau, alpha)
  if (bad) return unestimable(tau, alpha, bad)
  const curve = curveOf(rows)
  if ('code' in curve) return unestimable(tau, alpha, curve)
  return areaTo(curve, Math.min(tau, curve.definedUntil), alpha, tau)
}

/**
 * The restricted mean time to purchase: restrictedMeanSurvival of the no-purchase curve, the expected days
 * without a purchase within the first τ (mean of min(T, τ)); smaller means customers purchase sooner.
 * @example restrictedMeanTimeToPurchase([{ time: 10, events: 1, censored: 0 }, { time: 30, events: 0, censored: 9 }], 30).estimate // 28
 */
export const restrictedMeanTimeToPurchase = restrictedMeanSurvival

export interface RestrictedMeanComparison extends Comparison {
  tau: number | null
  /** Common horizon of both arms: τ, or the earlier last observed time of an arm whose curve stops before τ. */
  tauUsed: number | null
  baselineArm: RestrictedMean
  variantArm: RestrictedMean
}

/**
 * Difference in restricted mean survival time, B − A, over a common horizon (τ, or less when an arm's curve is
 * undefined before τ), SE = √(Var_A + Var_B), normal interval and two-sided p-value; significant ⇔ the interval
 * excludes 0 ⇔ p < α (Royston & Parmar 2013; Uno et al. 2014). For the no-purchase curve a negative difference
 * means the variant's customers purchase sooner, so `chanceToWin` and `risk` (defined as P(Δ > 0)) are left
 * null rather than rewarding the wrong direction. With a zero SE (no events in either arm) the numbers are
 * null and `notEstimable` says why.
 * @example compareRestrictedMeans([{ time: 5, events: 10, censored: 0 }, { time: 30, events: 0, censored: 90 }], [{ time: 5, events: 20, censored: 0 }, { time: 30, events: 0, censored: 80 }], 30).estimate // 25 − 27.5 = −2.5
 */
export function compareRestrictedMeans(a: SurvivalRow[], b: SurvivalRow[], tau: number, options: TimeToEventCompareOptions = {}): RestrictedMeanComparison {
  const alpha = options.alpha ?? 0.05
  const bad = problem(tau, alpha)
  const curveA = curveOf(a)
  const curveB = curveOf(b)
  const tauUsed = Math.min(tau, 'code' in curveA ? tau : curveA.definedUntil, 'code' in curveB ? tau : curveB.definedUntil)
  const baselineArm = armOf(curveA, tau, tauUsed, alpha, bad)
  const variantArm = armOf(curveB, tau, tauUsed, alpha, bad)
  const test = normalComparison(baselineArm, variantArm, options, false)
  return Object.assign(test, { tau: Number.isFinite(tau) ? tau : null, tauUsed: bad ? null : tauUsed, baselineArm, variantArm })
}

function armOf(curve: Curve | NotEstimable, tau: number, tauUsed: number, alpha: number, bad: NotEstimable | null): RestrictedMean {
  if (bad) return unestimable(tau, alpha, bad)
  return 'code' in curve ? unestimable(tau, alpha, curve) : areaTo(curve, tauUsed, alpha, tau)
}
