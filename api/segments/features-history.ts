/**
 * Customer features computed in the API process from a customer's history tuples, as read from customer_timeline —
 * the same definitions as features-sql.ts's `featureColumns`, for targeting lookups. A batch of targeting lookups
 * that asks ClickHouse for the finished features spends most of its time analysing the feature expressions (about
 * 2.5× the time of reading the raw tuples, measured on embedded chDB), and /v1/decide waits for it. Reports and the
 * profile keep computing in SQL; a property test holds the two to the same answers.
 */
import { lapseStage, type CustomerFeatures, type OfferResponse } from './features.ts'

const DAY = 86_400_000
/** Tuple kinds in customer_timeline (migrations/clickhouse/006). */
const PURCHASE = 1
const REFUND = 2
const REDEEMED = 3
const SENT = 4

/** One entry of customer_timeline: (event id hash, kind, epoch ms, amount), numbers or their JSON strings. */
export type HistoryTuple = [unknown, unknown, unknown, unknown]

/**
 * A history as (kind, epoch ms, amount) triples in one Float64Array: what the feature cache keeps per customer,
 * about a tenth of the memory of the parsed tuples (the id hash only deduplicated the set, in ClickHouse).
 *
 * @example
 * packHistory([['1', 1, '1764547200000', 40]]) // Float64Array [1, 1764547200000, 40]
 */
export function packHistory(history: readonly HistoryTuple[]): Float64Array {
  const packed = new Float64Array(history.length * 3)
  history.forEach((entry, i) => {
    packed[i * 3] = Number(entry[1])
    packed[i * 3 + 1] = Number(entry[2])
    packed[i * 3 + 2] = Number(entry[3])
  })
  return packed
}

/**
 * The features of a customer as of `asOfMs` from their history (tuples, or packed by packHistory), using only
 * entries strictly before it.
 *
 * @example
 * featuresFromHistory([['1', 1, '1764547200000', 40]], Date.parse('2025-12-11T00:00:00Z')) // { recency_days: 10, orders_90d: 1, … }
 */
export function featuresFromHistory(history: readonly HistoryTuple[] | Float64Array, asOfMs: number): CustomerFeatures {
  const packed = history instanceof Float64Array ? history : packHistory(history)
  const since90 = asOfMs - 90 * DAY
  const since365 = asOfMs - 365 * DAY
  let n = 0
  let first = Infinity
  let last = -Infinity
  let orders90 = 0
  let orders365 = 0
  let monetary = 0
  let purchases365 = 0
  let redemptions365 = 0
  let sent = 0
  let redeemed = 0
  for (let i = 0; i < packed.length; i += 3) {
    const kind = packed[i]
    const ts = packed[i + 1]
    const amount = packed[i + 2]
    if (!(ts < asOfMs)) continue
    if (kind === PURCHASE) {
      n++
      if (ts < first) first = ts
      if (ts > last) last = ts
      if (ts >= since90) orders90++
      if (ts >= since365) {
        orders365++
        monetary += amount
        purchases365 += amount
      }
    } else if (kind === REFUND) {
      if (ts >= since365) monetary -= amount
    } else if (kind === REDEEMED) {
      if (ts > redeemed) redeemed = ts
      if (ts >= since365) redemptions365++
    } else if (kind === SENT) {
      if (ts > sent) sent = ts
    }
  }
  const recency = n === 0 ? null : Math.floor((asOfMs - last) / DAY)
  const interval = n < 2 ? null : (last - first) / (n - 1) / DAY
  const response: OfferResponse = sent === 0 && redeemed === 0 ? 'none' : redeemed >= sent ? 'redeemed' : 'ignored'
  return {
    recency_days: recency,
    orders_90d: orders90,
    orders_365d: orders365,
    monetary_365d: monetary,
    aov_365d: orders365 === 0 ? null : purchases365 / orders365,
    tenure_days: n === 0 ? null : Math.floor((asOfMs - first) / DAY),
    inter_purchase_days: interval,
    discount_affinity: orders365 === 0 ? null : Math.min(1, redemptions365 / orders365),
    last_offer_response: response,
    lapse_stage: lapseStage(recency, interval),
  }
}
