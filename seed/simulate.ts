/**
 * What a customer does after an assignment, given the arm and the planted effect for their segment: offer
 * funnel events, unsubscribes, purchases (with refunds) and redemptions in the 30-day window, then ordinary
 * buying afterwards. `expectedOutcomes` is the same model in closed form, which is what the planted truth is.
 */
import { DAY, MARGIN_RATE, ORDER_VALUE_SIGMA, orderValue, purchaseWithRefund, type Channel, type Customer, type SimEvent } from './world.ts'
import { exponential, poisson, truncatedExponential, uniform, type Rng } from './random.ts'

/** A planted effect, relative to a customer who gets no message at all (the holdout). */
export interface ArmEffect {
  /** Multiplier on P(at least one purchase in the window). */
  reactivation: number
  /** Multiplier on the Poisson mean of further orders in the window. */
  repeat: number
  /** Multiplier on every window order's value (basket size). */
  orderValue: number
  /** P(redeems the offer | purchases), on the first order; 0 without an offer. */
  redemption: number
  /** Mean days from assignment to the first purchase (exponential, truncated to the purchase window). */
  daysToPurchase: number
  /** Whether a message is sent at all: the holdouts get nothing, so no funnel and no unsubscribes. */
  messaged: boolean
}

/** The experiment and global holdouts: no message, no offer, baseline behaviour. */
export const NO_MESSAGE: ArmEffect = { reactivation: 1, repeat: 1, orderValue: 1, redemption: 0, daysToPurchase: 11, messaged: false }

/** An arm's offer as the experiment defines it (api/experiments/schema.ts Offer). */
export interface OfferSpec {
  type: string
  value?: number
  unitCost?: number
}

/** The outcome window is 30 days; window orders fall in the first 26 so that their refunds (≤ 4 days later) do too. */
export const WINDOW_DAYS = 30
export const PURCHASE_DAYS = 26
const REFUND_DELAY_DAYS: [number, number] = [1, 4]
export const OPEN_RATE: Record<Channel, number> = { email: 0.24, sms: 0.45, push: 0.15, in_app: 0.35 }
export const UNSUBSCRIBE_RATE: Record<Channel, number> = { email: 0.004, sms: 0.012, push: 0.006, in_app: 0.002 }
const CLICK_GIVEN_OPEN = 0.3

