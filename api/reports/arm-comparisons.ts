import {
  compareCuped,
  compareMeans,
  compareProportions,
  compareRatios,
  compareRestrictedMeans,
  meanOf,
  ratioMean,
  type CompareOptions,
  type Comparison,
  type SurvivalRow,
} from '../../stats/index.ts'
import type { MetricComparison } from '../contract/comparisons.ts'
import type { ArmStatsRow } from './sql/arm-stats.ts'
import type { MetricDefinition } from './metric-definitions.ts'

export interface ComparisonSettings {
  alpha: number
  /**
   * The experiment's α when `alpha` is a family-adjusted level: a confidence sequence keeps its mixing
   * parameter tuned at α, so the interval at the adjusted level agrees with the α-level p-value.
   */
  designAlpha?: number
  /** The outcome window in days: the horizon τ of the restricted mean time to purchase. */
  windowDays?: number
  sequentialTuning: number | null
  cuped: boolean
}

const emptyRow = (arm: string): ArmStatsRow => ({
  arm,
  n: 0,
  redemption: 0,
  reactivation: 0,
  repeat_purchase: 0,
  unsubscribe: 0,
  revenue_sum: 0,
  revenue_ss: 0,
  ltv_n: 0,
  ltv_sum: 0,
  ltv_ss: 0,
  ltv_pre_sum: 0,
  ltv_pre_ss: 0,
  orders_sum: 0,
  orders_ss: 0,
  cost_sum: 0,
  cost_ss: 0,
  net_sum: 0,
  net_ss: 0,
  gross_sum: 0,
  gross_ss: 0,
  gross_orders_cross: 0,
  pre_revenue_sum: 0,
  pre_revenue_ss: 0,
  pre_orders_sum: 0,
  pre_orders_ss: 0,
  revenue_pre_cross: 0,
  ltv_pre_cross: 0,
  orders_pre_cross: 0,
})
export const rowOrEmpty = (rows: Map<string, ArmStatsRow>, arm: string) => rows.get(arm) ?? emptyRow(arm)

type Column = keyof ArmStatsRow
/** Per mean metric: its n, Σx, Σx², Σx·pre and the pre-period Σ and Σ² over the same customers. */
const meanColumns: Record<string, { n: Column; sum: Column; ss: Column; cross: Column | null; pre?: [Column, Column] }> = {
  revenue: { n: 'n', sum: 'revenue_sum', ss: 'revenue_ss', cross: 'revenue_pre_cross' },
  // LTV needs the longer window: it counts only the customers followed for all of it.
  ltv: { n: 'ltv_n', sum: 'ltv_sum', ss: 'ltv_ss', cross: 'ltv_pre_cross', pre: ['ltv_pre_sum', 'ltv_pre_ss'] },
  orders: { n: 'n', sum: 'orders_sum', ss: 'orders_ss', cross: 'orders_pre_cross' },
  incentive_cost: { n: 'n', sum: 'cost_sum', ss: 'cost_ss', cross: null },
  net_value: { n: 'n', sum: 'net_sum', ss: 'net_ss', cross: null },
}

const proportion = (r: ArmStatsRow, key: string) => ({ n: r.n, sum: r[key as Column] as number })
/** The n, Σx and Σx² of a mean metric in an arm (LTV over the customers followed for its whole window). */
export const meanStats = (r: ArmStatsRow, key: string) => {
  const c = meanColumns[key]
  return { n: r[c.n] as number, sum: r[c.sum] as number, sumSquares: r[c.ss] as number }
}
const ratio = (r: ArmStatsRow) => ({
  n: r.n,
  numSum: r.gross_sum,
  numSumSquares: r.gross_ss,
  denSum: r.orders_sum,
  denSumSquares: r.orders_ss,
  crossSum: r.gross_orders_cross,
})
function cupedStats(r: ArmStatsRow, def: MetricDefinition) {
  const c = meanColumns[def.key]
  const [preSum, preSs]: [Column, Column] =
    c.pre ?? (def.cupedPre === 'pre_orders' ? ['pre_orders_sum', 'pre_orders_ss'] : ['pre_revenue_sum', 'pre_revenue_ss'])
  return {
    n: r[c.n] as number,
    post: { sum: r[c.sum] as number, sumSquares: r[c.ss] as number },
    pre: { sum: r[preSum] as number, sumSquares: r[preSs] as number },
    crossSum: r[c.cross!] as number,
  }
}

/** Customers a metric counts in an arm: LTV counts those followed for its longer window. */
export const metricN = (def: MetricDefinition, r: ArmStatsRow): number => (def.kind === 'mean' ? (r[meanColumns[def.key].n] as number) : r.n)

