/**
 * Options with their defaults, input checks, and the "not estimable" result: every comparison that cannot
 * produce finite numbers says why, with numbers set to null (JSON carries neither NaN nor Infinity).
 */
import { impossibleCrossProduct, impossibleSumOfSquares } from './moments.ts'
import { DEFAULT_SEQUENTIAL_TUNING } from './sequential.ts'
import type { CompareOptions, Comparison, NotEstimable, NotEstimableCode } from './types.ts'

/** Options with defaults applied: relative lift, α = 0.05, fixed horizon, tuning 5000 when sequential. */
export interface ResolvedOptions {
  kind: 'absolute' | 'relative'
  alpha: number
  tuning: number | null
  /** The α the sequential mixing parameter ρ is tuned for (the options' alpha unless given). */
  designAlpha: number
  metric: string
  baseline: string
  variant: string
}

/** Apply the defaults: kind 'relative', α 0.05, `sequential: {}` → tuning 5000, names 'metric'/'baseline'/'variant'. */
export function resolveOptions(opts: CompareOptions = {}): ResolvedOptions {
  return {
    kind: opts.kind ?? 'relative',
    alpha: opts.alpha ?? 0.05,
    tuning: opts.sequential ? (opts.sequential.tuning ?? DEFAULT_SEQUENTIAL_TUNING) : null,
    designAlpha: (opts.sequential ? opts.sequential.designAlpha : undefined) ?? opts.alpha ?? 0.05,
    metric: opts.metric ?? 'metric',
    baseline: opts.baseline ?? 'baseline',
    variant: opts.variant ?? 'variant',
  }
}

/** A reason: a code for programs and a sentence for people. */
export function notEstimable(code: NotEstimableCode, message: string): NotEstimable {
  return { code, message }
}

function finiteOrNull(x: number | null | undefined): number | null {
  return x !== null && x !== undefined && Number.isFinite(x) ? x : null
}

/** Arm sizes and whatever means could be computed, carried into a not-estimable result. */
export interface ArmFacts {
  baselineN: number
  variantN: number
  baselineMean?: number | null
  variantMean?: number | null
}

/** A comparison with every number that could not be computed set to null and the reason attached. */
export function notEstimableComparison(opts: ResolvedOptions, reason: NotEstimable, arms: ArmFacts): Comparison {
  return {
    baseline: opts.baseline,
    variant: opts.variant,
    metric: opts.metric,
    kind: opts.kind,
    method: opts.tuning === null ? 'welch-t' : 'sequential',
    alpha: opts.alpha,
    estimate: null,
    ci: null,
    pValue: null,
    standardError: null,
    df: null,
    chanceToWin: null,
    risk: null,
    significant: false,
    notEstimable: reason,
    baselineMean: finiteOrNull(arms.baselineMean),
    variantMean: finiteOrNull(arms.variantMean),
    baselineN: Number.isFinite(arms.baselineN) ? arms.baselineN : 0,
    variantN: Number.isFinite(arms.variantN) ? arms.variantN : 0,
  }
}

/** The n < 2 result (a sample variance needs two customers), keeping whatever means exist. */
export function insufficient(opts: ResolvedOptions, arms: ArmFacts): Comparison {
  const message = `each arm needs at least 2 customers (baseline ${arms.baselineN}, variant ${arms.variantN})`
  return notEstimableComparison(opts, notEstimable('insufficient_sample', message), arms)
}

/** Problems with the options themselves: α outside (0, 1), a non-positive sequential tuning parameter. */
export function optionsProblem(opts: ResolvedOptions): NotEstimable | null {
  if (!(opts.alpha > 0 && opts.alpha < 1)) return notEstimable('invalid_input', `alpha must lie strictly between 0 and 1, got ${opts.alpha}`)
  if (!(opts.designAlpha > 0 && opts.designAlpha < 1))
    return notEstimable('invalid_input', `the sequential designAlpha must lie strictly between 0 and 1, got ${opts.designAlpha}`)
  if (opts.tuning !== null && !(opts.tuning > 0 && Number.isFinite(opts.tuning))) {
    return notEstimable('invalid_input', `the sequential tuning parameter must be a positive number, got ${opts.tuning}`)
  }
  return null
}

/** True when every value is a finite number. */
export function allFinite(values: unknown[]): boolean {
  return values.every((v) => typeof v === 'number' && Number.isFinite(v))
}

/** A customer count must be a non-negative integer. */
export function countProblem(n: number, arm: string): NotEstimable | null {
  if (!(Number.isInteger(n) && n >= 0)) return notEstimable('invalid_input', `${arm} n must be a non-negative integer, got ${n}`)
  return null
}

/**
 * Sums no real values can have: a centred sum of squares Σx² − (Σx)²/n negative beyond rounding (see
 * SUMS_ROUNDING in moments.ts). `what` names the column ("baseline revenue"). Null when the sums are possible.
 */
export function squaresProblem(n: number, sum: number, sumSquares: number, what: string): NotEstimable | null {
  if (!impossibleSumOfSquares(n, sum, sumSquares)) return null
  const centred = sumSquares - (sum * sum) / n
  return notEstimable(
    'invalid_input',
    `${what}: Σx² − (Σx)²/n = ${centred.toPrecision(6)} is negative (n = ${n}, Σx = ${sum}, Σx² = ${sumSquares}), so these are not the sums of any real values; check the query that produced them`,
  )
}

/** Sums whose covariance exceeds √(Var x · Var y) beyond rounding (a correlation outside [−1, 1]). */
export function crossProblem(
  n: number,
  sumX: number,
  sumY: number,
  crossSum: number,
  sumSquaresX: number,
  sumSquaresY: number,
  what: string,
): NotEstimable | null {
  if (!impossibleCrossProduct(n, sumX, sumY, crossSum, sumSquaresX, sumSquaresY)) return null
  return notEstimable(
    'invalid_input',
    `${what}: |Σxy − ΣxΣy/n| exceeds √((Σx² − (Σx)²/n)(Σy² − (Σy)²/n)) (n = ${n}, Σxy = ${crossSum}), a correlation outside [−1, 1] that no real values have; check the query that produced them`,
  )
}
