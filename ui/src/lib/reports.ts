/**
 * The report shapes the dashboard reads, from the API's wire contract (api/contract: type-only imports, so the
 * browser bundle never loads api/). JSON turns nothing here into a Date: timestamps stay ISO strings.
 */
import type { ExperimentReport, MetricComparison, MetricResult } from '../../../api/contract/index.ts'

export type {
  BreakdownHeterogeneity,
  DecisioningSummary,
  Economics,
  ExperimentReport,
  KpiEstimate,
  KpiGroup,
  KpiHeadline,
  KpiProgram,
  KpiReport,
  KpiWeek,
  LearningEvidence,
  LearningMetric,
  LearningOutcome,
  LibraryPair,
  LibraryReport,
  LibraryRow,
  LiftTimeseries,
  MetricComparison,
  MetricFormat,
  MetricResult,
  ReportArm,
  SegmentResult,
  TimeseriesPoint,
} from '../../../api/contract/index.ts'
export type Baseline = MetricComparison['against']
export type Survival = NonNullable<MetricResult['survival']>[number]

/** The arm's display name in a report: `armName(report, 'pct15')` → "15% off". */
export function armName(report: Pick<ExperimentReport, 'arms'>, key: string): string {
  if (key === 'global_holdout') return 'Global holdout'
  return report.arms.find((a) => a.key === key)?.name ?? key
}

/** The comparisons of a metric against one baseline, in the report's arm order. */
export function comparisonsAgainst(metric: Pick<MetricResult, 'comparisons'>, against: Baseline): MetricComparison[] {
  return metric.comparisons.filter((c) => c.against === against)
}

/** The money the report speaks: the budget's currency, else the first offer's, else USD. */
export function reportCurrency(report: Pick<ExperimentReport, 'arms' | 'decisioning'>): string {
  const fromOffer = report.arms.map((a) => (a.offer as { currency?: string } | null)?.currency).find(Boolean)
  return report.decisioning?.budget?.currency ?? fromOffer ?? 'USD'
}
