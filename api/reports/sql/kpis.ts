import type { CompiledColumns } from '../../metrics/compile.ts'
import { featureColumns } from '../../segments/features-sql.ts'

/**
 * One row per customer and experiment asked about ({ids} also numbers the scopes: 1 = ids[1], …), from the
 * exposures up to the period's end, kept when an exposure treated the customer or held them out globally (an
 * experiment's own holdout alone puts them in neither group). Earlier exposures count too: a customer belongs to
 * the period only when their FIRST exposure falls in it, so someone first exposed before `from` and again inside
 * the period is not counted anew from the later exposure.
 */
const perExperiment = (extra = '') => `SELECT cityHash64(customer_id) AS cust${extra}, toUInt16(indexOf({ids:Array(String)}, experiment_id)) AS scope,
    toUnixTimestamp64Milli(minIf(ts, arm != 'holdout')) AS t0,
    max(arm NOT IN ('holdout', 'global_holdout')) AS treated, max(arm = 'global_holdout') AS held
  FROM exposures
  WHERE ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC') AND experiment_id IN {ids:Array(String)}
  GROUP BY cust, scope
  HAVING treated OR held`

/**
 * Program KPIs in one pass over the events. Each customer is measured in several scopes: the program as a whole
 * (scope 0, from their first program exposure) and each experiment they were exposed to (scope i for {ids}[i],
 * from their first exposure to it). "Treated" means assigned to a real arm; "global holdout" means kept out of
 * every offer (logged per experiment, so each experiment has its own globally held-out comparison group).
 * Experiment-holdout customers who were never treated elsewhere belong to neither group. Customers are keyed by
 * cityHash64(customer_id), as in experiment reports.
 *
 * The program's window of a customer is always the window of their earliest experiment (it starts at the minimum
 * of the experiments' starts), so the events are joined to each experiment window only and the earliest one's
 * outcomes are counted a second time for scope 0. Joining a separate program window too made every event of a
 * one-experiment customer (most of them) pass the join and the per-window grouping twice with the same result:
 * 1M customers / 10M events took 1.4–1.6× as long on the same runner under the same load (bench/kpis.ts).
 *
 * Per scope, group and week of first exposure: the sufficient statistics of reactivation, revenue and net value
 * over the customers whose window has closed at asOf (or all of them with includeImmature), plus the customers
 * still inside their window and those first exposed since {recentFrom} (the run rate). Only events that can
 * fall in some window are read: from the period's start to its end plus one window.
 *
 * Most of the time goes to the join and the per-window grouping of its ~1.3 rows per event, and to the window
 * functions that build the join's side. Packing each window's flags into one number and signing the amounts
 * before the join cut the CPU time by a quarter at 1M customers / 10M events: the first call in a fresh process
 * went from 1.9–2.3 s to 1.5–1.6 s on the same world, back to back (2.0 s in bench/kpis.ts, from 2.9 s).
 * Measured and not kept: the window bounds in the join's ON (ClickHouse filters the same joined rows after, and
 * was slower), one GROUP BY per customer with groupArray instead of the window functions (2–3× their cost),
 * a materialized windows table joined for events inside a window and unioned for the others, aggregation in
 * exposures' storage order, the non-parallel hash join. Reading events without FINAL or with its PREWHERE
 * saved nothing measurable: the benchmark's table is one merged part, which FINAL reads without merging.
 */
/**
 * Every window of the period with the customer's features as of its start (features-sql.ts, from events strictly
 * before it): the input of a segment filter, and of the RFM cut points such a filter needs. `rfm`: the RFM group's
 * expression, carried as `rfm_group`.
 */
export const kpiWindowFeaturesSql = (rfm?: string) => `
  SELECT w.cust AS cust, w.scope AS scope, w.t0 AS t0, w.treated AS treated, w.earliest AS earliest, w.treated_anywhere AS treated_anywhere,
    ${featureColumns('h.hist', 'w.t0', 'fx_')}${rfm ? `,\n    ${rfm} AS rfm_group` : ''}
  FROM (${windowsSql(', any(customer_id) AS cid', ', cid')}) AS w
  LEFT JOIN (
    SELECT customer_id, groupUniqArrayMerge(history) AS hist
    FROM customer_timeline
    WHERE customer_id IN (SELECT customer_id FROM exposures WHERE experiment_id IN {ids:Array(String)} AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC'))
    GROUP BY customer_id
  ) AS h ON h.customer_id = w.cid`

/**
 * Which window is each customer's earliest (ties broken by scope, so exactly one is) and whether any experiment
 * treated them, decided before the period filter: a customer whose earliest window starts before {from} is not
 * in the program's period even when a later experiment's window is.
 */
const windowsSql = (extra = '', carried = '') => `
  SELECT * FROM (
    SELECT cust${carried}, scope, t0, treated,
      row_number() OVER (PARTITION BY cust ORDER BY t0, scope) = 1 AS earliest,
      max(treated) OVER (PARTITION BY cust) AS treated_anywhere
    FROM (${perExperiment(extra)})
  )
  WHERE t0 >= {from:Int64}`

/**
 * The KPI query, for every customer or (`segment`) for the windows whose customer met a segment's rule — a String
 * or boolean expression over the feature columns — at the window's start. A customer counts in the program when they
 * met it at their earliest window, and in an experiment when they met it at that experiment's.
 */
/** A segment's rule over the windows' feature columns (rule-sql.ts), and the RFM group's expression when it reads one. */
export interface KpiSegmentFilter {
  where: string
  rfm?: string
}

