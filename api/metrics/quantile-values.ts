import { compareQuantiles, normalUpperQuantile, quantileRankBounds, type QuantileArm, type QuantileRankStats } from '../../stats/index.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { firstExposuresSql } from '../reports/sql/customer-window.ts'
import type { MetricComparison } from '../contract/comparisons.ts'
import type { Comparison } from '../../stats/types.ts'
import { quantileEventColumns, type QuantileMetric } from './compile.ts'
import { storedPropertyColumns } from '../stores/property-columns.ts'

/**
 * Quantile metrics (median order value) per arm, with the interval of stats/quantile.ts: three passes over the
 * arm's qualifying events — the sample quantile, the per-customer counts at or below it, and the quantiles at the
 * interval's bounding ranks. Every customer of an arm is read in one pass (quantiles do not add up over slices).
 * docs/metrics.md → Quantile states the method.
 */

/** One arm of a quantile metric: customers counted, qualifying events, the quantile and its interval. */
export interface QuantileArmResult extends QuantileArm {
  arm: string
  events: number
  rank: QuantileRankStats | null
}

type Row = Record<string, unknown>

const rowsSql = (columns: ReturnType<typeof quantileEventColumns>) => `WITH ${firstExposuresSql()},
quantile_events AS (
  SELECT f.cust AS cust, f.arm AS arm, f.t0 AS exposed_ms, toUnixTimestamp64Milli(e.ts) - f.t0 AS dt, e.q_q AS q_q, e.q_v AS q_v
  FROM (
    SELECT cityHash64(customer_id) AS cust, ts, ${columns.eventColumns.join(', ')}
    FROM events FINAL
    WHERE ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') AND type IN {metricTypes:Array(String)}
  ) AS e
  RIGHT JOIN first_exposures AS f ON f.cust = e.cust
),
quantile_rows AS (
  SELECT cust, arm, q_v AS v, q_q AND ${columns.inWindow} AS hit, ${columns.counted} AS counted
  FROM quantile_events
)`

async function query(ch: ClickHouse, sql: string, params: Record<string, unknown>): Promise<Row[]> {
  const r = await ch.client.query({ query: sql, query_params: params, format: 'JSONEachRow' })
  return r.json<Row>()
}

/**
 * Each arm's p-quantile of the value over its counted customers' qualifying events, with its interval at α.
 * `params` are the query-wide ones (metricQueryParams: exp, asOf, enrolledUntil, includeImmature …).
 *
 * @example
 * const arms = await quantileArms(ch, medianOrderValue, ['control', 'offer'], params, 0.05)
 * arms[1] // { arm: 'offer', n: 1204, events: 2811, estimate: 41.5, ci: [39.9, 43.0], rank: {…} }
 */
