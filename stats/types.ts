/**
 * Shared shapes of the stats library: per-arm sufficient statistics in, comparisons out.
 * See docs/statistics.md for the conventions these types carry.
 */

/** n customers and the count of those with a 0/1 outcome (e.g. converted). */
export interface ProportionStats {
  n: number
  sum: number
}

/** Per-customer values (zeros included): count, Σx and Σx². */
export interface MeanStats {
  n: number
  sum: number
  sumSquares: number
}

/** Per-customer numerator and denominator of a ratio metric (e.g. AOV = revenue / orders); crossSum = Σ num·den. */
export interface RatioStats {
  n: number
  numSum: number
  numSumSquares: number
  denSum: number
  denSumSquares: number
  crossSum: number
}

/** Outcome after exposure and the same metric over the pre-exposure window; crossSum = Σ post·pre. */
export interface CupedStats {
  n: number
  post: { sum: number; sumSquares: number }
  pre: { sum: number; sumSquares: number }
  crossSum: number
}

export type EffectKind = 'absolute' | 'relative'

export interface CompareOptions {
  /** 'relative' (default): (μB − μA)/|μA|, tested by the absolute test with a Fieller interval; 'absolute': μB − μA. */
  kind?: EffectKind
  /** Two-sided significance level, default 0.05. */
  alpha?: number
  /**
   * Always-valid confidence sequence instead of the fixed-horizon interval; tuning defaults to 5000.
   * `designAlpha` (default: `alpha`) is the level the mixing parameter ρ is tuned for. Pass the family's α when
   * recomputing an interval at an adjusted level (familyLevels), so that ρ, and with it the p-value, stay those
   * of the α-level test: the sequence at level L then excludes 0 exactly when that p-value is below L.
   */
  sequential?: { tuning?: number; designAlpha?: number } | false
  metric?: string
  baseline?: string
  variant?: string
}

export type NotEstimableCode = 'invalid_input' | 'insufficient_sample' | 'zero_baseline' | 'zero_denominator' | 'zero_variance'

/** Why a comparison has no numbers: a code for programs and a sentence for people. */
export interface NotEstimable {
  code: NotEstimableCode
  message: string
}

/** Expected loss of shipping each arm: E[max(0, Δ)] for keeping the baseline, E[max(0, −Δ)] for the variant. */
export interface Risk {
  baseline: number
  variant: number
}

export type AdjustmentMethod = 'holm' | 'bonferroni' | 'bh'

/** How the interval and p-value were obtained. */
export type TestMethod = 'welch-t' | 'normal' | 'sequential'

/**
 * Variant B against baseline A. When `notEstimable` is set every number that could not be computed is
 * null (never NaN or Infinity) and `significant` is false.
 */
export interface Comparison {
  baseline: string
  variant: string
  metric: string
  kind: EffectKind
  method: TestMethod
  alpha: number
  estimate: number | null
  ci: [number, number] | null
  /**
   * Set (true) on a relative lift whose Fieller interval is unbounded: the baseline mean is not significantly
   * different from 0 at this level (μA² ≤ c²·Var(μA)), so every lift down to −∞ or up to +∞ is compatible with
   * the data. `ci` is then null while the estimate, p-value and verdict (which come from the absolute test)
   * stand. Absent otherwise.
   */
  ciUnbounded?: true
  pValue: number | null
  adjustedPValue?: number | null
  adjustment?: AdjustmentMethod
  standardError: number | null
  /** Welch–Satterthwaite degrees of freedom (fixed-horizon tests only). */
  df?: number | null
  chanceToWin: number | null
  risk: Risk | null
  significant: boolean
  notEstimable?: NotEstimable
  baselineMean: number | null
  variantMean: number | null
  baselineN: number
  variantN: number
}

/** A CUPED comparison also reports the pooled θ and the share of variance it removed. */
export interface CupedComparison extends Comparison {
  theta: number | null
  varianceReduction: number | null
}
