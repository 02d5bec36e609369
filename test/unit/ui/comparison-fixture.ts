import type { KpiMetricScope } from '../../../ui/src/lib/kpiMetrics.ts'

type MetricLift = NonNullable<KpiMetricScope['lift']>

/**
 * A comparison of treated vs the global holdout as the KPIs answer it, significant exactly when `ci` excludes zero:
 * the fixture of the Overview's unit tests (kpi-csv, kpi-metrics), overrides last.
 */
export const kpiComparison = (estimate: number, ci: [number, number] | null, over: Partial<MetricLift> = {}): MetricLift =>
  ({
    baseline: 'global_holdout',
    variant: 'treated',
    metric: 'm',
    kind: 'relative',
    method: 'welch-t',
    alpha: 0.05,
    estimate,
    ci,
    pValue: 0.01,
    standardError: 0.01,
    chanceToWin: null,
    risk: null,
    significant: !!ci && (ci[0] > 0 || ci[1] < 0),
    baselineMean: 0.1,
    variantMean: 0.12,
    baselineN: 500,
    variantN: 9_500,
    absolute: { estimate: 0.02, ci: [0.004, 0.036], pValue: 0.01, standardError: 0.008, df: null },
    cuped: null,
    against: 'holdout',
    ...over,
  }) as MetricLift
