/**
 * Time to first purchase: the Kaplan–Meier estimator over pre-aggregated rows (ClickHouse groups customers by
 * day: how many first purchased on that day, how many were censored then), with Greenwood's variance, pointwise
 * confidence bands and the median survival time with a Brookmeyer–Crowley confidence interval; the purchase
 * probability by a day with its two-arm comparison, and the normal comparison rmst.ts shares (one module for the
 * curve and its pointwise readings, hence a little over 300 lines). Method notes: docs/time-to-event.md.
 * References: Kaplan & Meier (1958), JASA 53; Greenwood (1926); Kalbfleisch & Prentice (1980) for the log-log
 * band; Brookmeyer & Crowley (1982), "A confidence interval for the median survival time", Biometrics 38.
 */
import { chanceToWin, expectedLoss } from './bayesian.ts'
import { normalUpperQuantile, twoSidedPValue } from './distributions.ts'
import type { Comparison, NotEstimable } from './types.ts'

/** Customers whose first purchase (`events`) or end of follow-up (`censored`) falls at `time` (e.g. days). */
export interface SurvivalRow {
  time: number
  events: number
  censored: number
}

/** Scale on which the pointwise band is symmetric: log(−log S) (default), log S, or S itself. */
export type SurvivalTransform = 'log-log' | 'log' | 'plain'

export interface KaplanMeierOptions {
  alpha?: number
  transform?: SurvivalTransform
}

export interface KaplanMeierPoint {
  time: number
  atRisk: number
  events: number
  censored: number
  /** Ŝ(t) just after `time`. */
  survival: number
  /** Greenwood: Ŝ(t)·√Σ dᵢ/(nᵢ(nᵢ − dᵢ)); null once Ŝ = 0. */
  standardError: number | null
  lower: number
  upper: number
}

export interface KaplanMeierResult {
  points: KaplanMeierPoint[]
  n: number
  events: number
  /** Smallest time with Ŝ ≤ ½ (midpoint to the next drop when Ŝ = ½ exactly); null when never reached. */
  median: number | null
  /** Brookmeyer–Crowley interval from the pointwise band; an end is null when the band never reaches ½. */
  medianCi: [number | null, number | null]
  alpha: number
  transform: SurvivalTransform
  notEstimable?: NotEstimable
}

const TOLERANCE = Math.sqrt(Number.EPSILON)

function band(s: number, greenwood: number, z: number, transform: SurvivalTransform): [number, number] {
  if (s <= 0) return [0, 0]
  if (greenwood === 0 || s >= 1) return [s, s]
  const sdLog = Math.sqrt(greenwood)
  if (transform === 'plain') return [Math.max(0, s - z * s * sdLog), Math.min(1, s + z * s * sdLog)]
  if (transform === 'log') return [s * Math.exp(-z * sdLog), Math.min(1, s * Math.exp(z * sdLog))]
  // Var(log(−log Ŝ)) = Σ dᵢ/(nᵢ(nᵢ − dᵢ)) / (log Ŝ)², the interval maps back as Ŝ^exp(±z·sd).
  const sd = sdLog / Math.abs(Math.log(s))
  return [s ** Math.exp(z * sd), s ** Math.exp(-z * sd)]
}

/** R survival's rule (`minmin`): first time the curve is ≤ ½; on a flat stretch at exactly ½, the midpoint. */
function firstTimeAtOrBelowHalf(times: number[], values: number[]): number | null {
  const index = values.findIndex((v) => v < 0.5 + TOLERANCE)
  if (index < 0) return null
  if (Math.abs(values[index] - 0.5) < TOLERANCE) {
    const next = values.findIndex((v, i) => i > index && v < values[index] - TOLERANCE)
    if (next >= 0) return (times[index] + times[next]) / 2
  }
  return times[index]
}

function invalid(alpha: number, transform: SurvivalTransform, message: string): KaplanMeierResult {
  return { points: [], n: 0, events: 0, median: null, medianCi: [null, null], alpha, transform, notEstimable: { code: 'invalid_input', message } }
}

