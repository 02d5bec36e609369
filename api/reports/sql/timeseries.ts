import { firstExposuresSql } from './customer-window.ts'
import { sufficientStatsColumns } from './arm-stats.ts'

/**
 * Cumulative per-arm sufficient statistics at each cut time: customers first exposed by the cut, with their
 * outcomes from events up to the cut (and within their window). One scan: each customer's events are
 * gathered into an array once, then every cut is evaluated on it (ARRAY JOIN over the cuts).
 * Same columns as armStatsSql, so the same comparison code runs on every point.
 */
export const timeseriesSql = `WITH ${firstExposuresSql},
histories AS (
  SELECT f.customer_id AS customer_id, any(f.arm) AS arm, any(f.t0) AS t0,
    groupArray((toUnixTimestamp64Milli(e.ts) - f.t0, e.type, e.revenue, ifNull(e.margin, e.revenue * {marginRate:Float64}), e.cost, e.experiment_id)) AS evs
  FROM first_exposures AS f
  LEFT JOIN (SELECT customer_id, ts, type, revenue, margin, cost, experiment_id FROM events FINAL WHERE ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')) AS e ON e.customer_id = f.customer_id
  GROUP BY f.customer_id
),
at_cut AS (
  SELECT cut, arm,
    least({attrMs:Int64}, cut - t0) AS w,
    least({ltvMs:Int64}, cut - t0) AS lw,
    arrayCount(x -> x.2 = 'purchase' AND x.1 >= 0 AND x.1 < w, evs) AS orders,
    arraySum(x -> if(x.2 = 'purchase' AND x.1 >= 0 AND x.1 < w, x.3, 0), evs) AS gross,
    gross - arraySum(x -> if(x.2 = 'refund' AND x.1 >= 0 AND x.1 < w, x.3, 0), evs) AS revenue,
    arraySum(x -> if(x.2 = 'purchase' AND x.1 >= 0 AND x.1 < lw, x.3, if(x.2 = 'refund' AND x.1 >= 0 AND x.1 < lw, -x.3, 0)), evs) AS ltv,
    arraySum(x -> if(x.2 = 'offer_redeemed' AND x.6 = {exp:String} AND x.1 >= 0 AND x.1 < w, x.5, 0), evs) AS incentive_cost,
    arrayExists(x -> x.2 = 'offer_redeemed' AND x.6 = {exp:String} AND x.1 >= 0 AND x.1 < w, evs) AS redeemed,
    arrayExists(x -> x.2 = 'unsubscribe' AND x.1 >= 0 AND x.1 < w, evs) AS unsubscribed,
    arraySum(x -> if(x.2 = 'purchase' AND x.1 >= 0 AND x.1 < w, x.4, if(x.2 = 'refund' AND x.1 >= 0 AND x.1 < w, -x.4, 0)), evs) - incentive_cost AS net_value,
    arraySum(x -> if(x.2 = 'purchase' AND x.1 < 0 AND x.1 >= -{lookbackMs:Int64}, x.3, if(x.2 = 'refund' AND x.1 < 0 AND x.1 >= -{lookbackMs:Int64}, -x.3, 0)), evs) AS pre_revenue,
    arrayCount(x -> x.2 = 'purchase' AND x.1 < 0 AND x.1 >= -{lookbackMs:Int64}, evs) AS pre_orders
  FROM histories
  ARRAY JOIN {cuts:Array(Int64)} AS cut
  WHERE t0 <= cut
)
SELECT cut, arm,
  ${sufficientStatsColumns}
FROM at_cut
GROUP BY cut, arm
ORDER BY cut, arm`
