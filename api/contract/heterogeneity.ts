/** The segment heterogeneity of a report's breakdown (docs/statistics.md → Segment heterogeneity). */

/** A segment's effect against the pooled effect of the other segments, corrected across the report. */
export interface SegmentDeviationResult {
  /** The segment (the attribute's value at first exposure; '(not set)' without one). */
  value: string
  /** Customers in the segment in the two arms compared. */
  n: number
  /** The segment's effect: the variant's relative lift over control (0.2 = +20%), with its delta-method standard error. */
  estimate: number
  standardError: number
  /** The inverse-variance pooled effect of every other segment. */
  rest: { estimate: number; standardError: number }
  /** estimate − rest.estimate, its standard error and unadjusted two-sided p-value. */
  deviation: number
  deviationStandardError: number
  pValue: number
  /** Benjamini–Hochberg adjusted across every segment × variant of the breakdown. */
  adjustedPValue: number
  /** Two-sided level of `ci` (Benjamini–Yekutieli R·α/m). */
  level: number
  /** Adjusted interval of the deviation: excludes 0 exactly when `differs`. */
  ci: [number, number]
  /** Responds differently from the rest after correction. */
  differs: boolean
  /** The segment's effect lies above or below the rest's. */
  direction: 'above' | 'below'
}

/** One variant vs control across the segments of the dimension. */
export interface VariantHeterogeneity {
  variant: string
  baseline: string
  /** Segments tested (estimable, at least `minArmN` customers in each arm). */
  k: number
  /** Fixed-effect (inverse-variance) pooled effect over the k segments. */
  pooled: { estimate: number; standardError: number } | null
  /** Cochran's Q, its degrees of freedom (k − 1) and chi-square p-value (unadjusted); null with fewer than 2 segments. */
  q: number | null
  df: number | null
  pValue: number | null
  /** Higgins–Thompson I² (share of the spread beyond chance) and DerSimonian–Laird τ². */
  iSquared: number | null
  tauSquared: number | null
  segments: SegmentDeviationResult[]
  /** Segments left out, with why (too few customers, no variance, no relative lift). */
  skipped: Array<{ value: string; reason: string }>
}

/**
 * Which segments respond to each variant differently from the average, for the primary metric on the relative-lift
 * scale (the breakdown's), every segment's deviation corrected as one family across the breakdown.
 */
export interface BreakdownHeterogeneity {
  metric: string
  label: string
  format: 'percent' | 'currency' | 'number' | 'days'
  higherIsBetter: boolean
  scale: 'relative'
  alpha: number
  adjustment: 'bh'
  /** Deviations in the family (segments × variants tested). */
  tests: number
  /** Customers each arm of a segment needs for the segment to be tested. */
  minArmN: number
  variants: VariantHeterogeneity[]
  /** One sentence naming the segments that differ, or saying none does after correction across `tests`. */
  summary: string
}