/** One knot of the step function: Ŝ just after `time` and Greenwood's running Σ dᵢ/(nᵢ(nᵢ − dᵢ)) (∞ once Ŝ = 0). */
export interface SurvivalKnot {
  time: number
  atRisk: number
  events: number
  censored: number
  survival: number
  greenwood: number
}

/** The Kaplan–Meier step function without bands: what restricted means and comparisons need, cheaply. */
export interface SurvivalSteps {
  n: number
  events: number
  knots: SurvivalKnot[]
}

function rowProblem(row: SurvivalRow): NotEstimable | null {
  const ok =
    Number.isFinite(row.time) && row.time >= 0 && Number.isInteger(row.events) && row.events >= 0 && Number.isInteger(row.censored) && row.censored >= 0
  return ok ? null : { code: 'invalid_input', message: `rows need a finite time ≥ 0 and non-negative integer counts, got ${JSON.stringify(row)}` }
}

/** Rows merged by time in increasing order; rows already sorted with distinct times (ClickHouse's GROUP BY day ORDER BY day) pass as they are. */
function mergedRows(rows: SurvivalRow[]): SurvivalRow[] | NotEstimable {
  let sorted = true
  for (let i = 0; i < rows.length; i++) {
    const bad = rowProblem(rows[i])
    if (bad) return bad
    if (i > 0 && !(rows[i].time > rows[i - 1].time)) sorted = false
  }
  if (sorted) return rows
  const merged = new Map<number, SurvivalRow>()
  for (const row of rows) {
    const at = merged.get(row.time) ?? { time: row.time, events: 0, censored: 0 }
    merged.set(row.time, { time: row.time, events: at.events + row.events, censored: at.censored + row.censored })
  }
  return [...merged.values()].sort((x, y) => x.time - y.time)
}

/**
 * Ŝ(t) = Π_{tᵢ ≤ t} (1 − dᵢ/nᵢ) with nᵢ at risk (censored at tᵢ still count as at risk at tᵢ: events first) and
 * Greenwood's sum, one knot per time with a customer. Rows may repeat a time; they are merged.
 * @example survivalSteps([{ time: 6, events: 3, censored: 1 }, { time: 10, events: 0, censored: 17 }]) // knots[0].survival 18/21
 */
export function survivalSteps(rows: SurvivalRow[]): SurvivalSteps | NotEstimable {
  const merged = mergedRows(rows)
  if (!Array.isArray(merged)) return merged
  let atRisk = 0
  for (const row of merged) atRisk += row.events + row.censored
  const n = atRisk
  let survival = 1
  let greenwood = 0
  let events = 0
  const knots: SurvivalKnot[] = []
  for (const { time, events: d, censored } of merged) {
    if (d + censored === 0) continue
    if (d > 0) {
      survival = d < atRisk ? survival * (1 - d / atRisk) : 0
      greenwood = d < atRisk ? greenwood + d / (atRisk * (atRisk - d)) : Infinity
      events += d
    }
    knots.push({ time, atRisk, events: d, censored, survival, greenwood })
    atRisk -= d + censored
  }
  return { n, events, knots }
}

const criticalValues = new Map<number, number>()

/** z_{1−α/2}, remembered per α: the simulations call this millions of times with the same α. */
export function twoSidedZ(alpha: number): number {
  let z = criticalValues.get(alpha)
  if (z === undefined) {
    if (criticalValues.size > 100) criticalValues.clear()
    z = normalUpperQuantile(alpha / 2)
    criticalValues.set(alpha, z)
  }
  return z
}

function pointOf(knot: SurvivalKnot, z: number, transform: SurvivalTransform): KaplanMeierPoint {
  const { time, atRisk, events, censored, survival, greenwood } = knot
  if (survival <= 0) return { time, atRisk, events, censored, survival: 0, standardError: null, lower: 0, upper: 0 }
  const [lower, upper] = band(survival, greenwood, z, transform)
  return { time, atRisk, events, censored, survival, standardError: survival * Math.sqrt(greenwood), lower, upper }
}

