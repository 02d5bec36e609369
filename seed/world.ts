/**
 * The customers of a generated retention business: who they are (segments), how they behave without any
 * message (baseline rates), and the purchase history that makes their recency band true (the CUPED
 * pre-period). Pure and deterministic: `customerAt(seed, i)` is the same customer on every call.
 */
import { exponential, logNormal, normal, pick, streamFor, STREAM, uniform, type Rng } from './random.ts'

export const DAY = 86_400_000

export const RECENCY_BANDS = ['active', 'at_risk', 'lapsed_60_180', 'dormant'] as const
export const VALUE_TIERS = ['low', 'mid', 'high'] as const
export const CHANNELS = ['email', 'sms', 'push', 'in_app'] as const
export type RecencyBand = (typeof RECENCY_BANDS)[number]
export type ValueTier = (typeof VALUE_TIERS)[number]
export type Channel = (typeof CHANNELS)[number]

/** What the CRM sends with an assignment; captured with the exposure, so reports can break down by it. */
export interface CustomerAttributes {
  recency: RecencyBand
  valueTier: ValueTier
  channel: Channel
  /** Modelled probability of churning in the next quarter, 0–1 (two decimals). */
  churnRisk: number
  churnBand: 'low' | 'medium' | 'high'
}

export interface Customer {
  index: number
  id: string
  attributes: CustomerAttributes
  /** Latent purchase propensity (mean 1): scales past frequency and future reactivation alike, which is
   * what makes the pre-period a useful CUPED covariate. */
  propensity: number
  /** Location of the customer's log-normal order value (log dollars). */
  basketLog: number
  /** P(at least one purchase in 30 days) with no message at all. */
  baseReactivation: number
  /** Poisson mean of further orders in 30 days, given a first one, with no message. */
  baseRepeat: number
  /** Share of orders refunded in full. */
  refundRate: number
  /** Days from the last purchase to the customer's anchor (assignment): what the recency band says. */
  lastPurchaseDaysAgo: number
  /** Orders per day while the customer was buying regularly (the history before the lapse). */
  historyRate: number
}

/** Segment mix of the business; tiers depend on recency (valuable customers lapse less). */
export const RECENCY_SHARES: Record<RecencyBand, number> = { active: 0.3, at_risk: 0.15, lapsed_60_180: 0.25, dormant: 0.3 }
export const TIER_SHARES: Record<RecencyBand, Record<ValueTier, number>> = {
  active: { low: 0.4, mid: 0.38, high: 0.22 },
  at_risk: { low: 0.5, mid: 0.35, high: 0.15 },
  lapsed_60_180: { low: 0.55, mid: 0.33, high: 0.12 },
  dormant: { low: 0.65, mid: 0.28, high: 0.07 },
}
export const CHANNEL_SHARES: Record<Channel, number> = { email: 0.45, sms: 0.2, push: 0.2, in_app: 0.15 }

/** Days since the last purchase, by band, at the customer's anchor. Dormant reaches beyond the year of history. */
export const RECENCY_DAYS: Record<RecencyBand, [number, number]> = { active: [1, 30], at_risk: [30, 60], lapsed_60_180: [60, 180], dormant: [180, 540] }
const BASE_REACTIVATION: Record<RecencyBand, number> = { active: 0.42, at_risk: 0.22, lapsed_60_180: 0.09, dormant: 0.03 }
const BASE_REPEAT: Record<RecencyBand, number> = { active: 0.7, at_risk: 0.4, lapsed_60_180: 0.3, dormant: 0.25 }
const CHURN_CENTRE: Record<RecencyBand, number> = { active: 0.15, at_risk: 0.45, lapsed_60_180: 0.65, dormant: 0.85 }
const TIER_REACTIVATION: Record<ValueTier, number> = { low: 0.85, mid: 1, high: 1.25 }
const TIER_REPEAT: Record<ValueTier, number> = { low: 0.9, mid: 1, high: 1.3 }
/** Median order value by tier (dollars). */
export const TIER_MEDIAN_ORDER: Record<ValueTier, number> = { low: 28, mid: 52, high: 105 }
/** Mean days between orders while buying regularly, by tier. */
const TIER_ORDER_GAP_DAYS: Record<ValueTier, number> = { low: 80, mid: 45, high: 22 }
/** Spread of a single order's value around the customer's own level (log scale): a heavy right tail. */
export const ORDER_VALUE_SIGMA = 0.6
/** Gross margin on revenue; purchases carry it as `margin`, refunds fall back to the same rate. */
export const MARGIN_RATE = 0.3
export const HISTORY_DAYS = 365