/**
 * One row per window: the customer, the window's start and, packed into one number (`tag`, unpacked by UNITS), its
 * scope (bits 0-15), whether it is treated (bit 16), the customer's earliest (bit 17) and whether any experiment
 * treated the customer (bit 18). The join's build side then carries three narrow columns instead of six, and the
 * per-window grouping hashes a 12-byte key instead of six columns.
 */
const windowsCte = (segment?: KpiSegmentFilter) => `windows AS (
  SELECT cust, t0, scope + 65536 * treated + 131072 * earliest + 262144 * treated_anywhere AS tag
  FROM (${
    segment
      ? `\n    SELECT cust, scope, t0, treated, earliest, treated_anywhere FROM (${kpiWindowFeaturesSql(segment.rfm)}\n    )\n    WHERE ${segment.where}`
      : windowsSql()
  }
  )
)`

/**
 * A window's row once per scope it counts in, as `unit` = (scope, treated): its experiment's, and the program's
 * (scope 0) when it is the customer's earliest, treated there when any experiment treated the customer.
 */
const UNITS = `ARRAY JOIN if(bitTest(tag, 17), [(toUInt16(bitAnd(tag, 65535)), bitTest(tag, 16)), (toUInt16(0), bitTest(tag, 18))],
    [(toUInt16(bitAnd(tag, 65535)), bitTest(tag, 16))]) AS unit`

export const kpiSqlFor = (segment?: KpiSegmentFilter) => `
WITH
${windowsCte(segment)},
-- One row per window: its outcomes (a right join keeps windows without events). Before the join the event type
-- becomes a number and the amounts get their sign (a refund's revenue and margin count against the window, an
-- offer redemption's cost is its amount and it has no margin), so the grouping keeps four sums, not six.
per_window AS (
  SELECT tag, any(t0) AS t0,
    countIf(kind = 1 AND inside) AS orders,
    sumIf(amount, kind != 3 AND inside) AS net_revenue,
    sumIf(amount, kind = 3 AND inside) AS spent,
    sumIf(margin, inside) AS net_margin
  FROM (
    SELECT w.cust AS cust, w.t0 AS t0, w.tag AS tag, e.kind AS kind, e.amount AS amount, e.margin AS margin,
      e.at >= w.t0 AND e.at < w.t0 + {windowMs:Int64} AS inside
    FROM (
      SELECT cityHash64(customer_id) AS cust, toUInt8(multiIf(type = 'purchase', 1, type = 'refund', 2, 3)) AS kind,
        toUnixTimestamp64Milli(ts) AS at, multiIf(kind = 1, revenue, kind = 2, -revenue, cost) AS amount,
        multiIf(kind = 1, ifNull(margin, revenue * {marginRate:Float64}), kind = 2, -ifNull(margin, revenue * {marginRate:Float64}), 0) AS margin
      FROM events FINAL
      WHERE ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64} + {windowMs:Int64}, 'UTC')
        AND ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') AND type IN ('purchase', 'refund', 'offer_redeemed')
    ) AS e
    RIGHT JOIN windows AS w ON e.cust = w.cust
  )
  GROUP BY cust, tag
),
-- One row per customer and scope. As in experiment reports, a customer still inside their window is not yet a
-- failure: by default they wait.
measured AS (
  SELECT unit.1 AS scope, unit.2 AS treated, t0, orders, net_revenue, spent, net_margin,
    {includeImmature:UInt8} OR t0 + {windowMs:Int64} <= {asOf:Int64} AS m
  FROM per_window
  ${UNITS}
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

export const kpiSql = kpiSqlFor()

/**
 * Catalogue metrics over the program's windows (issue 17): per scope and group (`arm` = treated or global_holdout),
 * each metric's per-arm sufficient statistics, compiled by metrics/compile.ts exactly as for an experiment's arms —
 * per customer and window the qualifying events in the metric's own window from the window's start, counted once
 * that window has ended at asOf; percentile caps per scope. Read in a pass of their own so that the KPIs without
 * catalogue metrics cost what they did. Events are read from the period's start to its end plus the longest
 * metric window ({metricsReachMs}).
 */
export const kpiMetricsSqlFor = (
  c: Pick<CompiledColumns, 'customer' | 'capped' | 'arm' | 'survival' | 'eventColumns' | 'carried'>,
  segment?: KpiSegmentFilter,
) => `
WITH
${windowsCte(segment)},
metric_events AS (
  SELECT w.cust AS cust, w.tag AS tag, w.t0 AS t0, toUnixTimestamp64Milli(e.ts) - w.t0 AS dt, e.type AS type${c.carried.map((col) => `, e.${col} AS ${col}`).join('')}
  FROM (
    SELECT cityHash64(customer_id) AS cust, ts, type${c.eventColumns.map((col) => `, ${col}`).join('')}
    FROM events FINAL
    WHERE ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64} + {metricsReachMs:Int64}, 'UTC')
      AND ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') AND type IN {metricTypes:Array(String)}
  ) AS e
  RIGHT JOIN windows AS w ON e.cust = w.cust
),
metric_customers AS (
  SELECT tag, any(t0) AS exposed_ms,
    ${c.customer.join(',\n    ')}
  FROM metric_events
  GROUP BY cust, tag
),
metric_units AS (
  SELECT unit.1 AS scope, unit.2 AS treated, *
  FROM metric_customers
  ${UNITS}
),
metric_capped AS (
  SELECT scope, treated, ${c.capped.join(', ')}
  FROM metric_units
)
SELECT scope, if(treated, 'treated', 'global_holdout') AS arm,
  ${[...c.arm, ...(c.survival ? [c.survival] : [])].join(',\n  ')}
FROM metric_capped
GROUP BY scope, arm
ORDER BY scope, arm`
