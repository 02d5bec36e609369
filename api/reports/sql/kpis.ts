/**
 * Program KPIs in one pass over the events. Each customer is measured in several scopes: the program as a whole
 * (scope '', from their first program exposure) and each experiment they were exposed to (scope = experiment id,
 * from their first exposure to it). "Treated" means assigned to a real arm; "global_holdout" means kept out of
 * every offer (logged per experiment, so each experiment has its own globally held-out comparison group).
 * Experiment-holdout customers who were never treated elsewhere belong to neither group.
 *
 * Per scope, group and week of first exposure: the sufficient statistics of reactivation, revenue and net value
 * over the customers whose window has closed at asOf (or all of them with includeImmature), plus the customers
 * still inside their window and those first exposed since {recentFrom} (the run rate).
 */
export const kpiSql = `
WITH
per_experiment AS (
  SELECT customer_id, experiment_id, toUnixTimestamp64Milli(min(ts)) AS t0,
    max(arm NOT IN ('holdout', 'global_holdout')) AS treated, max(arm = 'global_holdout') AS held
  FROM exposures
  WHERE ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
  GROUP BY customer_id, experiment_id
  HAVING treated OR held
),
units AS (
  SELECT customer_id, '' AS scope, min(t0) AS t0, if(max(treated), 'treated', 'global_holdout') AS grp
  FROM per_experiment GROUP BY customer_id
  UNION ALL
  SELECT customer_id, experiment_id AS scope, t0, if(treated, 'treated', 'global_holdout') AS grp
  FROM per_experiment
),
-- One row per customer and scope: their outcomes inside the window (a right join keeps customers without events).
per_unit AS (
  SELECT customer_id, scope, t0, grp,
    countIf(type = 'purchase' AND inside) AS orders,
    sumIf(revenue, type = 'purchase' AND inside) - sumIf(revenue, type = 'refund' AND inside) AS net_revenue,
    sumIf(cost, type = 'offer_redeemed' AND inside) AS spent,
    sumIf(ifNull(margin, revenue * {marginRate:Float64}), type = 'purchase' AND inside)
      - sumIf(ifNull(margin, revenue * {marginRate:Float64}), type = 'refund' AND inside) AS net_margin
  FROM (
    SELECT u.customer_id AS customer_id, u.scope AS scope, u.t0 AS t0, u.grp AS grp, e.type AS type, e.revenue AS revenue,
      e.margin AS margin, e.cost AS cost,
      toUnixTimestamp64Milli(e.ts) >= u.t0 AND toUnixTimestamp64Milli(e.ts) < u.t0 + {windowMs:Int64} AS inside
    FROM (
      SELECT customer_id, type, ts, revenue, margin, cost FROM events FINAL
      WHERE ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') AND type IN ('purchase', 'refund', 'offer_redeemed')
    ) AS e
    RIGHT JOIN units AS u ON e.customer_id = u.customer_id
  )
  GROUP BY customer_id, scope, t0, grp
),
-- As in experiment reports, a customer still inside their window is not yet a failure: by default they wait.
measured AS (
  SELECT *, {includeImmature:UInt8} OR t0 + {windowMs:Int64} <= {asOf:Int64} AS m FROM per_unit
)
SELECT scope, grp, toString(toStartOfWeek(fromUnixTimestamp64Milli(t0, 'UTC'), 1)) AS week,
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
