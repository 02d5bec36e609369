import type { CompiledColumns } from '../../metrics/compile.ts'
import { countedSql, customerColumns, customerWindowSql, ltvCountedSql, wholeRange, type CustomerSlice, type FeatureSegment } from './customer-window.ts'

/**
 * The sufficient statistics of every metric over a set of per-customer rows (columns orders, gross, revenue,
 * ltv, incentive_cost, net_value, redeemed, unsubscribed, pre_revenue, pre_orders): counts, sums, sums of
 * squares and the cross products CUPED and ratio metrics need. Shared by every report query. With `where`, only
 * the rows meeting it count (the pass then also carries customers that only catalogue metrics count).
 */
export function statsColumns(where?: string): string {
  const cond = (extra?: string) => [where, extra].filter(Boolean).join(' AND ')
  const count = (extra?: string) => (cond(extra) ? `countIf(${cond(extra)})` : 'count()')
  const sum = (x: string, extra?: string) => (cond(extra) ? `sumIf(${x}, ${cond(extra)})` : `sum(${x})`)
  return `${count()} AS n,
  ${sum('redeemed')} AS redemption,
  ${count('orders >= 1')} AS reactivation,
  ${count('orders >= 2')} AS repeat_purchase,
  ${sum('unsubscribed')} AS unsubscribe,
  ${sum('revenue')} AS revenue_sum, ${sum('revenue * revenue')} AS revenue_ss,
  ${count(ltvCountedSql)} AS ltv_n, ${sum('ltv', ltvCountedSql)} AS ltv_sum, ${sum('ltv * ltv', ltvCountedSql)} AS ltv_ss,
  ${sum('pre_revenue', ltvCountedSql)} AS ltv_pre_sum, ${sum('pre_revenue * pre_revenue', ltvCountedSql)} AS ltv_pre_ss,
  ${sum('orders')} AS orders_sum, ${sum('orders * orders')} AS orders_ss,
  ${sum('incentive_cost')} AS cost_sum, ${sum('incentive_cost * incentive_cost')} AS cost_ss,
  ${sum('net_value')} AS net_sum, ${sum('net_value * net_value')} AS net_ss,
  ${sum('gross')} AS gross_sum, ${sum('gross * gross')} AS gross_ss, ${sum('gross * orders')} AS gross_orders_cross,
  ${sum('pre_revenue')} AS pre_revenue_sum, ${sum('pre_revenue * pre_revenue')} AS pre_revenue_ss,
  ${sum('pre_orders')} AS pre_orders_sum, ${sum('pre_orders * pre_orders')} AS pre_orders_ss,
  ${sum('revenue * pre_revenue')} AS revenue_pre_cross, ${sum('ltv * pre_revenue', ltvCountedSql)} AS ltv_pre_cross, ${sum('orders * pre_orders')} AS orders_pre_cross`
}

export const sufficientStatsColumns = statsColumns()

/** Catalogue metrics computed in the report's own pass (metrics/compile.ts `compileColumns`). */
export type CatalogueColumns = Pick<CompiledColumns, 'eventColumns' | 'carried' | 'customer' | 'capped' | 'arm' | 'survival'>

/**
 * Per-arm sufficient statistics for every metric (STATS.md inputs), optionally per segment of one attribute
 * captured at first exposure or (`segmentBy`) of the customer's features then. One pass over the customer table; the stats module never sees rows.
 *
 * Winsorization caps revenue-like values at a percentile computed over the counted customers of all arms
 * together, before the sums. Catalogue metrics ride along in the same pass: each counts the customers whose
 * window for it has ended, so the pass keeps every customer and the built-in statistics count the customers
 * whose outcome window has ended (`counted`).
 */