/** The arm's value of a metric: a rate, a mean per customer or a ratio of sums; null when it has no customers. */
export function armValue(def: MetricDefinition, r: ArmStatsRow): number | null {
  if (metricN(def, r) === 0) return null
  if (def.kind === 'proportion') return meanOf(proportion(r, def.key))
  if (def.kind === 'ratio') return ratioMean(ratio(r))
  if (def.kind === 'mean') return meanOf(meanStats(r, def.key))
  return null
}

/**
 * Kaplan–Meier input of one arm from its per-day counts. A purchase on day index d happened within d + 1 days;
 * censoring keys are already whole days followed (rounded up), and at a tie Kaplan–Meier takes the purchases
 * before the censorings.
 */
export function survivalRows(r: ArmStatsRow, column: 'survival' | 'repurchase' = 'survival'): SurvivalRow[] {
  const counts = r[column]
  if (!counts) return []
  const [days, eventCounts, censoredCounts] = counts
  const list: SurvivalRow[] = []
  days.forEach((day, i) => {
    const events = Number(eventCounts[i])
    const censored = Number(censoredCounts[i])
    if (events) list.push({ time: Number(day) + 1, events, censored: 0 })
    if (censored) list.push({ time: Number(day), events: 0, censored })
  })
  return list
}

/**
 * Time to first purchase: the difference in restricted mean days without a purchase within the window
 * (docs/time-to-event.md), negative when the variant brings purchases sooner. Fixed-horizon (normal) test.
 */
function compareTimeToPurchase(
  def: MetricDefinition,
  baseline: ArmStatsRow,
  variant: ArmStatsRow,
  against: 'control' | 'holdout',
  settings: ComparisonSettings,
): MetricComparison | null {
  if (!settings.windowDays) return null
  const {
    baselineArm: _a,
    variantArm: _b,
    tau: _t,
    tauUsed,
    ...c
  } = compareRestrictedMeans(survivalRows(baseline, def.survivalColumn), survivalRows(variant, def.survivalColumn), settings.windowDays, {
    alpha: settings.alpha,
    metric: def.key,
    baseline: baseline.arm,
    variant: variant.arm,
  })
  return {
    ...c,
    against,
    absolute: { estimate: c.estimate, ci: c.ci, pValue: c.pValue, standardError: c.standardError, df: null },
    cuped: null,
    horizonDays: tauUsed,
  }
}

/** Relative (tested) and absolute comparison of one metric, CUPED-adjusted when the metric has a covariate. */
export function compareMetric(
  def: MetricDefinition,
  baseline: ArmStatsRow,
  variant: ArmStatsRow,
  against: 'control' | 'holdout',
  settings: ComparisonSettings,
): MetricComparison | null {
  if (def.kind === 'survival') return compareTimeToPurchase(def, baseline, variant, against, settings)
  const base: CompareOptions = {
    alpha: settings.alpha,
    metric: def.key,
    baseline: baseline.arm,
    variant: variant.arm,
    sequential: settings.sequentialTuning ? { tuning: settings.sequentialTuning, designAlpha: settings.designAlpha ?? settings.alpha } : false,
  }
  const useCuped = settings.cuped && def.cupedPre !== undefined
  const run = (kind: 'relative' | 'absolute'): Comparison & { theta?: number | null; varianceReduction?: number | null } => {
    const o = { ...base, kind }
    if (def.kind === 'proportion') return compareProportions(proportion(baseline, def.key), proportion(variant, def.key), o)
    if (def.kind === 'ratio') return compareRatios(ratio(baseline), ratio(variant), o)
    if (useCuped) return compareCuped(cupedStats(baseline, def), cupedStats(variant, def), o)
    return compareMeans(meanStats(baseline, def.key), meanStats(variant, def.key), o)
  }
  const relative = run('relative')
  const absolute = run('absolute')
  // A relative interval is undefined when control is 0, and unbounded (Fieller) when control's mean is not
  // distinguishable from 0: then the absolute difference carries the verdict, with an interval to show.
  const zeroBaseline =
    (relative.notEstimable?.code === 'zero_baseline' || (relative.ci === null && !relative.notEstimable)) && !absolute.notEstimable && absolute.ci !== null
  const { theta, varianceReduction, ...rest } = zeroBaseline ? absolute : relative
  return {
    ...rest,
    against,
    absolute: { estimate: absolute.estimate, ci: absolute.ci, pValue: absolute.pValue, standardError: absolute.standardError, df: absolute.df ?? null },
    cuped: useCuped ? { theta: theta ?? null, varianceReduction: varianceReduction ?? null } : null,
    ...(zeroBaseline ? { fallback: 'absolute' as const } : {}),
  }
}