export const customerId = (index: number) => `c-${String(index).padStart(7, '0')}`

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))
const cents = (x: number) => Math.round(x * 100) / 100

/**
 * The customer at `index` of the world with this seed.
 *
 * @example
 * const c = customerAt(42, 7)
 * c.attributes // { recency: 'lapsed_60_180', valueTier: 'mid', channel: 'email', churnRisk: 0.61, churnBand: 'medium' }
 */
export function customerAt(seed: number, index: number): Customer {
  const rng = streamFor(seed, index, STREAM.attributes)
  const recency = pick(rng, RECENCY_SHARES)
  const valueTier = pick(rng, TIER_SHARES[recency])
  const channel = pick(rng, CHANNEL_SHARES)
  const churnRisk = cents(clamp(CHURN_CENTRE[recency] + 0.12 * normal(rng), 0.01, 0.99))
  // Mean-one log-normal: exp(σZ − σ²/2).
  const propensity = Math.exp(0.5 * normal(rng) - 0.125)
  const basketLog = Math.log(TIER_MEDIAN_ORDER[valueTier]) + 0.25 * normal(rng)
  const [lo, hi] = RECENCY_DAYS[recency]
  return {
    index,
    id: customerId(index),
    attributes: { recency, valueTier, channel, churnRisk, churnBand: churnRisk < 0.33 ? 'low' : churnRisk < 0.66 ? 'medium' : 'high' },
    propensity,
    basketLog,
    baseReactivation: clamp(BASE_REACTIVATION[recency] * TIER_REACTIVATION[valueTier] * propensity * (1.2 - 0.4 * churnRisk), 0.002, 0.9),
    baseRepeat: BASE_REPEAT[recency] * TIER_REPEAT[valueTier] * Math.sqrt(propensity),
    refundRate: valueTier === 'high' ? 0.08 : 0.06,
    lastPurchaseDaysAgo: uniform(rng, lo, hi),
    historyRate: propensity / TIER_ORDER_GAP_DAYS[valueTier],
  }
}

/** One generated event, timed relative to the customer's anchor (negative: before it). */
export interface SimEvent {
  /** Unique within the customer; the event id is `${customerId}:${key}`. */
  key: string
  type: string
  offsetMs: number
  revenue?: number
  margin?: number
  cost?: number
  orderId?: string
  experimentId?: string
  arm?: string
}

/** One order's value: log-normal around the customer's level, times an offer's basket effect. */
export const orderValue = (rng: Rng, c: Customer, multiplier = 1) => cents(logNormal(rng, c.basketLog, ORDER_VALUE_SIGMA) * multiplier)

/** A purchase and, with the customer's refund rate, its full refund `refundDelay` days later. */
export function purchaseWithRefund(out: SimEvent[], rng: Rng, c: Customer, key: string, offsetMs: number, value: number, refundDelayDays: number) {
  const orderId = `${c.id}-${key}`
  out.push({ key, type: 'purchase', offsetMs, revenue: value, margin: cents(value * MARGIN_RATE), orderId })
  if (rng() < c.refundRate) out.push({ key: `${key}r`, type: 'refund', offsetMs: offsetMs + Math.round(refundDelayDays * DAY), revenue: value, orderId })
}

/**
 * The year of purchases before the anchor: the last one `lastPurchaseDaysAgo` days back (so the recency band
 * holds at assignment), earlier ones at the customer's historical frequency. Refunds of these orders also
 * fall before the anchor, so they never leak into an outcome window.
 */
export function purchaseHistory(c: Customer, seed: number): SimEvent[] {
  const rng = streamFor(seed, c.index, STREAM.history)
  const out: SimEvent[] = []
  let day = -c.lastPurchaseDaysAgo
  for (let k = 0; day > -HISTORY_DAYS; k++) {
    purchaseWithRefund(out, rng, c, `h${k}`, Math.round(day * DAY), orderValue(rng, c), rng() * Math.min(10, -day))
    day -= exponential(rng, 1 / c.historyRate)
  }
  return out
}
