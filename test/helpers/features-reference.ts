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
