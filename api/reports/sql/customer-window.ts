/**
 * The per-customer outcome table every experiment report reads: one row per customer with their first
 * exposure (arm, time, attributes) and their outcomes in the window after it, plus the same quantities over
 * the pre-exposure lookback (CUPED covariates). Returned as SQL text for a WITH clause; all values are bound
 * parameters (never spliced).
 *
 * Semantics (DESIGN.md): events are read deduplicated (FINAL); an event counts in the window when
 * firstExposure ≤ ts < firstExposure + window and ts ≤ asOf; refunds subtract revenue; redemptions count only
 * when tagged with this experiment.
 */
import { featureColumns } from '../../segments/features-sql.ts'

export interface CustomerWindowParams {
  experimentId: string
  asOfMs: number
  attributionMs: number
  ltvMs: number
  lookbackMs: number
  marginRate: number
  /** Only customers first exposed by then are analysed (default asOf); see `enrollmentCutoff`. */
  enrolledUntilMs?: number
  /**
   * Count customers whose window has not ended by asOf as well (their outcomes so far). Off by default: a
   * customer inside their window is not yet a failure, and counting them under-reads every rate.
   */
  includeImmature?: boolean
}

/**
 * When an experiment's budget ran out, its incentive arms stopped enrolling while control and holdout went
 * on; comparing everyone would compare different populations (and trip the SRM check). Analysing the
 * customers enrolled before the budget ran out keeps the randomised comparison intact.
 */
export function enrollmentCutoff(exp: { budgetExhaustedAt: string | null }, asOfMs: number): number {
  return exp.budgetExhaustedAt ? Math.min(asOfMs, Date.parse(exp.budgetExhaustedAt)) : asOfMs
}

export const customerWindowParams = (p: CustomerWindowParams) => ({
  exp: p.experimentId,
  asOf: p.asOfMs,
  attrMs: p.attributionMs,
  ltvMs: p.ltvMs,
  lookbackMs: p.lookbackMs,
  marginRate: p.marginRate,
  enrolledUntil: p.enrolledUntilMs ?? p.asOfMs,
  includeImmature: p.includeImmature ? 1 : 0,
})

/** Whether a customer row counts: mature for the outcome window, or every customer when immature ones are included. */
export const countedSql = `({includeImmature:UInt8} OR mature)`
/** The same for the LTV window, which is longer: LTV compares only customers followed for all of it. */
export const ltvCountedSql = `({includeImmature:UInt8} OR ltv_mature)`

/**
 * A slice of customer ids, `from ≤ customer_id < to` (either end open): reports over millions of customers
 * run one slice at a time. Both tables are sorted by customer_id, so a slice reads only its own granules,
 * and the per-customer hash tables stay small enough to be cache-friendly — one pass over 10M customers is
 * ~2× slower per customer than ten passes over 1M. Bounds are bound parameters {rangeFrom} and {rangeTo}.
 */
export interface CustomerSlice {
  from: boolean
  to: boolean
}

export const wholeRange: CustomerSlice = { from: false, to: false }

/** The predicate restricting a table with a customer_id column to the slice. */
export const inSlice = (slice: CustomerSlice) =>
  `${slice.from ? ' AND customer_id >= {rangeFrom:String}' : ''}${slice.to ? ' AND customer_id < {rangeTo:String}' : ''}`

/**
 * Each analysed customer's first exposure. Arms that belong in an experiment report: its arms and the experiment
 * holdout, not the global holdout. `extra`: more aggregates over the customer's exposures.
 */
export const firstExposureRowsSql = (slice: CustomerSlice = wholeRange, extra = '') => `
  SELECT cityHash64(customer_id) AS cust, argMin(arm, ts) AS arm, toUnixTimestamp64Milli(min(ts)) AS t0${extra}
  FROM exposures
  WHERE experiment_id = {exp:String}${inSlice(slice)} AND ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')
  GROUP BY cust
  HAVING arm != 'global_holdout' AND t0 <= {enrolledUntil:Int64}`

export const firstExposuresSql = (slice: CustomerSlice = wholeRange) => `
first_exposures AS (${firstExposureRowsSql(slice, ', argMin(attributes, ts) AS attrs')}
)`

/** Deduplicated events up to asOf (in the slice), keyed like first_exposures; `extra` columns besides the usual ones. */
export const eventsUpToAsOfSql = (slice: CustomerSlice = wholeRange, extra: string[] = []) =>
  `(SELECT cityHash64(customer_id) AS cust, ts, type, revenue, margin, cost, experiment_id${extra.map((c) => `, ${c}`).join('')} FROM events FINAL WHERE ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')${inSlice(slice)})`

