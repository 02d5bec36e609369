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
export interface CustomerWindowParams {
  experimentId: string
  asOfMs: number
  attributionMs: number
  ltvMs: number
  lookbackMs: number
  marginRate: number
}

export const customerWindowParams = (p: CustomerWindowParams) => ({
  exp: p.experimentId,
  asOf: p.asOfMs,
  attrMs: p.attributionMs,
  ltvMs: p.ltvMs,
  lookbackMs: p.lookbackMs,
  marginRate: p.marginRate,
})

/** Arms that belong in an experiment report: its arms and the experiment holdout, not the global holdout. */
export const firstExposuresSql = `
first_exposures AS (
  SELECT customer_id, argMin(arm, ts) AS arm, toUnixTimestamp64Milli(min(ts)) AS t0, argMin(attributes, ts) AS attrs
  FROM exposures
  WHERE experiment_id = {exp:String} AND ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')
  GROUP BY customer_id
  HAVING arm != 'global_holdout'
)`

const inWindow = (ms: string) => `dt >= 0 AND dt < ${ms}`
const inLookback = `dt < 0 AND dt >= -{lookbackMs:Int64}`
const marginOf = `ifNull(margin, revenue * {marginRate:Float64})`

export const customerWindowSql = `${firstExposuresSql},
customer_events AS (
  SELECT e.customer_id AS customer_id, toUnixTimestamp64Milli(e.ts) - f.t0 AS dt, e.type AS type, e.revenue AS revenue,
         e.margin AS margin, e.cost AS cost, e.experiment_id AS event_experiment
  FROM events AS e FINAL
  INNER JOIN first_exposures AS f ON f.customer_id = e.customer_id
  WHERE e.ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')
),
customer_outcomes AS (
  SELECT customer_id,
    countIf(type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) AS orders,
    sumIf(revenue, type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) AS gross,
    gross - sumIf(revenue, type = 'refund' AND ${inWindow('{attrMs:Int64}')}) AS revenue_net,
    sumIf(revenue, type = 'purchase' AND ${inWindow('{ltvMs:Int64}')}) - sumIf(revenue, type = 'refund' AND ${inWindow('{ltvMs:Int64}')}) AS ltv,
    sumIf(cost, type = 'offer_redeemed' AND event_experiment = {exp:String} AND ${inWindow('{attrMs:Int64}')}) AS incentive_cost,
    countIf(type = 'offer_redeemed' AND event_experiment = {exp:String} AND ${inWindow('{attrMs:Int64}')}) > 0 AS redeemed,
    countIf(type = 'unsubscribe' AND ${inWindow('{attrMs:Int64}')}) > 0 AS unsubscribed,
    sumIf(${marginOf}, type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) - sumIf(${marginOf}, type = 'refund' AND ${inWindow('{attrMs:Int64}')}) - incentive_cost AS net_value,
    minIf(dt, type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) AS first_purchase_ms,
    sumIf(revenue, type = 'purchase' AND ${inLookback}) - sumIf(revenue, type = 'refund' AND ${inLookback}) AS pre_revenue,
    countIf(type = 'purchase' AND ${inLookback}) AS pre_orders
  FROM customer_events
  GROUP BY customer_id
),
customers AS (
  -- LEFT JOIN: customers without any event keep zeros (join_use_nulls = 0).
  SELECT f.customer_id AS customer_id, f.arm AS arm, f.t0 AS t0, f.attrs AS attrs,
    o.orders AS orders, o.gross AS gross, o.revenue_net AS revenue, o.ltv AS ltv, o.incentive_cost AS incentive_cost,
    o.redeemed AS redeemed, o.unsubscribed AS unsubscribed, o.net_value AS net_value,
    o.first_purchase_ms AS first_purchase_ms, o.pre_revenue AS pre_revenue, o.pre_orders AS pre_orders,
    least({attrMs:Int64}, {asOf:Int64} - f.t0) AS observed_ms
  FROM first_exposures AS f
  LEFT JOIN customer_outcomes AS o ON o.customer_id = f.customer_id
)`
