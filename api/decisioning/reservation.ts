import jStat from 'jstat'
import type { Experiment } from '../experiments/schema.ts'

const DAY = 86_400_000

/** Validity of an offer that does not set `validityDays`: its reservation is released this long after issue. */
export const DEFAULT_OFFER_VALIDITY_DAYS = 14

/**
 * The redemption rate an `expected_cost` reservation assumes: the upper 95% quantile of the Beta(1 + redeemed,
 * 1 + expired) posterior, i.e. a uniform prior on the arm's rate updated with the incentives whose outcome is
 * known. Before any data it is 0.95, so the first offers reserve almost their whole cost; it falls towards the
 * observed rate as offers are redeemed or expire. Counting only resolved offers leans high while recent offers
 * are still open (redemptions resolve before expiries), which errs on the side of the budget.
 */
export const RESERVATION_PRIOR = { alpha: 1, beta: 1, quantile: 0.95 } as const

const ibetainv = (jStat as unknown as { ibetainv(p: number, a: number, b: number): number }).ibetainv

/** What an arm's budget counters say about its offers so far (api/decisioning/budget.ts). */
export interface ArmCounters {
  spent: number
  redemptions: number
  reserved: number
  redeemed: number
  expired: number
}

export const emptyCounters = (): ArmCounters => ({ spent: 0, redemptions: 0, reserved: 0, redeemed: 0, expired: 0 })

/**
 * The rate an expected-cost reservation assumes for an arm with these counters (RESERVATION_PRIOR).
 *
 * @example reservedRedemptionRate({ redeemed: 0, expired: 0 }) // 0.95
 */
export function reservedRedemptionRate(c: Pick<ArmCounters, 'redeemed' | 'expired'>): number {
  return ibetainv(RESERVATION_PRIOR.quantile, RESERVATION_PRIOR.alpha + c.redeemed, RESERVATION_PRIOR.beta + c.expired)
}

/**
 * The cost of one redemption: the offer's `unitCost`, or the arm's mean observed redemption cost when that is
 * higher (a percent-off offer costs what the basket makes it cost). Zero when neither is known.
 */
export function unitCostOf(offerUnitCost: number | undefined, c: Pick<ArmCounters, 'spent' | 'redemptions'>): number {
  return Math.max(offerUnitCost ?? 0, c.redemptions > 0 ? c.spent / c.redemptions : 0)
}

/** What one issued incentive reserves against the budget. */
export function reservationFor(mode: NonNullable<Experiment['budget']>['reservation'], unitCost: number, c: ArmCounters): number {
  return mode === 'max_cost' ? unitCost : unitCost * reservedRedemptionRate(c)
}

/** When an offer issued at `at` stops being redeemable. */
export function offerExpiry(at: number, validityDays: number | undefined): number {
  return at + (validityDays ?? DEFAULT_OFFER_VALIDITY_DAYS) * DAY
}