/**
 * More per-customer columns for the same pass: catalogue metrics (metrics/compile.ts `compileColumns`), with the
 * per-event columns they compute before the join.
 */
export interface ExtraCustomerColumns {
  /** Expressions over the events table's columns, computed before the join. */
  eventColumns: string[]
  /** Their aliases the join carries to the customer GROUP BY. */
  carried: string[]
  customer: string[]
}

const inWindow = (ms: string) => `dt >= 0 AND dt < ${ms}`
const inLookback = `dt < 0 AND dt >= -{lookbackMs:Int64}`
const marginOf = `ifNull(margin, revenue * {marginRate:Float64})`

/**
 * Each analysed customer's first exposure with their features as of that instant (features-sql.ts), computed from
 * customer_timeline's events strictly before it — an event at or after first exposure never moves a customer
 * between segments. A customer with no history gets the features of someone who never bought. `rfm`: the RFM
 * group's expression over the feature columns, carried as `rfm_group`.
 */
export const exposureFeaturesSql = (slice: CustomerSlice = wholeRange, rfm?: string, withAttributes = false) => `
  SELECT x.cust AS cust, x.arm AS arm, x.t0 AS t0,${withAttributes ? ' x.attrs AS attrs,' : ''}
    ${featureColumns('h.hist', 'x.t0', 'fx_')}${rfm ? `,\n    ${rfm} AS rfm_group` : ''}
  FROM (${firstExposureRowsSql(slice, `, any(customer_id) AS cid${withAttributes ? ', argMin(attributes, ts) AS attrs' : ''}`)}) AS x
  LEFT JOIN (
    SELECT customer_id, groupUniqArrayMerge(history) AS hist
    FROM customer_timeline
    WHERE customer_id IN (SELECT customer_id FROM exposures WHERE experiment_id = {exp:String}${inSlice(slice)})${inSlice(slice)}
    GROUP BY customer_id
  ) AS h ON h.customer_id = x.cid`

/**
 * A breakdown computed from the customer's features as of first exposure (exposureFeaturesSql) rather than from
 * an attribute the caller sent: `segment` is a String expression over the feature columns (and `rfm_group` when
 * `rfm` gives its expression).
 */
export interface FeatureSegment {
  segment: string
  rfm?: string
}

/**
 * The attribute map with more entries computed from the features at first exposure: `entries` are pairs of SQL
 * expressions (key, String value) over the feature columns (and `rfm_group` when `rfm` gives its expression).
 */
export interface FeatureMap {
  entries: Array<[string, string]>
  rfm?: string
}

/**
 * Which attributes captured at first exposure the customer rows carry: none, one (as `segment`), the whole map, the
 * map with entries computed from the features at first exposure, or a segment of those features.
 */
export type AttributeMode = 'none' | 'dimension' | 'map' | FeatureMap | FeatureSegment

/** The first_exposures CTE for a mode, and the column it adds to the customer rows (`attrs` or `segment`). */
function exposuresFor(attributes: AttributeMode, slice: CustomerSlice): { cte: string; column: 'attrs' | 'segment' | null } {
  const cte = (select: string) => `first_exposures AS (${select}\n)`
  if (attributes === 'none' || attributes === 'map') return { cte: firstExposuresSql(slice), column: attributes === 'map' ? 'attrs' : null }
  if (attributes === 'dimension') return { cte: cte(firstExposureRowsSql(slice, ', argMin(attributes, ts)[{dimension:String}] AS segment')), column: 'segment' }
  if ('entries' in attributes) {
    const added = attributes.entries.map(([k, v]) => `${k}, ${v}`).join(', ')
    return {
      cte: cte(`\n  SELECT cust, arm, t0, mapUpdate(attrs, map(${added})) AS attrs\n  FROM (${exposureFeaturesSql(slice, attributes.rfm, true)})`),
      column: 'attrs',
    }
  }
  return { cte: cte(`\n  SELECT cust, arm, t0, ${attributes.segment} AS segment\n  FROM (${exposureFeaturesSql(slice, attributes.rfm)})`), column: 'segment' }
}

/**
 * One pass: events (deduplicated, up to asOf) RIGHT JOIN the first exposures — the small side is the hash
 * table, and customers without events come through with empty event columns — then one GROUP BY customer.
 */