export function armStatsSql(
  opts: { segmented: boolean; winsorize: boolean; catalogue?: CatalogueColumns; segmentBy?: FeatureSegment },
  slice: CustomerSlice = wholeRange,
): string {
  const catalogue = opts.catalogue?.customer.length ? opts.catalogue : undefined
  const where = catalogue ? 'counted' : undefined
  const cap = (col: string) =>
    opts.winsorize
      ? `least(${col}, ${where ? `quantileExactIf({winsorP:Float64})(${col}, ${where})` : `quantileExact({winsorP:Float64})(${col})`} OVER ())`
      : col
  const segment = opts.segmented ? ', segment' : ''
  const sumMap = (args: string, extra?: string) => {
    const c = [where, extra].filter(Boolean).join(' AND ')
    return c ? `sumMapIf(${args}, ${c})` : `sumMap(${args})`
  }
  // Kaplan–Meier input rides along in the same pass (unsegmented only): first purchases by day index, and
  // customers censored without one at the (rounded-up) days they were followed — the end of the window, or
  // asOf for recent exposures — so a customer followed into a day stays at risk for that day's purchases.
  const survival = opts.segmented
    ? ''
    : `,
  ${sumMap('[toUInt32(if(orders > 0, intDiv(first_purchase_ms, 86400000), intDiv(greatest(observed_ms, 0) + 86399999, 86400000)))], [toUInt64(orders > 0)], [toUInt64(orders = 0)]')} AS survival,
  ${sumMap('[toUInt32(if(repurchase_ms >= 0, intDiv(repurchase_ms, 86400000), intDiv(greatest(repurchase_observed_ms, 0) + 86399999, 86400000)))], [toUInt64(repurchase_ms >= 0)], [toUInt64(repurchase_ms < 0)]', 'orders > 0')} AS repurchase`
  const catalogueArm = catalogue
    ? [...catalogue.arm, ...(catalogue.survival && !opts.segmented ? [catalogue.survival] : [])].map((c) => `,\n  ${c}`).join('')
    : ''
  return `WITH ${customerWindowSql(opts.segmented ? (opts.segmentBy ?? 'dimension') : 'none', slice, catalogue)},
capped AS (
  SELECT arm${segment}, orders, gross, redeemed, unsubscribed, incentive_cost, pre_orders, first_purchase_ms, observed_ms, mature, ltv_mature, repurchase_ms, repurchase_observed_ms,
    ${where ? `${countedSql} AS counted, ` : ''}${cap('revenue_net')} AS revenue, ${cap('ltv')} AS ltv, ${cap('net_value')} AS net_value, ${cap('pre_revenue')} AS pre_revenue${catalogue ? `,\n    ${catalogue.capped.join(', ')}` : ''}
  FROM customers${where ? '' : `\n  WHERE ${countedSql}`}
)
SELECT arm${segment},
  ${statsColumns(where)}${survival}${catalogueArm}
FROM capped
GROUP BY arm${opts.segmented ? ', segment' : ''}
ORDER BY arm${opts.segmented ? ', segment' : ''}`
}

/** One row of armStatsSql, numbers parsed (ClickHouse returns 64-bit integers as strings). */
export interface ArmStatsRow {
  arm: string
  segment?: string
  /** [day indexes, first purchases that day, censored that day] (unsegmented query only). */
  survival?: [number[], Array<number | string>, Array<number | string>]
  /** The same for time to repurchase, over the customers who purchased in the window. */
  repurchase?: [number[], Array<number | string>, Array<number | string>]
  n: number
  redemption: number
  reactivation: number
  repeat_purchase: number
  unsubscribe: number
  revenue_sum: number
  revenue_ss: number
  /** Customers followed for the whole LTV window (all customers when immature ones are included). */
  ltv_n: number
  ltv_sum: number
  ltv_ss: number
  ltv_pre_sum: number
  ltv_pre_ss: number
  orders_sum: number
  orders_ss: number
  cost_sum: number
  cost_ss: number
  net_sum: number
  net_ss: number
  gross_sum: number
  gross_ss: number
  gross_orders_cross: number
  pre_revenue_sum: number
  pre_revenue_ss: number
  pre_orders_sum: number
  pre_orders_ss: number
  revenue_pre_cross: number
  ltv_pre_cross: number
  orders_pre_cross: number
}

export function parseArmStats(raw: Record<string, unknown>): ArmStatsRow {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw))
    out[k] = k === 'arm' || k === 'segment' || k === 'survival' || k === 'repurchase' || k === 'metric_survival' ? v : Number(v)
  // Queries without the LTV maturity split (the timeseries) follow every customer's LTV over the same n.
  if (out.ltv_n === undefined) Object.assign(out, { ltv_n: out.n, ltv_pre_sum: out.pre_revenue_sum, ltv_pre_ss: out.pre_revenue_ss })
  return out as unknown as ArmStatsRow
}

/**
 * The same statistics for every (attribute, value, arm) captured at first exposure: the segment–offer
 * library's input. Attributes with many values are dropped afterwards by the caller.
 */
export const allSegmentsStatsSql = (slice: CustomerSlice = wholeRange) => `WITH ${customerWindowSql('map', slice)}
SELECT dimension, attrs[dimension] AS segment, arm,
  ${sufficientStatsColumns}
FROM (SELECT ${customerColumns}, attrs FROM customers WHERE ${countedSql})
ARRAY JOIN mapKeys(attrs) AS dimension
GROUP BY dimension, segment, arm
ORDER BY dimension, segment, arm`
