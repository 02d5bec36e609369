/**
 * Quantiles of an event value (median order value, p90 basket size) when the customer, not the event, is the
 * randomization unit: a customer's orders are correlated, so an interval that treats every order as independent is
 * too narrow. The method is the "outer" confidence interval of Deng, Knoblich and Lu (2018), "Applying the Delta
 * Method in Metric Analytics", KDD, §4.3 (also GrowthBook's clustered quantile test):
 *
 * 1. q̂ = the sample p-quantile of every qualifying event of the arm (type 7, ClickHouse quantileExactInclusive).
 * 2. The empirical CDF at q̂, F̂ = Σᵢ aᵢ / Σᵢ mᵢ (aᵢ: customer i's events with a value ≤ q̂, mᵢ: their events), is a
 *    ratio of per-customer sums, so its variance comes from the delta method on (aᵢ, mᵢ) over the customers.
 * 3. The interval is [Q(p − z·σ), Q(p + z·σ)] with σ = sd(F̂), read off the same events (a second pass).
 * 4. Comparisons use the standard error the interval implies, (upper − lower) / (2z), with a normal test on the
 *    relative lift (delta method) and the absolute difference beside it.
 */
import { normalSf, normalUpperQuantile } from './distributions.ts'
import { summarizeRatio } from './ratio.ts'
import type { Comparison, EffectKind } from './types.ts'

/** One arm's per-customer sums at its sample quantile q̂ (step 2). */
export interface QuantileRankStats {
  /** Customers counted (those without a qualifying event add 0 to every sum). */
  n: number
  /** Σ aᵢ, Σ aᵢ²: events at or below q̂ per customer. */
  belowSum: number
  belowSumSquares: number
  /** Σ mᵢ, Σ mᵢ²: qualifying events per customer. */
  eventsSum: number
  eventsSumSquares: number
  /** Σ aᵢ·mᵢ */
  crossSum: number
}

/**
 * The probabilities whose sample quantiles bound the interval of the p-quantile at level 1 − α (step 3), and
 * σ = sd(F̂). Null without at least two customers with events.
 *
 * @example quantileRankBounds(stats, 0.5, 0.05) // { lower: 0.468, upper: 0.532, sd: 0.0163 }
 */
export function quantileRankBounds(stats: QuantileRankStats, p: number, alpha: number): { lower: number; upper: number; sd: number } | null {
  if (stats.n < 2 || stats.eventsSum <= 0) return null
  const summary = summarizeRatio({
    n: stats.n,
    numSum: stats.belowSum,
    numSumSquares: stats.belowSumSquares,
    denSum: stats.eventsSum,
    denSumSquares: stats.eventsSumSquares,
    crossSum: stats.crossSum,
  })
  const sd = Math.sqrt(Math.max(summary.variance, 0) / stats.n)
  const z = normalUpperQuantile(alpha / 2)
  return { lower: Math.max(0, p - z * sd), upper: Math.min(1, p + z * sd), sd }
}

/**
 * The sample p-quantile of sorted values by linear interpolation between order statistics (Hyndman–Fan type 7,
 * as ClickHouse's quantileExactInclusive and numpy's default). Null for no values.
 *
 * @example sampleQuantile([1, 2, 3, 4], 0.5) // 2.5
 */
export function sampleQuantile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null
  const h = (sorted.length - 1) * p
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo])
}

/** One arm's quantile with its interval (steps 1 and 3). */
export interface QuantileArm {
  n: number
  estimate: number | null
  ci: [number, number] | null
}

/** The standard error an arm's interval implies (step 4); null without an interval. */
export function quantileStandardError(arm: QuantileArm, alpha: number): number | null {
  if (!arm.ci || arm.estimate === null) return null
  return (arm.ci[1] - arm.ci[0]) / (2 * normalUpperQuantile(alpha / 2))
}

/**
 * Compares two arms' quantiles: the relative lift (q_B − q_A)/|q_A| with its delta-method standard error
 * (or the absolute difference), a normal interval and a two-sided p-value, so that "significant" holds exactly
 * when the interval excludes 0.
 *
 * @example compareQuantiles(control, variant, { alpha: 0.05 }).ci // [-0.031, 0.088]
 */
export function compareQuantiles(
  a: QuantileArm,
  b: QuantileArm,
  options: { alpha?: number; kind?: EffectKind; metric?: string; baseline?: string; variant?: string } = {},
): Comparison {
  const alpha = options.alpha ?? 0.05
  const kind = options.kind ?? 'relative'
  const base: Comparison = {
    baseline: options.baseline ?? 'baseline',
    variant: options.variant ?? 'variant',
    metric: options.metric ?? 'metric',
    kind,
    method: 'normal',
    alpha,
    estimate: null,
    ci: null,
    pValue: null,
    standardError: null,
    df: null,
    chanceToWin: null,
    risk: null,
    significant: false,
    baselineMean: a.estimate,
    variantMean: b.estimate,
    baselineN: a.n,
    variantN: b.n,
  }
  const seA = quantileStandardError(a, alpha)
  const seB = quantileStandardError(b, alpha)
  if (seA === null || seB === null || a.estimate === null || b.estimate === null) return base
  if (kind === 'relative' && a.estimate === 0)
    return { ...base, notEstimable: { code: 'zero_baseline', message: "the baseline's quantile is 0, so a relative lift is undefined" } }
  const estimate = kind === 'relative' ? (b.estimate - a.estimate) / Math.abs(a.estimate) : b.estimate - a.estimate
  const se = kind === 'relative' ? Math.sqrt(seB ** 2 / a.estimate ** 2 + (b.estimate ** 2 * seA ** 2) / a.estimate ** 4) : Math.sqrt(seA ** 2 + seB ** 2)
  if (!(se > 0)) return { ...base, estimate }
  const z = normalUpperQuantile(alpha / 2)
  const ci: [number, number] = [estimate - z * se, estimate + z * se]
  const pValue = Math.min(1, 2 * normalSf(Math.abs(estimate) / se))
  return { ...base, estimate, ci, pValue, standardError: se, significant: ci[0] > 0 || ci[1] < 0 }
}
