/** One comparison of two arms on one metric, as every report shows it (docs/statistics.md → Test families). */
import type { Comparison } from '../../stats/types.ts'

/** A comparison as reports show it: the relative lift (tested), the absolute difference beside it. */
export interface MetricComparison extends Comparison {
  absolute: { estimate: number | null; ci: [number, number] | null; pValue: number | null; standardError: number | null; df: number | null }
  /**
   * 'absolute' when the relative lift is undefined because the baseline is 0 (control redeems nothing by
   * construction): the comparison's own numbers are then the absolute difference, so it still has a verdict.
   */
  fallback?: 'absolute'
  /** Time to purchase: the horizon (days) the restricted means were taken over. */
  horizonDays?: number | null
  cuped: { theta: number | null; varianceReduction: number | null } | null
  against: 'control' | 'holdout'
}

export type Family = 'decision' | 'guardrail' | 'secondary' | 'holdout'

/** The one-sided harm test of a guardrail against its margin, in the metric's own units. */
export interface GuardrailResult {
  margin: number
  /** 'increase' when higher is worse (unsubscribes), 'decrease' when lower is worse. */
  harmDirection: 'increase' | 'decrease'
  status: 'harmed' | 'within_margin' | 'unclear'
  /** The absolute difference and its interval (each bound one-sided at the family-adjusted level). */
  estimate: number
  ci: [number, number]
  harmPValue: number
  adjustedHarmPValue: number | null
  level: number
}

export interface FamilyFields {
  family: Family
  /** The two-sided level the displayed interval was computed at (α when nothing is adjusted). */
  level: number
  /** The unadjusted interval at α, shown beside the adjusted one when they differ. */
  rawCi: [number, number] | null
  guardrail?: GuardrailResult
}

export type FamilyComparison = MetricComparison & FamilyFields
