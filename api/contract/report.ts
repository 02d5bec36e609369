/** GET /v1/experiments/:id/report: every metric per arm with its comparisons, the SRM check, economics and health. */
import type { SrmResult } from '../../stats/srm.ts'
import type { Experiment, MetricKey } from '../experiments/schema.ts'
import type { FamilyComparison } from './comparisons.ts'
import type { BreakdownHeterogeneity } from './heterogeneity.ts'
import type { DecisioningSummary } from './decisioning.ts'
import type { Health } from './health.ts'
import type { ArmCriteria, CriterionResult, Recommendation } from './recommendation.ts'

/** `quantile`: a catalogue quantile (median order value), its interval from stats/quantile.ts. */
export type MetricKind = 'proportion' | 'mean' | 'ratio' | 'survival' | 'quantile'
export type MetricFormat = 'percent' | 'currency' | 'number' | 'days'

export interface ReportArm {
  key: string
  name: string
  isControl: boolean
  isHoldout: boolean
  offer: unknown
  n: number
  expectedShare: number
  observedShare: number | null
}

/** One arm's time to purchase (Kaplan–Meier). */
export interface ArmSurvival {
  median: number | null
  medianCi: [number | null, number | null]
  n: number
  events: number
  points: Array<{ time: number; survival: number; lower: number; upper: number }>
  /** Restricted mean days without a purchase within the window (smaller: purchases sooner). */
  restrictedMean: { horizonDays: number | null; estimate: number | null; ci: [number, number] | null }
  /** Share of customers who purchased by day 7, 14 and the window's end (1 − Kaplan–Meier). */
  purchaseBy: Array<{ day: number; estimate: number | null; ci: [number, number] | null }>
}

export interface MetricResult {
  /** A built-in metric's key, or a catalogue metric's (then `catalogue` names the version). */
  key: MetricKey | (string & {})
  label: string
  kind: MetricKind
  format: MetricFormat
  higherIsBetter: boolean
  isPrimary: boolean
  isGuardrail: boolean
  values: Array<{ arm: string; n: number; value: number | null }>
  comparisons: FamilyComparison[]
  survival?: Array<{ arm: string } & ArmSurvival>
  summary: string
  /**
   * A catalogue metric (a secondary metric the experiment references): the definition version this result used,
   * pinned when the experiment was saved, so later versions leave it unchanged. Absent on built-in metrics.
   */
  catalogue?: { key: string; version: number }
}

export interface SegmentResult {
  value: string
  arms: Array<{ arm: string; n: number }>
  metrics: Array<Pick<MetricResult, 'key' | 'values' | 'comparisons'>>
}

export interface Economics {
  arm: string
  against: 'control' | 'holdout'
  n: number
  /** Difference in net value per customer (margin − incentive cost), with its interval. */
  incrementalNetValuePerCustomer: { estimate: number | null; ci: [number, number] | null }
  incrementalNetValueTotal: number | null
  incrementalIncentiveCostPerCustomer: number | null
  incrementalRevenuePerCustomer: number | null
  incentiveSpend: number
  /** Incremental net value returned per unit of incremental incentive cost; null without incremental cost. */
  roi: number | null
  /** Incremental incentive cost per incremental reactivated customer; null when reactivation did not rise. */
  costPerIncrementalReactivation: number | null
}

/** The statistics of the report, as experimentReport() computes them: everything but the decision layer's summary. */
export interface LiftReport {
  experimentId: string
  name: string
  status: Experiment['status']
  generatedAt: string
  asOf: string
  startedAt: string | null
  window: { attributionDays: number; ltvDays: number; cupedLookbackDays: number | null }
  /** Customers first exposed after this are not analysed (the budget ran out then); null when all are. */
  enrolledUntil: string | null
  settings: { alpha: number; multipleTesting: 'holm' | 'bh' | 'none'; sequential: boolean; cuped: boolean; winsorize: number | null }
  arms: ReportArm[]
  totalCustomers: number
  srm: (SrmResult & { expected: Record<string, number>; observed: Record<string, number> }) | null
  metrics: MetricResult[]
  economics: Economics[]
  breakdown: {
    dimension: string
    /** What the rows were computed from: an attribute sent at assignment, or features as of first exposure. */
    source?: BreakdownSource
    segments: SegmentResult[]
    /** Segments whose response to a variant differs from the rest's (primary metric); null when it cannot be tested. */
    heterogeneity?: BreakdownHeterogeneity | null
  } | null
  settingsFamilies: Experiment['analysis']['families']
  successCriteria: Experiment['analysis']['successCriteria']
  health: Health
  recommendation: Recommendation
  criteria: ArmCriteria[]
  testCriteria: CriterionResult[]
}

/** GET /v1/experiments/:id/report. */
export interface ExperimentReport extends LiftReport {
  decisioning: DecisioningSummary
}

/**
 * A breakdown's source: an attribute captured at assignment, a customer feature as of first exposure, or a saved
 * segment (at the version used) evaluated on those features.
 */
export type BreakdownSource =
  { kind: 'attribute'; key: string } | { kind: 'feature'; key: string } | { kind: 'segment'; key: string; name: string; version: number }
