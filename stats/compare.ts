/**
 * Turning two arm summaries into the Comparison a report shows: effect (absolute or relative over |baseline|),
 * fixed-horizon Welch t or sequential interval and p-value (a Fieller interval for the relative kind), and the
 * Bayesian chance to win and risk beside them.
 * Every path that cannot produce finite numbers returns an explicit `notEstimable` reason instead.
 */
import { chanceToWin, expectedLoss } from './bayesian.ts'
import { absoluteEffect, relativeEffect } from './effect.ts'
import { twoSidedCriticalValue } from './distributions.ts'
import { fiellerLift } from './fieller.ts'
import { fixedHorizonTest, welchSatterthwaiteDf } from './frequentist.ts'
import { summarizeMean, summarizeProportion, type ArmSummary } from './moments.ts'
import { confidenceSequence, confidenceSequenceMultiplier } from './sequential.ts'
import type { CompareOptions, Comparison, MeanStats, NotEstimable, ProportionStats } from './types.ts'
import {
  allFinite,
  countProblem,
  insufficient,
  notEstimable,
  notEstimableComparison,
  optionsProblem,
  resolveOptions,
  squaresProblem,
  type ArmFacts,
  type ResolvedOptions,
} from './validation.ts'

function tooExtreme(opts: ResolvedOptions, arms: ArmFacts): Comparison {
  return notEstimableComparison(opts, notEstimable('invalid_input', 'the statistics are too extreme to compute in double precision'), arms)
}

/** The absolute test both kinds share: its interval, p-value, method and critical value c (half-width / SE). */
function absoluteTest(a: ArmSummary, b: ArmSummary, estimate: number, standardError: number, opts: ResolvedOptions) {
  if (opts.tuning !== null) {
    const n = a.n + b.n
    const test = confidenceSequence(estimate, standardError, n, opts.alpha, opts.tuning, opts.designAlpha)
    return { ...test, method: 'sequential' as const, df: null, critical: confidenceSequenceMultiplier(n, opts.alpha, opts.tuning, opts.designAlpha) }
  }
  const df = welchSatterthwaiteDf(a, b)
  const test = fixedHorizonTest(estimate, standardError, df, opts.alpha)
  return { ...test, df, critical: twoSidedCriticalValue(opts.alpha, test.method === 'normal' ? null : df) }
}

/**
 * The engine behind every compare* function. Both kinds are decided by one test of the absolute difference
 * Δ = μB − μA: Welch t with Welch–Satterthwaite df (Welch 1947), or the confidence sequence when sequential
 * (Waudby-Smith et al. 2023); significant ⇔ p < α; chance to win P(Δ > 0) and the risks come from the same
 * normal approximation. For kind 'relative' the estimate is (μB − μA)/|μA| and the interval is the Fieller
 * (1954) interval built with the same critical value and per-arm variances (fieller.ts), so it excludes 0
 * exactly when the test rejects and the test errs equally often in each direction; the risks are divided by
 * |μA| and `standardError` is the delta-method SE of the lift (informational). When the baseline mean is not
 * significantly different from 0 the Fieller set is unbounded: `ci` is null and `ciUnbounded` is true, the
 * p-value and verdict still stand. Checks, in order: n ≥ 2 per arm, μA ≠ 0 for relative lifts, a positive
 * standard error.
 */
