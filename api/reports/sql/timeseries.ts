import { eventsUpToAsOfSql, firstExposuresSql, wholeRange, type CustomerSlice } from './customer-window.ts'

const inWindow = (ms: string) => `dt >= 0 AND dt < ${ms}`
const marginOf = `ifNull(e.margin, e.revenue * {marginRate:Float64})`
const cumulative = (q: string) => `sum(${q}) OVER (PARTITION BY cust ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`

/**
 * Changes in per-arm sufficient statistics at each cut (1-based index into {cuts}); summed over cuts 1..i
 * they give the statistics as of cut i: customers first exposed by the cut, outcomes from events before it
 * (and within each customer's window). A customer's value only changes at cuts where they have events, so
 * every statistic is accumulated from (customer, cut) changes — f(value now) − f(value before) — and the work
 * grows with events + customers, not with customers × cuts.
 */
export const timeseriesDeltasSql = (slice: CustomerSlice = wholeRange) => `WITH ${firstExposuresSql(slice)},
entries AS (
  -- A customer enters the series once their window has ended (or at exposure when immature ones count), so a
  -- cut never counts someone still inside their window as a failure; their window's events all precede entry.
  SELECT cust, arm, t0, arrayFirstIndex(c -> c >= t0 + if({includeImmature:UInt8}, 0, {attrMs:Int64}), {cuts:Array(Int64)}) AS entry FROM first_exposures
),
tagged AS (
  SELECT f.cust AS cust, f.arm AS arm, f.entry AS entry, e.type AS type,
    toUnixTimestamp64Milli(e.ts) - f.t0 AS dt,
    arrayFirstIndex(c -> c > toUnixTimestamp64Milli(e.ts), {cuts:Array(Int64)}) AS first_cut,
    -- Events after the last cut count nowhere; the rest count from the later of their cut and the customer's entry.
    first_cut > 0 AS counted, greatest(first_cut, f.entry) AS k,
    e.revenue AS revenue, ${marginOf} AS margin_amount, e.cost AS cost, e.experiment_id AS event_experiment
  FROM ${eventsUpToAsOfSql(slice)} AS e
  INNER JOIN entries AS f ON f.cust = e.cust
  WHERE f.entry > 0
  UNION ALL
  -- Every customer enters at their first cut, with or without events there.
  SELECT cust, arm, entry, '', 0, 0, false, entry, 0, 0, 0, '' FROM entries WHERE entry > 0
),
partials AS (
  SELECT cust, k, any(arm) AS arm, any(entry) AS entry,
    countIf(counted AND type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) AS q_orders,
    sumIf(revenue, counted AND type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) AS q_gross,
    sumIf(revenue, counted AND type = 'refund' AND ${inWindow('{attrMs:Int64}')}) AS q_refunds,
    sumIf(revenue, counted AND type = 'purchase' AND ${inWindow('{ltvMs:Int64}')}) - sumIf(revenue, counted AND type = 'refund' AND ${inWindow('{ltvMs:Int64}')}) AS q_ltv,
    sumIf(cost, counted AND type = 'offer_redeemed' AND event_experiment = {exp:String} AND ${inWindow('{attrMs:Int64}')}) AS q_cost,
    countIf(counted AND type = 'offer_redeemed' AND event_experiment = {exp:String} AND ${inWindow('{attrMs:Int64}')}) AS q_redeemed,
    countIf(counted AND type = 'unsubscribe' AND ${inWindow('{attrMs:Int64}')}) AS q_unsub,
    sumIf(margin_amount, counted AND type = 'purchase' AND ${inWindow('{attrMs:Int64}')}) - sumIf(margin_amount, counted AND type = 'refund' AND ${inWindow('{attrMs:Int64}')}) AS q_margin,
    sumIf(revenue, type = 'purchase' AND dt < 0 AND dt >= -{lookbackMs:Int64}) - sumIf(revenue, type = 'refund' AND dt < 0 AND dt >= -{lookbackMs:Int64}) AS q_pre_revenue,
    countIf(type = 'purchase' AND dt < 0 AND dt >= -{lookbackMs:Int64}) AS q_pre_orders
  FROM tagged
  GROUP BY cust, k
),
running AS (
  SELECT arm, k, k = entry AS entering,
    q_orders, q_gross - q_refunds AS q_revenue, q_ltv, q_cost, q_gross, q_margin - q_cost AS q_net, q_redeemed, q_unsub,
    ${cumulative('q_orders')} AS v_orders, ${cumulative('q_gross')} AS v_gross, ${cumulative('q_gross - q_refunds')} AS v_revenue,
    ${cumulative('q_ltv')} AS v_ltv, ${cumulative('q_cost')} AS v_cost, ${cumulative('q_redeemed')} AS v_redeemed,
    ${cumulative('q_unsub')} AS v_unsub, ${cumulative('q_margin - q_cost')} AS v_net,
    -- Pre-period events all fall in the entry row, so the per-customer sum is the pre-period value.
    sum(q_pre_revenue) OVER (PARTITION BY cust) AS pre_revenue,
    sum(q_pre_orders) OVER (PARTITION BY cust) AS pre_orders
  FROM partials
)
SELECT arm, k,
  countIf(entering) AS n,
  sum((v_redeemed > 0) - (v_redeemed - q_redeemed > 0)) AS redemption,
  sum((v_orders >= 1) - (v_orders - q_orders >= 1)) AS reactivation,
  sum((v_orders >= 2) - (v_orders - q_orders >= 2)) AS repeat_purchase,
  sum((v_unsub > 0) - (v_unsub - q_unsub > 0)) AS unsubscribe,
  sum(q_revenue) AS revenue_sum, sum(v_revenue * v_revenue - (v_revenue - q_revenue) * (v_revenue - q_revenue)) AS revenue_ss,
  sum(q_ltv) AS ltv_sum, sum(v_ltv * v_ltv - (v_ltv - q_ltv) * (v_ltv - q_ltv)) AS ltv_ss,
  sum(q_orders) AS orders_sum, sum(v_orders * v_orders - (v_orders - q_orders) * (v_orders - q_orders)) AS orders_ss,
  sum(q_cost) AS cost_sum, sum(v_cost * v_cost - (v_cost - q_cost) * (v_cost - q_cost)) AS cost_ss,
  sum(q_net) AS net_sum, sum(v_net * v_net - (v_net - q_net) * (v_net - q_net)) AS net_ss,
  sum(q_gross) AS gross_sum, sum(v_gross * v_gross - (v_gross - q_gross) * (v_gross - q_gross)) AS gross_ss,
  sum(v_gross * v_orders - (v_gross - q_gross) * (v_orders - q_orders)) AS gross_orders_cross,
  sumIf(pre_revenue, entering) AS pre_revenue_sum, sumIf(pre_revenue * pre_revenue, entering) AS pre_revenue_ss,
  sumIf(pre_orders, entering) AS pre_orders_sum, sumIf(pre_orders * pre_orders, entering) AS pre_orders_ss,
  sum(q_revenue * pre_revenue) AS revenue_pre_cross, sum(q_ltv * pre_revenue) AS ltv_pre_cross, sum(q_orders * pre_orders) AS orders_pre_cross
FROM running
GROUP BY arm, k
ORDER BY arm, k`
