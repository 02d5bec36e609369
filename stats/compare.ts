/**
 * Turning two arm summaries into the Comparison a report shows: effect (absolute or relative), fixed-horizon
 * Welch t or sequential interval and p-value, and the Bayesian chance to win and risk beside them.
 * Every path that cannot produce finite numbers returns an explicit `notEstimable` reason instead.
 */
import { chanceToWin, expectedLoss } from './bayesian.ts'
import { absoluteEffect, relativeEffect } from './effect.ts'
import { fixedHorizonTest, welchSatterthwaiteDf } from './frequentist.ts'
import { summarizeMean, summarizeProportion, type ArmSummary } from './moments.ts'
import { confidenceSequence, DEFAULT_SEQUENTIAL_TUNING } from './sequential.ts'
import type { CompareOptions, Comparison, MeanStats, NotEstimable, NotEstimableCode, ProportionStats } from './types.ts'

/** Options with defaults applied. */
export interface ResolvedOptions {
  kind: 'absolute' | 'relative'
  alpha: number
  tuning: number | null
  metric: string
  baseline: string
  variant: string
}

export function resolveOptions(opts: CompareOptions = {}): ResolvedOptions {
  return {
    kind: opts.kind ?? 'relative',
    alpha: opts.alpha ?? 0.05,
    tuning: opts.sequential ? (opts.sequential.tuning ?? DEFAULT_SEQUENTIAL_TUNING) : null,
    metric: opts.metric ?? 'metric',
    baseline: opts.baseline ?? 'baseline',
    variant: opts.variant ?? 'variant',
  }
}

export function notEstimable(code: NotEstimableCode, message: string): NotEstimable {
  return { code, message }
}

function finiteOrNull(x: number | null | undefined): number | null {
  return x !== null && x !== undefined && Number.isFinite(x) ? x : null
}

