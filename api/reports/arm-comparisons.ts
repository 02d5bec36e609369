import { compareCuped, compareMeans, compareProportions, compareRatios, meanOf, ratioMean, type CompareOptions, type Comparison } from '../../stats/index.ts'
import type { ArmStatsRow } from './sql/arm-stats.ts'
import type { MetricDefinition } from './metric-definitions.ts'

/** A comparison as reports show it: the relative lift (tested), the absolute difference beside it. */
export interface MetricComparison extends Comparison {
  absolute: { estimate: number | null; ci: [number, number] | null; pValue: number | null }
  cuped: { theta: number | null; varianceReduction: number | null } | null
  against: 'control' | 'holdout'
}

export interface ComparisonSettings {
  alpha: number
  sequentialTuning: number | null
  cuped: boolean
}

const emptyRow = (arm: string): ArmStatsRow => ({
  arm, n: 0, redemption: 0, reactivation: 0, repeat_purchase: 0, unsubscribe: 0, revenue_sum: 0, revenue_ss: 0, ltv_sum: 0, ltv_ss: 0,
  orders_sum: 0, orders_ss: 0, cost_sum: 0, cost_ss: 0, net_sum: 0, net_ss: 0, gross_sum: 0, gross_ss: 0, gross_orders_cross: 0,
  pre_revenue_sum: 0, pre_revenue_ss: 0, pre_orders_sum: 0, pre_orders_ss: 0, revenue_pre_cross: 0, ltv_pre_cross: 0, orders_pre_cross: 0,
})
export const rowOrEmpty = (rows: Map<string, ArmStatsRow>, arm: string) => rows.get(arm) ?? emptyRow(arm)

const meanColumns: Record<string, [keyof ArmStatsRow, keyof ArmStatsRow, keyof ArmStatsRow | null]> = {
  revenue: ['revenue_sum', 'revenue_ss', 'revenue_pre_cross'],
  ltv: ['ltv_sum', 'ltv_ss', 'ltv_pre_cross'],
  orders: ['orders_sum', 'orders_ss', 'orders_pre_cross'],
  incentive_cost: ['cost_sum', 'cost_ss', null],
  net_value: ['net_sum', 'net_ss', null],
}

const proportion = (r: ArmStatsRow, key: string) => ({ n: r.n, sum: r[key as keyof ArmStatsRow] as number })
const mean = (r: ArmStatsRow, key: string) => {
  const [sum, ss] = meanColumns[key]
  return { n: r.n, sum: r[sum] as number, sumSquares: r[ss] as number }
}
const ratio = (r: ArmStatsRow) => ({ n: r.n, numSum: r.gross_sum, numSumSquares: r.gross_ss, denSum: r.orders_sum, denSumSquares: r.orders_ss, crossSum: r.gross_orders_cross })
function cupedStats(r: ArmStatsRow, def: MetricDefinition) {
  const [sum, ss, cross] = meanColumns[def.key]
  const pre = def.cupedPre === 'pre_orders' ? { sum: r.pre_orders_sum, sumSquares: r.pre_orders_ss } : { sum: r.pre_revenue_sum, sumSquares: r.pre_revenue_ss }
  return { n: r.n, post: { sum: r[sum] as number, sumSquares: r[ss] as number }, pre, crossSum: r[cross!] as number }
}

/** The arm's value of a metric: a rate, a mean per customer or a ratio of sums; null when it has no customers. */
export function armValue(def: MetricDefinition, r: ArmStatsRow): number | null {
  if (r.n === 0) return null
  if (def.kind === 'proportion') return meanOf(proportion(r, def.key))
  if (def.kind === 'ratio') return ratioMean(ratio(r))
  if (def.kind === 'mean') return meanOf(mean(r, def.key))
  return null
}

/** Relative (tested) and absolute comparison of one metric, CUPED-adjusted when the metric has a covariate. */
export function compareMetric(def: MetricDefinition, baseline: ArmStatsRow, variant: ArmStatsRow, against: 'control' | 'holdout', settings: ComparisonSettings): MetricComparison | null {
  if (def.kind === 'survival') return null
  const base: CompareOptions = { alpha: settings.alpha, metric: def.key, baseline: baseline.arm, variant: variant.arm, sequential: settings.sequentialTuning ? { tuning: settings.sequentialTuning } : false }
  const useCuped = settings.cuped && def.cupedPre !== undefined
  const run = (kind: 'relative' | 'absolute'): Comparison & { theta?: number | null; varianceReduction?: number | null } => {
    const o = { ...base, kind }
    if (def.kind === 'proportion') return compareProportions(proportion(baseline, def.key), proportion(variant, def.key), o)
    if (def.kind === 'ratio') return compareRatios(ratio(baseline), ratio(variant), o)
    if (useCuped) return compareCuped(cupedStats(baseline, def), cupedStats(variant, def), o)
    return compareMeans(mean(baseline, def.key), mean(variant, def.key), o)
  }
  const relative = run('relative')
  const absolute = run('absolute')
  const { theta, varianceReduction, ...rest } = relative
  return {
    ...rest,
    against,
    absolute: { estimate: absolute.estimate, ci: absolute.ci, pValue: absolute.pValue },
    cuped: useCuped ? { theta: theta ?? null, varianceReduction: varianceReduction ?? null } : null,
  }
}
