/**
 * Customer features (features.ts) as ClickHouse expressions over a customer's history — the tuples
 * (id hash, kind, epoch ms, amount) kept in `customer_timeline` (migrations/clickhouse/006) — as of an instant.
 * One builder serves the profile (as of now), the RFM cut points and the reports' segments (as of each customer's
 * first exposure), so the three can never disagree on a definition.
 */
import { DEFAULT_CADENCE_DAYS, LAPSE_MULTIPLES, MIN_CADENCE_DAYS, type FeatureName } from './features.ts'

const DAY = 86_400_000
/** Tuple kinds in customer_timeline. */
const PURCHASE = 1
const REFUND = 2
const REDEEMED = 3
const SENT = 4

/**
 * The SELECT list computing every feature from `history` (an Array(Tuple(UInt64, UInt8, Int64, Float64))
 * expression) as of `asOf` (an Int64 epoch-ms expression), each aliased by its feature name. Intermediate
 * aliases are prefixed with `prefix` so two uses in one query do not clash.
 *
 * @example
 * `SELECT ${featureColumns('groupUniqArrayMerge(history)', '{asOf:Int64}')} FROM customer_timeline WHERE customer_id = {id:String}`
 */
export function featureColumns(history: string, asOf: string, prefix = 'f_'): string {
  const p = (name: string) => `${prefix}${name}`
  const since = (days: number) => `(${asOf}) - ${days * DAY}`
  const cadence = `greatest(${MIN_CADENCE_DAYS}, ifNull(inter_purchase_days, ${DEFAULT_CADENCE_DAYS}))`
  const columns: Array<[string, string]> = [
    [p('past'), `arrayFilter(e -> e.3 < (${asOf}), ${history})`],
    [p('buys'), `arrayMap(e -> e.3, arrayFilter(e -> e.2 = ${PURCHASE}, ${p('past')}))`],
    [p('n'), `length(${p('buys')})`],
    [p('sent'), `arrayMax(arrayMap(e -> if(e.2 = ${SENT}, e.3, 0), arrayPushBack(${p('past')}, (0, 0, 0, 0.))))`],
    [p('redeemed'), `arrayMax(arrayMap(e -> if(e.2 = ${REDEEMED}, e.3, 0), arrayPushBack(${p('past')}, (0, 0, 0, 0.))))`],
    ['recency_days', `if(${p('n')} = 0, NULL, intDiv((${asOf}) - arrayMax(${p('buys')}), ${DAY}))`],
    ['orders_90d', `toUInt32(arrayCount(t -> t >= ${since(90)}, ${p('buys')}))`],
    ['orders_365d', `toUInt32(arrayCount(t -> t >= ${since(365)}, ${p('buys')}))`],
    [
      'monetary_365d',
      `arraySum(e -> if(e.3 >= ${since(365)}, multiIf(e.2 = ${PURCHASE}, e.4, e.2 = ${REFUND}, -e.4, 0.), 0.), arrayPushBack(${p('past')}, (0, 0, 0, 0.)))`,
    ],
    ['aov_365d', `if(orders_365d = 0, NULL, arraySum(e -> if(e.2 = ${PURCHASE} AND e.3 >= ${since(365)}, e.4, 0.), ${p('past')}) / orders_365d)`],
    ['tenure_days', `if(${p('n')} = 0, NULL, intDiv((${asOf}) - arrayMin(${p('buys')}), ${DAY}))`],
    ['inter_purchase_days', `if(${p('n')} < 2, NULL, (arrayMax(${p('buys')}) - arrayMin(${p('buys')})) / (${p('n')} - 1) / ${DAY})`],
    ['discount_affinity', `if(orders_365d = 0, NULL, least(1., arrayCount(e -> e.2 = ${REDEEMED} AND e.3 >= ${since(365)}, ${p('past')}) / orders_365d))`],
    ['last_offer_response', `multiIf(${p('sent')} = 0 AND ${p('redeemed')} = 0, 'none', ${p('redeemed')} >= ${p('sent')}, 'redeemed', 'ignored')`],
    [
      'lapse_stage',
      `multiIf(recency_days IS NULL, 'none', recency_days <= ${LAPSE_MULTIPLES.active} * ${cadence}, 'active', ` +
        `recency_days <= ${LAPSE_MULTIPLES.slipping} * ${cadence}, 'slipping', recency_days <= ${LAPSE_MULTIPLES.lapsed} * ${cadence}, 'lapsed', 'dormant')`,
    ],
  ]
  return columns.map(([alias, expr]) => `${expr} AS ${alias}`).join(',\n  ')
}

/** The feature columns a row of featureColumns carries, in FEATURES order. */
export const FEATURE_COLUMNS: FeatureName[] = [
  'recency_days',
  'orders_90d',
  'orders_365d',
  'monetary_365d',
  'aov_365d',
  'tenure_days',
  'inter_purchase_days',
  'discount_affinity',
  'last_offer_response',
  'lapse_stage',
]

/** One customer's merged history (an empty array for a customer with no events). */
export const historyOfSql = `SELECT groupUniqArrayMerge(history) AS h FROM customer_timeline WHERE customer_id = {customer:String}`