/** A comparison with every number that could not be computed set to null and the reason attached. */
export function notEstimableComparison(
  opts: ResolvedOptions,
  reason: NotEstimable,
  arms: { baselineN: number; variantN: number; baselineMean?: number | null; variantMean?: number | null },
): Comparison {
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

/** Problems with the options themselves (α outside (0, 1), non-positive tuning). */
export function optionsProblem(opts: ResolvedOptions): NotEstimable | null {
  if (!(opts.alpha > 0 && opts.alpha < 1)) return notEstimable('invalid_input', `alpha must lie strictly between 0 and 1, got ${opts.alpha}`)
  if (opts.tuning !== null && !(opts.tuning > 0 && Number.isFinite(opts.tuning))) {
    return notEstimable('invalid_input', `the sequential tuning parameter must be a positive number, got ${opts.tuning}`)
  }
  return null
}

export function allFinite(values: unknown[]): boolean {
  return values.every((v) => typeof v === 'number' && Number.isFinite(v))
}

export function countProblem(n: number, arm: string): NotEstimable | null {
  if (!(Number.isInteger(n) && n >= 0)) return notEstimable('invalid_input', `${arm} n must be a non-negative integer, got ${n}`)
  return null
}

/**
 * The engine behind every compare* function: effect by kind, then Welch t (or the confidence sequence
 * when sequential), chance to win and risk. Checks, in order: n ≥ 2 per arm, μA ≠ 0 for relative lifts,
 * a positive standard error.
 */
export function compareSummaries(a: ArmSummary, b: ArmSummary, opts: ResolvedOptions): Comparison {
  const arms = { baselineN: a.n, variantN: b.n, baselineMean: a.mean, variantMean: b.mean }
  const problem = optionsProblem(opts)
  if (problem) return notEstimableComparison(opts, problem, arms)
  if (a.n < 2 || b.n < 2) {
    return notEstimableComparison(opts, notEstimable('insufficient_sample', `each arm needs at least 2 customers (baseline ${a.n}, variant ${b.n})`), arms)
  }
  if (!allFinite([a.mean, a.variance, b.mean, b.variance])) {
    return notEstimableComparison(opts, notEstimable('invalid_input', 'the sufficient statistics do not give finite means and variances'), arms)
  }
  if (opts.kind === 'relative' && a.mean === 0) {
    return notEstimableComparison(opts, notEstimable('zero_baseline', 'the baseline mean is 0, so a relative lift is undefined; use the absolute difference'), arms)
  }
  const effect = opts.kind === 'relative' ? relativeEffect(a, b) : absoluteEffect(a, b)
  const standardError = Math.sqrt(effect.variance)
  if (!(standardError > 0) || !Number.isFinite(standardError) || !Number.isFinite(effect.estimate)) {
    return notEstimableComparison(opts, notEstimable('zero_variance', 'both arms have zero variance (every value is the same), so there is no sampling error to test against'), arms)
  }
  const sequential = opts.tuning !== null
  const df = sequential ? null : welchSatterthwaiteDf(a, b)
  const test = sequential
    ? { ...confidenceSequence(effect.estimate, standardError, a.n + b.n, opts.alpha, opts.tuning ?? DEFAULT_SEQUENTIAL_TUNING), method: 'sequential' as const }
    : fixedHorizonTest(effect.estimate, standardError, df as number, opts.alpha)
  return {
    baseline: opts.baseline,
    variant: opts.variant,
    metric: opts.metric,
    kind: opts.kind,
    method: test.method,
    alpha: opts.alpha,
    estimate: effect.estimate,
    ci: test.ci,
    pValue: test.pValue,
    standardError,
    df,
    chanceToWin: chanceToWin(effect.estimate, standardError),
    risk: expectedLoss(effect.estimate, standardError),
    significant: test.pValue < opts.alpha,
    baselineMean: a.mean,
    variantMean: b.mean,
    baselineN: a.n,
    variantN: b.n,
  }
}

function proportionProblem(s: ProportionStats, arm: string): NotEstimable | null {
  if (!allFinite([s.n, s.sum])) return notEstimable('invalid_input', `${arm} statistics must be finite numbers`)
  const count = countProblem(s.n, arm)
  if (count) return count
  if (s.sum < 0 || s.sum > s.n) return notEstimable('invalid_input', `${arm} conversions must lie between 0 and n (${s.sum} of ${s.n})`)
  return null
}

function meanProblem(s: MeanStats, arm: string): NotEstimable | null {
  if (!allFinite([s.n, s.sum, s.sumSquares])) return notEstimable('invalid_input', `${arm} statistics must be finite numbers`)
  const count = countProblem(s.n, arm)
  if (count) return count
  if (s.sumSquares < 0) return notEstimable('invalid_input', `${arm} sum of squares cannot be negative`)
  return null
}

/**
 * Compare conversion rates p = Σx/n with per-customer variance p(1 − p) (no n/(n − 1) correction, as gbstats),
 * by the Welch t on the absolute difference or the delta-method relative lift (see effect.ts).
 * @example compareProportions({ n: 1000, sum: 100 }, { n: 1000, sum: 130 }, { kind: 'relative' }).estimate // 0.3
 */
export function compareProportions(a: ProportionStats, b: ProportionStats, options: CompareOptions = {}): Comparison {
  const opts = resolveOptions(options)
  const problem = optionsProblem(opts) ?? proportionProblem(a, 'baseline') ?? proportionProblem(b, 'variant')
  if (problem) return notEstimableComparison(opts, problem, { baselineN: a.n, variantN: b.n })
  const arms = { baselineN: a.n, variantN: b.n, baselineMean: a.n > 0 ? a.sum / a.n : null, variantMean: b.n > 0 ? b.sum / b.n : null }
  if (a.n < 2 || b.n < 2) return insufficient(opts, arms)
  return compareSummaries(summarizeProportion(a), summarizeProportion(b), opts)
}

/**
 * Compare per-customer means μ = Σx/n with sample variances (Σx² − (Σx)²/n)/(n − 1): two-sided Welch t with
 * Welch–Satterthwaite df (Welch 1947), on the absolute difference or the delta-method relative lift.
 * @example compareMeans({ n: 3407, sum: 1396.87, sumSquares: 52377.9767 }, { n: 3461, sum: 2422.7, sumSquares: 134698.29 }).ci // ≈ [-0.03526, 1.44989]
 */
export function compareMeans(a: MeanStats, b: MeanStats, options: CompareOptions = {}): Comparison {
  const opts = resolveOptions(options)
  const problem = optionsProblem(opts) ?? meanProblem(a, 'baseline') ?? meanProblem(b, 'variant')
  if (problem) return notEstimableComparison(opts, problem, { baselineN: a.n, variantN: b.n })
  const arms = { baselineN: a.n, variantN: b.n, baselineMean: a.n > 0 ? a.sum / a.n : null, variantMean: b.n > 0 ? b.sum / b.n : null }
  if (a.n < 2 || b.n < 2) return insufficient(opts, arms)
  return compareSummaries(summarizeMean(a), summarizeMean(b), opts)
}

/** The n < 2 result, keeping whatever means exist. */
export function insufficient(opts: ResolvedOptions, arms: { baselineN: number; variantN: number; baselineMean: number | null; variantMean: number | null }): Comparison {
  return notEstimableComparison(
    opts,
    notEstimable('insufficient_sample', `each arm needs at least 2 customers (baseline ${arms.baselineN}, variant ${arms.variantN})`),
    arms,
  )
}