/** Incentive cost of one redemption: a share of the order for percent_off, the unit cost or face value otherwise. */
export function incentiveCost(offer: OfferSpec | null, order: number): number {
  if (!offer) return 0
  switch (offer.type) {
    case 'percent_off':
      return (order * (offer.value ?? 0)) / 100
    case 'amount_off':
      return offer.unitCost ?? offer.value ?? 0
    case 'none':
      return 0
    default:
      return offer.unitCost ?? 0
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100
export const reactivationProbability = (c: Customer, e: ArmEffect) => Math.min(0.95, c.baseReactivation * e.reactivation)

/**
 * The window after assignment for one customer in one arm. `arm` is the arm key as logged (an offer arm,
 * 'holdout' or 'global_holdout'); offer events carry the experiment and arm, as a CRM would send them.
 */
export function windowEvents(rng: Rng, c: Customer, experimentId: string, arm: string, effect: ArmEffect, offer: OfferSpec | null): SimEvent[] {
  const out: SimEvent[] = []
  const tag = { experimentId, arm }
  if (effect.messaged) {
    out.push({ key: 'sent', type: 'offer_sent', offsetMs: 60_000, ...tag })
    if (rng() < OPEN_RATE[c.attributes.channel]) {
      const opened = Math.round(uniform(rng, 0.01, 2) * DAY)
      out.push({ key: 'open', type: 'offer_opened', offsetMs: opened, ...tag })
      if (rng() < CLICK_GIVEN_OPEN) out.push({ key: 'click', type: 'offer_clicked', offsetMs: opened + 90_000, ...tag })
    }
    if (rng() < UNSUBSCRIBE_RATE[c.attributes.channel]) out.push({ key: 'unsub', type: 'unsubscribe', offsetMs: Math.round(uniform(rng, 0.05, 10) * DAY) })
  }
  if (rng() < reactivationProbability(c, effect)) {
    const first = truncatedExponential(rng, effect.daysToPurchase, PURCHASE_DAYS)
    const days = [first]
    const extra = poisson(rng, c.baseRepeat * effect.repeat)
    for (let k = 0; k < extra; k++) days.push(uniform(rng, first, PURCHASE_DAYS))
    days.sort((a, b) => a - b)
    days.forEach((day, k) => {
      const value = orderValue(rng, c, effect.orderValue)
      purchaseWithRefund(out, rng, c, `w${k}`, Math.round(day * DAY), value, uniform(rng, ...REFUND_DELAY_DAYS))
      if (k === 0 && effect.redemption > 0 && rng() < effect.redemption) {
        out.push({
          key: 'redeem',
          type: 'offer_redeemed',
          offsetMs: Math.round(day * DAY) + 1000,
          cost: round2(incentiveCost(offer, value)),
          orderId: `${c.id}-w0`,
          ...tag,
        })
      }
    })
  }
  return out
}

/**
 * Ordinary buying from `fromDay` to `toDay` after the anchor, at the rate a customer with no message shows
 * in a window: a Poisson process with mean baseReactivation × (1 + baseRepeat) orders per 30 days.
 */
export function backgroundPurchases(rng: Rng, c: Customer, fromDay: number, toDay: number): SimEvent[] {
  const out: SimEvent[] = []
  const meanGap = WINDOW_DAYS / (c.baseReactivation * (1 + c.baseRepeat))
  let day = fromDay + exponential(rng, meanGap)
  for (let k = 0; day < toDay; k++) {
    purchaseWithRefund(out, rng, c, `b${k}`, Math.round(day * DAY), orderValue(rng, c), uniform(rng, ...REFUND_DELAY_DAYS))
    day += exponential(rng, meanGap)
  }
  return out
}

/** Per-customer expected values of the report's window metrics (DESIGN.md), in one arm. */
export interface ExpectedOutcomes {
  redemption: number
  reactivation: number
  repeat_purchase: number
  orders: number
  /** Purchase revenue before refunds: the numerator of average order value. */
  gross: number
  revenue: number
  incentive_cost: number
  net_value: number
  unsubscribe: number
}

/**
 * `windowEvents` in closed form. With p = P(reactivate) and λ the further-order mean:
 * reactivation = p; repeat purchase = p(1 − e^−λ); orders = p(1 + λ); gross = orders × E[order], with
 * E[order] = exp(basketLog + σ²/2) × basket effect (log-normal mean); revenue = gross × (1 − refund rate);
 * redemption = p × P(redeem); incentive cost = redemption × cost of the first order's redemption;
 * net value = margin rate × revenue − incentive cost. (Rounding to cents is ignored: < half a cent an order.)
 */
export function expectedOutcomes(c: Customer, effect: ArmEffect, offer: OfferSpec | null): ExpectedOutcomes {
  const p = reactivationProbability(c, effect)
  const lambda = c.baseRepeat * effect.repeat
  const meanOrder = Math.exp(c.basketLog + (ORDER_VALUE_SIGMA * ORDER_VALUE_SIGMA) / 2) * effect.orderValue
  const orders = p * (1 + lambda)
  const gross = orders * meanOrder
  const revenue = gross * (1 - c.refundRate)
  const redemption = p * effect.redemption
  // incentiveCost is linear in the order value, so E[cost] = cost at the mean order.
  const cost = redemption * incentiveCost(offer, meanOrder)
  return {
    redemption,
    reactivation: p,
    repeat_purchase: p * (1 - Math.exp(-lambda)),
    orders,
    gross,
    revenue,
    incentive_cost: cost,
    net_value: MARGIN_RATE * revenue - cost,
    unsubscribe: effect.messaged ? UNSUBSCRIBE_RATE[c.attributes.channel] : 0,
  }
}