/**
 * Kaplan–Meier curve Ŝ(t) = Π_{tᵢ ≤ t} (1 − dᵢ/nᵢ) with nᵢ at risk (censored at tᵢ still count as at risk at
 * tᵢ), Greenwood variance Var Ŝ = Ŝ² Σ dᵢ/(nᵢ(nᵢ − dᵢ)), a (1 − α) pointwise band on the chosen scale, and
 * the median with the Brookmeyer–Crowley interval {t : ½ inside the band at t}: from the first time the lower
 * band reaches ½ to the first time the upper band does. Rows may repeat a time; they are merged.
 * @example kaplanMeier([{ time: 6, events: 3, censored: 1 }, { time: 7, events: 1, censored: 0 }, { time: 10, events: 0, censored: 17 }]).points[0].survival // 18/21
 */
export function kaplanMeier(rows: SurvivalRow[], options: KaplanMeierOptions = {}): KaplanMeierResult {
  const alpha = options.alpha ?? 0.05
  const transform = options.transform ?? 'log-log'
  if (!(alpha > 0 && alpha < 1)) return invalid(alpha, transform, `alpha must lie strictly between 0 and 1, got ${alpha}`)
  const steps = survivalSteps(rows)
  if ('code' in steps) return invalid(alpha, transform, steps.message)
  const z = twoSidedZ(alpha)
  const points = steps.knots.map((knot) => pointOf(knot, z, transform))
  const pointTimes = points.map((p) => p.time)
  return {
    points,
    n: steps.n,
    events: steps.events,
    median: firstTimeAtOrBelowHalf(
      pointTimes,
      points.map((p) => p.survival),
    ),
    medianCi: [
      firstTimeAtOrBelowHalf(
        pointTimes,
        points.map((p) => p.lower),
      ),
      firstTimeAtOrBelowHalf(
        pointTimes,
        points.map((p) => p.upper),
      ),
    ],
    alpha,
    transform,
  }
}

/** Whether the median was reached within follow-up; when it was not, no median and no interval are reported. */
export interface MedianTimeToEvent {
  status: 'reached' | 'not reached'
  median: number | null
  /** Brookmeyer–Crowley interval (an end is null when the band never reaches ½); null when not reached. */
  ci: [number | null, number | null] | null
  alpha: number
  /** Ŝ at the last observed time: the lowest the curve goes within follow-up. */
  lastSurvival: number
  /** A sentence for people, e.g. why the median was not reached. */
  message: string
  notEstimable?: NotEstimable
}

/**
 * The Kaplan–Meier median with its interval where the curve reaches ½, and an explicit 'not reached' otherwise
 * (win-back offers reactivate 10–15% of customers, so Ŝ never falls to ½ and there is no median to report: use
 * restrictedMeanSurvival or purchaseProbabilityBy instead).
 * @example medianTimeToEvent([{ time: 3, events: 10, censored: 0 }, { time: 30, events: 0, censored: 90 }]).status // 'not reached'
 */
export function medianTimeToEvent(rows: SurvivalRow[], options: KaplanMeierOptions = {}): MedianTimeToEvent {
  const km = kaplanMeier(rows, options)
  const last = km.points.at(-1)
  const lastSurvival = last?.survival ?? 1
  if (km.notEstimable || !last) {
    const reason = km.notEstimable ?? { code: 'insufficient_sample' as const, message: 'no customers' }
    return { status: 'not reached', median: null, ci: null, alpha: km.alpha, lastSurvival, message: reason.message, notEstimable: reason }
  }
  if (km.median === null) {
    const share = (100 * (1 - lastSurvival)).toFixed(1)
    const message = `not reached: ${share}% had the event by ${last.time}, so the curve stays above ½`
    return { status: 'not reached', median: null, ci: null, alpha: km.alpha, lastSurvival, message }
  }
  return { status: 'reached', median: km.median, ci: km.medianCi, alpha: km.alpha, lastSurvival, message: `median ${km.median}` }
}

export interface TimeToEventOptions {
  alpha?: number
}

export interface PurchaseProbabilityOptions extends TimeToEventOptions {
  /** Scale of the interval: 'log-log' (default, Kalbfleisch & Prentice) or 'plain' (Ŝ ± z·SE); clamped to [0, 1]. */
  transform?: 'log-log' | 'plain'
}

