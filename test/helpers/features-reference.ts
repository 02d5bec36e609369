import type { CustomerFeatures, LapseStage } from '../../api/segments/features.ts'
import type { RawEvent } from './raw-event.ts'

const DAY = 86_400_000

/**
 * docs/segments.md's feature definitions, recomputed from a customer's raw events as sent (the brute force the
 * ClickHouse features are checked against). Written from the definitions, not from features-sql.ts: loops over
 * events, and the lapse-stage thresholds spelled out.
 */
export function referenceFeatures(events: RawEvent[], asOf: number): CustomerFeatures {
  const past = events.filter((e) => e.ts < asOf)
  const purchases = past.filter((e) => e.type === 'purchase').sort((a, b) => a.ts - b.ts)
  const in365 = (e: RawEvent) => e.ts >= asOf - 365 * DAY
  const orders365 = purchases.filter(in365)
  let monetary = 0
  for (const e of past.filter(in365)) {
    if (e.type === 'purchase') monetary += e.revenue ?? 0
    if (e.type === 'refund') monetary -= e.revenue ?? 0
  }
  const redemptions365 = past.filter((e) => e.type === 'offer_redeemed' && in365(e)).length
  const last = purchases.at(-1)
  const first = purchases[0]
  const recency = last ? Math.floor((asOf - last.ts) / DAY) : null
  const interval = purchases.length >= 2 ? (last!.ts - first.ts) / (purchases.length - 1) / DAY : null
  const lastSent = Math.max(0, ...past.filter((e) => e.type === 'offer_sent').map((e) => e.ts))
  const lastRedeemed = Math.max(0, ...past.filter((e) => e.type === 'offer_redeemed').map((e) => e.ts))
  let stage: LapseStage = 'none'
  if (recency !== null) {
    const cadence = Math.max(7, interval ?? 45)
    stage = recency <= 1.5 * cadence ? 'active' : recency <= 3 * cadence ? 'slipping' : recency <= 6 * cadence ? 'lapsed' : 'dormant'
  }
  return {
    recency_days: recency,
    orders_90d: purchases.filter((e) => e.ts >= asOf - 90 * DAY).length,
    orders_365d: orders365.length,
    monetary_365d: monetary,
    aov_365d: orders365.length ? orders365.reduce((s, e) => s + (e.revenue ?? 0), 0) / orders365.length : null,
    tenure_days: first ? Math.floor((asOf - first.ts) / DAY) : null,
    inter_purchase_days: interval,
    discount_affinity: orders365.length ? Math.min(1, redemptions365 / orders365.length) : null,
    last_offer_response: lastSent === 0 && lastRedeemed === 0 ? 'none' : lastRedeemed >= lastSent ? 'redeemed' : 'ignored',
    lapse_stage: stage,
  }
}

/** ClickHouse's quantilesExact(0.2, 0.4, 0.6, 0.8): the value at ⌊level·n⌋ of the sorted values. */
export function quintileCuts(xs: number[]): number[] {
  const s = [...xs].sort((a, b) => a - b)
  return [0.2, 0.4, 0.6, 0.8].map((l) => s[Math.min(s.length - 1, Math.floor(l * s.length))])
}

/** RFM cut points among the buyers of `features` (recency, orders in 365 days, net revenue in 365 days). */
export function referenceRfmCuts(features: CustomerFeatures[]): { recency: number[]; frequency: number[]; monetary: number[] } {
  const buyers = features.filter((f) => f.recency_days !== null)
  return {
    recency: quintileCuts(buyers.map((f) => f.recency_days!)),
    frequency: quintileCuts(buyers.map((f) => f.orders_365d)),
    monetary: quintileCuts(buyers.map((f) => f.monetary_365d)),
  }
}

/**
 * Purchase histories before `before` for customers `${prefix}0…`: each with its own cadence (10–70 days) and last
 * purchase (up to `spreadDays` before), 1–6 orders, so every lapse stage is well populated; every tenth never
 * bought. With `offers`, some were sent an offer before their last purchase and some redeemed one.
 */
export function purchaseHistories(opts: {
  prefix: string
  customers: number
  before: number
  spreadDays: number
  rand: () => number
  offers?: boolean
}): RawEvent[] {
  const { rand } = opts
  const events: RawEvent[] = []
  for (let c = 0; c < opts.customers; c++) {
    const customerId = `${opts.prefix}${c}`
    if (c % 10 === 9) continue
    const cadence = 10 + Math.floor(rand() * 60)
    const last = opts.before - Math.floor(rand() * opts.spreadDays * DAY) - 3_600_000
    const orders = 1 + Math.floor(rand() * 6)
    for (let k = 0; k < orders; k++)
      events.push({ eventId: `${customerId}:h${k}`, customerId, type: 'purchase', ts: last - k * cadence * DAY, revenue: Math.round(20 + rand() * 200) })
    if (!opts.offers) continue
    if (rand() < 0.4) events.push({ eventId: `${customerId}:s`, customerId, type: 'offer_sent', ts: last - 2 * DAY })
    if (rand() < 0.2) events.push({ eventId: `${customerId}:r`, customerId, type: 'offer_redeemed', ts: last - DAY, cost: 5 })
  }
  return events
}
