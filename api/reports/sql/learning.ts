import { countedSql, customerWindowSql, wholeRange, type CustomerSlice, type FeatureMap } from './customer-window.ts'

const DAY = 86_400_000

/**
 * Durable re-engagement (docs/learning-library.md): a customer who purchased in the outcome window (reactivated)
 * and purchased again between DURABLE_FROM_DAYS and DURABLE_TO_DAYS after that first purchase, i.e. in days
 * 31–90 after it ([30 × 24 h, 90 × 24 h) from the first purchase's instant). A per-customer 0/1.
 */
export const DURABLE_FROM_DAYS = 30
export const DURABLE_TO_DAYS = 90

/** The bound parameters learningStatsSql adds to customerWindowParams. */
export const durableParams = () => ({ durableFromMs: DURABLE_FROM_DAYS * DAY, durableToMs: DURABLE_TO_DAYS * DAY })

/**
 * The learning library's sufficient statistics for one experiment, per (dimension, segment, arm): every attribute
 * captured at first exposure, the entries `features` computes from the customer's features then (learning-library.ts:
 * lapse stage, last offer response, RFM group, saved segments), and `(all)` / `all customers`. Read from the report's own per-customer pass
 * (customerWindowSql: the same deduplicated events, windows and maturity):
 * - `n`, `reactivation`: customers whose outcome window has ended, and those with a purchase in it;
 * - `net_sum`, `net_ss`: net value (margin − incentive cost) over the same customers;
 * - `durable_n`, `durable`: customers followed for the window plus DURABLE_TO_DAYS (so every first purchase in the
 *   window has had its whole days 31–90 observed), and those of them durably re-engaged. A customer who never
 *   purchased in the window counts as 0.
 */
export const learningStatsSql = (features: FeatureMap, slice: CustomerSlice = wholeRange) => `WITH ${customerWindowSql(features, slice)},
outcomes AS (
  SELECT arm, attrs, orders > 0 AS reactivated, net_value,
    exposed_ms + {attrMs:Int64} + {durableToMs:Int64} <= {asOf:Int64} AS durable_mature,
    orders > 0 AND arrayExists(t -> t >= first_purchase_ms + {durableFromMs:Int64} AND t < first_purchase_ms + {durableToMs:Int64}, purchase_times) AS durable
  FROM customers
  WHERE ${countedSql}
)
SELECT dimension, if(dimension = '(all)', 'all customers', attrs[dimension]) AS segment, arm,
  count() AS n,
  countIf(reactivated) AS reactivation,
  sum(net_value) AS net_sum,
  sum(net_value * net_value) AS net_ss,
  countIf(durable_mature) AS durable_n,
  countIf(durable_mature AND durable) AS durable
FROM outcomes
ARRAY JOIN arrayConcat(['(all)'], mapKeys(attrs)) AS dimension
GROUP BY dimension, segment, arm
ORDER BY dimension, segment, arm`