/** 1 − Ŝ(day): the share who purchased on or before `day`, with Greenwood's standard error. */
export interface PurchaseProbability {
  /** The day asked for (null when it was not a finite number). */
  day: number | null
  estimate: number | null
  standardError: number | null
  ci: [number, number] | null
  alpha: number
  transform: 'log-log' | 'plain'
  n: number
  /** Events on or before `day`. */
  events: number
  notEstimable?: NotEstimable
}

/**
 * Purchase probability by a day, F̂(day) = 1 − Ŝ(day) (purchases on `day` included), Greenwood
 * SE = Ŝ·√Σ_{tᵢ ≤ day} dᵢ/(nᵢ(nᵢ − dᵢ)) (Greenwood 1926), and the Kaplan–Meier band mapped to [1 − upper, 1 − lower].
 * Undefined, with a reason, past the last observed time while Ŝ > 0 (nobody was followed that long).
 * Reused as is for time to repurchase after reactivation: pass those rows.
 * @example purchaseProbabilityBy([{ time: 3, events: 10, censored: 0 }, { time: 30, events: 0, censored: 90 }], 7).estimate // 0.1
 */
export function purchaseProbabilityBy(rows: SurvivalRow[], day: number, options: PurchaseProbabilityOptions = {}): PurchaseProbability {
  const alpha = options.alpha ?? 0.05
  const transform = options.transform ?? 'log-log'
  const base = { day: Number.isFinite(day) ? day : null, estimate: null, standardError: null, ci: null, alpha, transform, n: 0, events: 0 }
  if (!Number.isFinite(day) || day < 0) return { ...base, notEstimable: { code: 'invalid_input', message: `day must be a finite number ≥ 0, got ${day}` } }
  if (!(alpha > 0 && alpha < 1)) return { ...base, notEstimable: { code: 'invalid_input', message: `alpha must lie strictly between 0 and 1, got ${alpha}` } }
  const steps = survivalSteps(rows)
  if ('code' in steps) return { ...base, notEstimable: steps }
  const counted = { ...base, n: steps.n }
  const last = steps.knots.at(-1)
  if (!last) return { ...counted, notEstimable: { code: 'insufficient_sample', message: 'no customers' } }
  if (day > last.time && last.survival > 0) {
    const message = `nobody was followed past ${last.time}, so the share purchased by ${day} is unknown`
    return { ...counted, notEstimable: { code: 'insufficient_sample', message } }
  }
  let events = 0
  let at: SurvivalKnot | undefined
  for (const knot of steps.knots) {
    if (knot.time > day) break
    events += knot.events
    at = knot
  }
  if (!at || at.survival === 1) return { ...counted, events, estimate: 0, standardError: 0, ci: [0, 0] }
  if (at.survival === 0) return { ...counted, events, estimate: 1, standardError: 0, ci: [1, 1] }
  const [lower, upper] = band(at.survival, at.greenwood, twoSidedZ(alpha), transform)
  const ci: [number, number] = [Math.max(0, 1 - upper), Math.min(1, 1 - lower)]
  return { ...counted, events, estimate: 1 - at.survival, standardError: at.survival * Math.sqrt(at.greenwood), ci }
}

/** Comparison labels: which metric and arms the numbers belong to. */
export interface TimeToEventCompareOptions extends TimeToEventOptions {
  metric?: string
  baseline?: string
  variant?: string
}

export interface PurchaseProbabilityComparison extends Comparison {
  day: number | null
  baselineArm: PurchaseProbability
  variantArm: PurchaseProbability
}

/**
 * Difference in purchase probability by `day`, F̂_B − F̂_A, with SE = √(SE_A² + SE_B²) (independent arms),
 * a normal interval and two-sided p-value; significant ⇔ the interval excludes 0 ⇔ p < α. With a zero SE
 * (e.g. no purchases in either arm) every number is null and `notEstimable` says why.
 * @example comparePurchaseProbability([{ time: 3, events: 10, censored: 90 }], [{ time: 3, events: 20, censored: 80 }], 3).estimate // 0.1
 */