export function compareSummaries(a: ArmSummary, b: ArmSummary, opts: ResolvedOptions): Comparison {
  const arms = { baselineN: a.n, variantN: b.n, baselineMean: a.mean, variantMean: b.mean }
  const problem = optionsProblem(opts)
  if (problem) return notEstimableComparison(opts, problem, arms)
  if (a.n < 2 || b.n < 2) return insufficient(opts, arms)
  if (!allFinite([a.mean, a.variance, b.mean, b.variance])) {
    return notEstimableComparison(opts, notEstimable('invalid_input', 'the sufficient statistics do not give finite means and variances'), arms)
  }
  const relative = opts.kind === 'relative'
  if (relative && a.mean === 0) {
    return notEstimableComparison(
      opts,
      notEstimable('zero_baseline', 'the baseline mean is 0, so a relative lift is undefined; use the absolute difference'),
      arms,
    )
  }
  const absolute = absoluteEffect(a, b)
  const absoluteSe = Math.sqrt(absolute.variance)
  const effect = relative ? relativeEffect(a, b) : absolute
  const standardError = Math.sqrt(effect.variance)
  if (!allFinite([standardError, effect.estimate, absoluteSe, absolute.estimate])) return tooExtreme(opts, arms)
  if (standardError === 0 || absoluteSe === 0) {
    const why =
      a.variance === 0 && b.variance === 0
        ? 'within each arm every customer has the same value'
        : 'every variant value is 0, and the delta method gives a lift of −100% no spread'
    return notEstimableComparison(opts, notEstimable('zero_variance', `the standard error is 0 (${why}), so there is no sampling error to test against`), arms)
  }
  const test = absoluteTest(a, b, absolute.estimate, absoluteSe, opts)
  const scale = relative ? Math.abs(a.mean) : 1
  const fieller = relative ? fiellerLift(a.mean, a.variance / a.n, b.mean, b.variance / b.n, test.critical) : null
  const ci = fieller ? fieller.ci : test.ci
  const risk = expectedLoss(absolute.estimate, absoluteSe)
  const outputs = [...(ci ?? []), test.pValue, test.df ?? 0, a.mean, b.mean, risk.baseline / scale, risk.variant / scale]
  if (!allFinite(outputs)) return tooExtreme(opts, arms)
  return {
    baseline: opts.baseline,
    variant: opts.variant,
    metric: opts.metric,
    kind: opts.kind,
    method: test.method,
    alpha: opts.alpha,
    estimate: effect.estimate,
    ci,
    ...(fieller?.unbounded ? { ciUnbounded: true as const } : {}),
    pValue: test.pValue,
    standardError,
    df: test.df,
    chanceToWin: chanceToWin(absolute.estimate, absoluteSe),
    risk: { baseline: risk.baseline / scale, variant: risk.variant / scale },
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
  return squaresProblem(s.n, s.sum, s.sumSquares, `${arm} values`)
}

/**
 * Compare conversion rates p = Σx/n with per-customer variance p(1 − p) (no n/(n − 1) correction, as gbstats),
 * by the Welch t on the absolute difference or the delta-method relative lift (see effect.ts).
 * @example compareProportions({ n: 1000, sum: 100 }, { n: 1000, sum: 130 }, { kind: 'relative' }).estimate // 0.3
 */
export function compareProportions(a: ProportionStats, b: ProportionStats, options: CompareOptions = {}): Comparison {
  return compareArms(a, b, options, proportionProblem, summarizeProportion)
}

/**
 * Compare per-customer means μ = Σx/n with sample variances (Σx² − (Σx)²/n)/(n − 1): two-sided Welch t with
 * Welch–Satterthwaite df (Welch 1947), on the absolute difference or the delta-method relative lift.
 * @example compareMeans({ n: 3407, sum: 1396.87, sumSquares: 52377.9767 }, { n: 3461, sum: 2422.7, sumSquares: 134698.29 }).ci // ≈ [-0.03526, 1.44989]
 */
export function compareMeans(a: MeanStats, b: MeanStats, options: CompareOptions = {}): Comparison {
  return compareArms(a, b, options, meanProblem, summarizeMean)
}

/** The shared path of both: validate the inputs, need two customers per arm, then compare the summaries. */
function compareArms<S extends { n: number; sum: number }>(
  a: S,
  b: S,
  options: CompareOptions,
  problemOf: (s: S, arm: string) => NotEstimable | null,
  summarize: (s: S) => ArmSummary,
): Comparison {
  const opts = resolveOptions(options)
  const problem = optionsProblem(opts) ?? problemOf(a, 'baseline') ?? problemOf(b, 'variant')
  if (problem) return notEstimableComparison(opts, problem, { baselineN: a.n, variantN: b.n })
  const arms = { baselineN: a.n, variantN: b.n, baselineMean: a.n > 0 ? a.sum / a.n : null, variantMean: b.n > 0 ? b.sum / b.n : null }
  if (a.n < 2 || b.n < 2) return insufficient(opts, arms)
  return compareSummaries(summarize(a), summarize(b), opts)
}