export async function quantileArms(
  ch: ClickHouse,
  def: QuantileMetric,
  arms: string[],
  params: Record<string, unknown>,
  alpha: number,
): Promise<QuantileArmResult[]> {
  const columns = quantileEventColumns(def, await storedPropertyColumns(ch))
  const base = rowsSql(columns)
  const all = { ...params, ...columns.params, p: String(def.quantile) }
  const first = new Map(
    (
      await query(
        ch,
        `${base}
SELECT arm, uniqExactIf(cust, counted) AS n, countIf(counted AND hit) AS events, quantileExactInclusiveIf({p:Float64})(v, counted AND hit) AS estimate
FROM quantile_rows GROUP BY arm`,
        all,
      )
    ).map((r) => [String(r.arm), r]),
  )
  const estimates = arms.map((arm) => (Number(first.get(arm)?.events ?? 0) > 0 ? Number(first.get(arm)!.estimate) : null))
  // Per customer, events at or below their arm's quantile and events: the delta method's sums.
  const second = new Map(
    (
      await query(
        ch,
        `${base}
SELECT customer_arm AS arm, count() AS n, sum(a) AS below_sum, sum(a * a) AS below_ss, sum(m) AS events_sum, sum(m * m) AS events_ss, sum(a * m) AS cross_sum
FROM (
  SELECT cust, any(arm) AS customer_arm,
    countIf(hit AND v <= toFloat64({qValues:Array(String)}[indexOf({qArms:Array(String)}, arm)])) AS a, countIf(hit) AS m
  FROM quantile_rows WHERE counted GROUP BY cust
)
GROUP BY customer_arm`,
        { ...all, qArms: arms, qValues: estimates.map((e) => (e === null ? 'nan' : String(e))) },
      )
    ).map((r) => [String(r.arm), r]),
  )
  const ranks = arms.map((arm, i): { rank: QuantileRankStats | null; bounds: ReturnType<typeof quantileRankBounds> } => {
    const r = second.get(arm)
    if (!r || estimates[i] === null) return { rank: null, bounds: null }
    const rank = {
      n: Number(r.n),
      belowSum: Number(r.below_sum),
      belowSumSquares: Number(r.below_ss),
      eventsSum: Number(r.events_sum),
      eventsSumSquares: Number(r.events_ss),
      crossSum: Number(r.cross_sum),
    }
    return { rank, bounds: quantileRankBounds(rank, def.quantile, alpha) }
  })
  // The quantiles at each arm's bounding ranks, in one pass (the levels are bound per arm).
  const withBounds = arms.flatMap((arm, i) => (ranks[i].bounds ? [{ arm, i, bounds: ranks[i].bounds! }] : []))
  const third = withBounds.length
    ? (
        await query(
          ch,
          `${base}
SELECT ${withBounds
            .map(
              ({ i }) =>
                `quantileExactInclusiveIf({lo${i}:Float64})(v, counted AND hit AND arm = {arm${i}:String}) AS lo${i}, quantileExactInclusiveIf({hi${i}:Float64})(v, counted AND hit AND arm = {arm${i}:String}) AS hi${i}`,
            )
            .join(', ')}
FROM quantile_rows`,
          {
            ...all,
            ...Object.fromEntries(
              withBounds.flatMap(({ arm, i, bounds }) => [
                [`arm${i}`, arm],
                [`lo${i}`, String(bounds.lower)],
                [`hi${i}`, String(bounds.upper)],
              ]),
            ),
          },
        )
      )[0]
    : {}
  return arms.map((arm, i) => ({
    arm,
    n: Number(first.get(arm)?.n ?? 0),
    events: Number(first.get(arm)?.events ?? 0),
    estimate: estimates[i],
    ci: ranks[i].bounds ? [Number(third[`lo${i}`]), Number(third[`hi${i}`])] : null,
    rank: ranks[i].rank,
  }))
}

/**
 * A quantile comparison in the reports' shape: the relative lift tested, the absolute difference beside it, at
 * the given level (a family's level reuses the standard errors of the α-level arm intervals).
 */
export function quantileComparison(
  metric: string,
  baseline: QuantileArmResult,
  variant: QuantileArmResult,
  against: 'control' | 'holdout',
  alpha: number,
  designAlpha = alpha,
): MetricComparison {
  // The arm intervals were read at designAlpha; another level reuses the standard errors they imply.
  const opts = { metric, baseline: baseline.arm, variant: variant.arm, alpha: designAlpha }
  const atLevel = (c: Comparison): Comparison => {
    if (alpha === designAlpha || c.estimate === null || c.standardError === null) return c
    const z = normalUpperQuantile(alpha / 2)
    const ci: [number, number] = [c.estimate - z * c.standardError, c.estimate + z * c.standardError]
    return { ...c, alpha, ci, significant: ci[0] > 0 || ci[1] < 0 }
  }
  const r = atLevel(compareQuantiles(baseline, variant, { ...opts, kind: 'relative' }))
  const a = atLevel(compareQuantiles(baseline, variant, { ...opts, kind: 'absolute' }))
  return {
    ...r,
    absolute: { estimate: a.estimate, ci: a.ci, pValue: a.pValue, standardError: a.standardError, df: null },
    cuped: null,
    against,
  }
}