export function comparePurchaseProbability(
  a: SurvivalRow[],
  b: SurvivalRow[],
  day: number,
  options: TimeToEventCompareOptions = {},
): PurchaseProbabilityComparison {
  const alpha = options.alpha ?? 0.05
  const baselineArm = purchaseProbabilityBy(a, day, { alpha, transform: 'plain' })
  const variantArm = purchaseProbabilityBy(b, day, { alpha, transform: 'plain' })
  const test = normalComparison(baselineArm, variantArm, options, true)
  return Object.assign(test, { day: baselineArm.day, baselineArm, variantArm })
}

/** One arm's estimate for a comparison: its number, standard error, size and, when it has none, why. */
export interface ArmEstimate {
  estimate: number | null
  standardError: number | null
  n: number
  notEstimable?: NotEstimable
}

/**
 * Two-sided normal test on a difference of independent estimates: Δ = B − A, SE = √(SE_A² + SE_B²),
 * interval Δ ± z_{1−α/2}·SE, p = 2·P(Z > |Δ/SE|). The verdict is the interval's (it excludes 0); where
 * |Δ/SE| = z within rounding, p is moved to the same side of α, so significant ⇔ interval excludes 0 ⇔ p < α
 * holds exactly. `withChance` adds the flat-prior chance P(Δ > 0) and risk (bayesian.ts).
 */
export function normalComparison(a: ArmEstimate, b: ArmEstimate, options: TimeToEventCompareOptions, withChance: boolean): Comparison {
  const alpha = options.alpha ?? 0.05
  const result: Comparison = {
    baseline: options.baseline ?? 'baseline',
    variant: options.variant ?? 'variant',
    metric: options.metric ?? 'metric',
    kind: 'absolute',
    method: 'normal',
    alpha,
    estimate: null,
    ci: null,
    pValue: null,
    standardError: null,
    chanceToWin: null,
    risk: null,
    significant: false,
    baselineMean: a.estimate,
    variantMean: b.estimate,
    baselineN: a.n,
    variantN: b.n,
  }
  const problem = comparisonProblem(a, b, alpha)
  if (problem) return { ...result, notEstimable: problem }
  const estimate = (b.estimate as number) - (a.estimate as number)
  const standardError = Math.sqrt((a.standardError as number) ** 2 + (b.standardError as number) ** 2)
  if (standardError === 0) {
    return {
      ...result,
      notEstimable: { code: 'zero_variance', message: 'the standard error is 0 (e.g. no events in either arm), so there is no sampling error to test against' },
    }
  }
  const halfWidth = twoSidedZ(alpha) * standardError
  const ci: [number, number] = [estimate - halfWidth, estimate + halfWidth]
  const significant = ci[0] > 0 || ci[1] < 0
  let pValue = twoSidedPValue(estimate / standardError, null)
  if (significant && !(pValue < alpha)) pValue = alpha * (1 - Number.EPSILON)
  if (!significant && pValue < alpha) pValue = alpha
  if (!(Number.isFinite(estimate) && Number.isFinite(standardError) && Number.isFinite(ci[0]) && Number.isFinite(ci[1]))) {
    return { ...result, notEstimable: { code: 'invalid_input', message: 'the inputs are too extreme for finite results' } }
  }
  result.estimate = estimate
  result.ci = ci
  result.pValue = pValue
  result.standardError = standardError
  result.significant = significant
  if (withChance) {
    result.chanceToWin = chanceToWin(estimate, standardError)
    result.risk = expectedLoss(estimate, standardError)
  }
  return result
}

function comparisonProblem(a: ArmEstimate, b: ArmEstimate, alpha: number): NotEstimable | null {
  if (!(alpha > 0 && alpha < 1)) return { code: 'invalid_input', message: `alpha must lie strictly between 0 and 1, got ${alpha}` }
  if (a.notEstimable) return { code: a.notEstimable.code, message: `baseline: ${a.notEstimable.message}` }
  if (b.notEstimable) return { code: b.notEstimable.code, message: `variant: ${b.notEstimable.message}` }
  if (a.estimate === null || b.estimate === null || a.standardError === null || b.standardError === null) {
    return { code: 'insufficient_sample', message: 'an arm has no estimate' }
  }
  return null
}
