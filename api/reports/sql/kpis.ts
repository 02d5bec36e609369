/**
 * Exposures up to the period's end of the experiments asked about ({ids} also numbers the scopes: 1 = ids[1], …).
 * Earlier ones too: a customer belongs to the period only when their FIRST exposure falls in it, so someone first
 * exposed before `from` and again inside the period is not counted anew from the later exposure.
 */
const exposuresUntilTo = `FROM exposures
  WHERE ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC') AND experiment_id IN {ids:Array(String)}`
/** From the first exposure that treated the customer or held them out globally (not an experiment's own holdout). */
const firstExposure = `toUnixTimestamp64Milli(minIf(ts, arm != 'holdout')) AS t0,
    max(arm NOT IN ('holdout', 'global_holdout')) AS treated, max(arm = 'global_holdout') AS held`
const firstInPeriod = `HAVING (treated OR held) AND t0 >= {from:Int64}`

/**
 * Program KPIs in one pass over the events. Each customer is measured in several scopes: the program as a whole
 * (scope 0, from their first program exposure) and each experiment they were exposed to (scope i for {ids}[i],
 * from their first exposure to it). "Treated" means assigned to a real arm; "global holdout" means kept out of
 * every offer (logged per experiment, so each experiment has its own globally held-out comparison group).
 * Experiment-holdout customers who were never treated elsewhere belong to neither group. Customers are keyed by
 * cityHash64(customer_id), as in experiment reports.
 *
 * Per scope, group and week of first exposure: the sufficient statistics of reactivation, revenue and net value
 * over the customers whose window has closed at asOf (or all of them with includeImmature), plus the customers
 * still inside their window and those first exposed since {recentFrom} (the run rate). Only events that can
 * fall in some window are read: from the period's start to its end plus one window.
 */
export const kpiSql = `
WITH
units AS (
  SELECT cityHash64(customer_id) AS cust, toUInt16(indexOf({ids:Array(String)}, experiment_id)) AS scope, ${firstExposure}
  ${exposuresUntilTo}
  GROUP BY cust, scope
  ${firstInPeriod}
  UNION ALL
  SELECT cityHash64(customer_id) AS cust, toUInt16(0) AS scope, ${firstExposure}
  ${exposuresUntilTo}
  GROUP BY cust
  ${firstInPeriod}
),
-- One row per customer and scope: their outcomes inside the window (a right join keeps customers without events).
per_unit AS (
  SELECT cust, scope, any(t0) AS t0, any(treated) AS treated,
    countIf(type = 'purchase' AND inside) AS orders,
    sumIf(revenue, type = 'purchase' AND inside) - sumIf(revenue, type = 'refund' AND inside) AS net_revenue,
    sumIf(cost, type = 'offer_redeemed' AND inside) AS spent,
    sumIf(ifNull(margin, revenue * {marginRate:Float64}), type = 'purchase' AND inside)
      - sumIf(ifNull(margin, revenue * {marginRate:Float64}), type = 'refund' AND inside) AS net_margin
  FROM (
    SELECT u.cust AS cust, u.scope AS scope, u.t0 AS t0, u.treated AS treated, e.type AS type, e.revenue AS revenue,
      e.margin AS margin, e.cost AS cost, e.at >= u.t0 AND e.at < u.t0 + {windowMs:Int64} AS inside
    FROM (
      SELECT cityHash64(customer_id) AS cust, type, toUnixTimestamp64Milli(ts) AS at, revenue, margin, cost FROM events FINAL
      WHERE ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64} + {windowMs:Int64}, 'UTC')
        AND ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') AND type IN ('purchase', 'refund', 'offer_redeemed')
    ) AS e
    RIGHT JOIN units AS u ON e.cust = u.cust
  )
  GROUP BY cust, scope
),
-- As in experiment reports, a customer still inside their window is not yet a failure: by default they wait.
measured AS (
  SELECT *, {includeImmature:UInt8} OR t0 + {windowMs:Int64} <= {asOf:Int64} AS m FROM per_unit
)
SELECT scope, if(treated, 'treated', 'global_holdout') AS grp, toString(toStartOfWeek(fromUnixTimestamp64Milli(t0, 'UTC'), 1)) AS week,
  countIf(m) AS n,
  countIf(m AND orders > 0) AS reactivated,
  sumIf(net_revenue, m) AS revenue_sum, sumIf(net_revenue * net_revenue, m) AS revenue_ss,
  sumIf(spent, m) AS cost_sum,
  sumIf(net_margin - spent, m) AS net_sum, sumIf((net_margin - spent) * (net_margin - spent), m) AS net_ss,
  countIf(t0 + {windowMs:Int64} > {asOf:Int64}) AS immature,
  countIf(t0 >= {recentFrom:Int64}) AS recent
FROM measured
GROUP BY scope, grp, week
ORDER BY scope, week, grp`