export function customerWindowSql(attributes: AttributeMode = 'none', slice: CustomerSlice = wholeRange, extra?: ExtraCustomerColumns): string {
  const { cte: exposures, column } = exposuresFor(attributes, slice)
  const carried = column ? `, f.${column} AS ${column}` : ''
  const kept = column ? `, any(${column}) AS ${column}` : ''
  const extraEvents = extra?.carried ?? []
  const extraCustomer = (extra?.customer ?? []).map((c) => `\n    ${c},`).join('')
  return `${exposures},
customer_events AS (
  SELECT f.cust AS cust, f.arm AS arm, f.t0 AS t0${carried},
    toUnixTimestamp64Milli(e.ts) - f.t0 AS dt, e.type AS type, e.revenue AS revenue, e.margin AS margin, e.cost AS cost,
    e.experiment_id AS event_experiment${extraEvents.map((c) => `, e.${c} AS ${c}`).join('')}
  FROM ${eventsUpToAsOfSql(slice, extra?.eventColumns)} AS e
  RIGHT JOIN first_exposures AS f ON f.cust = e.cust
),
customers AS (
  SELECT cust, any(arm) AS arm, any(t0) AS exposed_ms${kept},${extraCustomer}
    countIf(type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) AS orders,
    sumIf(revenue, type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) AS gross,
    gross - sumIf(revenue, type = 'refund' AND ${inWindow('{attrMs:Int64}')}) AS revenue_net,
    sumIf(revenue, type = 'purchase' AND ${inWindow('{ltvMs:Int64}')}) - sumIf(revenue, type = 'refund' AND ${inWindow('{ltvMs:Int64}')}) AS ltv,
    sumIf(cost, type = 'offer_redeemed' AND event_experiment = {exp:String} AND ${inWindow('{attrMs:Int64}')}) AS incentive_cost,
    countIf(type = 'offer_redeemed' AND event_experiment = {exp:String} AND ${inWindow('{attrMs:Int64}')}) > 0 AS redeemed,
    countIf(type = 'unsubscribe' AND ${inWindow('{attrMs:Int64}')}) > 0 AS unsubscribed,
    sumIf(${marginOf}, type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) - sumIf(${marginOf}, type = 'refund' AND ${inWindow('{attrMs:Int64}')}) - incentive_cost AS net_value,
    minIf(dt, type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) AS first_purchase_ms,
    -- Time to repurchase: from the first purchase in the window to the next, followed for as long as the window
    -- and up to asOf (−1: no next purchase yet, censored at repurchase_observed_ms).
    arraySort(groupArrayIf(dt, type = 'purchase' AND dt >= 0)) AS purchase_times,
    if(orders > 0 AND length(purchase_times) >= 2 AND purchase_times[2] - purchase_times[1] < {attrMs:Int64}, purchase_times[2] - purchase_times[1], -1) AS repurchase_ms,
    least({attrMs:Int64}, {asOf:Int64} - exposed_ms - purchase_times[1]) AS repurchase_observed_ms,
    sumIf(revenue, type = 'purchase' AND ${inLookback}) - sumIf(revenue, type = 'refund' AND ${inLookback}) AS pre_revenue,
    countIf(type = 'purchase' AND ${inLookback}) AS pre_orders,
    least({attrMs:Int64}, {asOf:Int64} - exposed_ms) AS observed_ms,
    exposed_ms + {attrMs:Int64} <= {asOf:Int64} AS mature,
    exposed_ms + {ltvMs:Int64} <= {asOf:Int64} AS ltv_mature
  FROM customer_events
  GROUP BY cust
)`
}

/** The customer columns under the names the statistics use (an alias may not shadow the event column). */
export const customerColumns =
  'arm, orders, gross, revenue_net AS revenue, ltv, incentive_cost, redeemed, unsubscribed, net_value, first_purchase_ms, pre_revenue, pre_orders, observed_ms, mature, ltv_mature'

/**
 * Enrolment per arm and day of first exposure, with how many of those customers are still inside their
 * outcome window at asOf: the report's maturity counts and its health charts.
 */
export const enrolmentSql = (slice: CustomerSlice = wholeRange) => `WITH ${firstExposuresSql(slice)}
SELECT arm, toString(toDate(fromUnixTimestamp64Milli(t0, 'UTC'))) AS day, count() AS enrolled,
  countIf(t0 + {attrMs:Int64} > {asOf:Int64}) AS immature
FROM first_exposures
GROUP BY arm, day
ORDER BY arm, day`
