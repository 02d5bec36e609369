/** Everyone in the program window: treated or globally held out, with their first exposure. */
const programCtes = `program AS (
  SELECT customer_id, min(ts) AS first_ts,
    max(arm NOT IN ('holdout', 'global_holdout')) AS treated, max(arm = 'global_holdout') AS held
  FROM exposures
  WHERE ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
  GROUP BY customer_id
  HAVING treated OR held
),
everyone AS (
  SELECT customer_id, toUnixTimestamp64Milli(first_ts) AS t0, if(treated, 'treated', 'global_holdout') AS grp FROM program
)`

/**
 * Program KPIs: everyone treated by any experiment (assigned to a real arm) against the global holdout, each
 * customer measured over a window from their first program exposure in [from, to). Experiment-holdout
 * customers who were never treated elsewhere belong to neither group. Per group and week of first exposure.
 */
export const kpiSql = `
WITH ${programCtes},
-- As in experiment reports, a customer still inside their window is not yet a failure: by default they wait.
population AS (
  SELECT * FROM everyone WHERE {includeImmature:UInt8} OR t0 + {windowMs:Int64} <= {asOf:Int64}
),
outcomes AS (
  SELECT e.customer_id AS customer_id,
    countIf(e.type = 'purchase') AS orders,
    sumIf(e.revenue, e.type = 'purchase') - sumIf(e.revenue, e.type = 'refund') AS revenue,
    sumIf(e.cost, e.type = 'offer_redeemed') AS cost,
    sumIf(ifNull(e.margin, e.revenue * {marginRate:Float64}), e.type = 'purchase') - sumIf(ifNull(e.margin, e.revenue * {marginRate:Float64}), e.type = 'refund') AS margin
  FROM events AS e FINAL
  INNER JOIN population AS p ON p.customer_id = e.customer_id
  WHERE e.ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')
    AND toUnixTimestamp64Milli(e.ts) >= p.t0 AND toUnixTimestamp64Milli(e.ts) < p.t0 + {windowMs:Int64}
  GROUP BY e.customer_id
)
SELECT p.grp AS grp, toString(toStartOfWeek(fromUnixTimestamp64Milli(p.t0, 'UTC'), 1)) AS week,
  count() AS n,
  countIf(o.orders > 0) AS reactivated,
  sum(o.revenue) AS revenue_sum, sum(o.revenue * o.revenue) AS revenue_ss,
  sum(o.cost) AS cost_sum,
  sum(o.margin - o.cost) AS net_sum, sum((o.margin - o.cost) * (o.margin - o.cost)) AS net_ss
FROM population AS p
LEFT JOIN outcomes AS o ON o.customer_id = p.customer_id
GROUP BY grp, week
ORDER BY week, grp`

/** Customers of the same program population still inside their window at asOf (not counted by default). */
export const kpiImmatureSql = `WITH ${programCtes}
SELECT count() AS immature FROM everyone WHERE t0 + {windowMs:Int64} > {asOf:Int64}`
