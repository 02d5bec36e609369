/**
 * The report shapes the dashboard reads, taken from the API's own report builders (type-only imports: the
 * browser bundle never loads api/). JSON turns nothing here into a Date: timestamps stay ISO strings.
 */
import type { ExperimentReport as CoreReport, MetricResult, ReportArm, SegmentResult } from '../../../api/reports/experiment-report.ts'
import type { MetricComparison } from '../../../api/reports/arm-comparisons.ts'
import type { Economics } from '../../../api/reports/economics.ts'
import type { decisioningSummary } from '../../../api/reports/decisioning.ts'
import type { liftTimeseries, TimeseriesPoint } from '../../../api/reports/timeseries.ts'
import type { programKpis } from '../../../api/reports/kpis.ts'
import type { offerLibrary, LibraryRow } from '../../../api/reports/library.ts'

export type { MetricResult, MetricComparison, Economics, ReportArm, SegmentResult, TimeseriesPoint, LibraryRow }
export type DecisioningSummary = Awaited<ReturnType<typeof decisioningSummary>>
/** GET /v1/experiments/:id/report (the route adds the decision layer's summary). */
export type ExperimentReport = CoreReport & { decisioning: DecisioningSummary }
export type LiftTimeseries = Awaited<ReturnType<typeof liftTimeseries>>
export type KpiReport = Awaited<ReturnType<typeof programKpis>>
export type LibraryReport = Awaited<ReturnType<typeof offerLibrary>>
export type MetricFormat = MetricResult['format']
export type Baseline = MetricComparison['against']
export type Survival = NonNullable<MetricResult['survival']>[number]

/** The arm's display name in a report: `armName(report, 'pct15')` → "15% off". */
export function armName(report: Pick<CoreReport, 'arms'>, key: string): string {
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
