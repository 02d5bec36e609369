import { describe, expect, it } from 'vitest'
import jStat from 'jstat'
import { emptyCounters, offerExpiry, reservationFor, reservedRedemptionRate, unitCostOf } from '../../../api/decisioning/reservation.ts'

const counters = (redeemed: number, expired: number, spent = 0, redemptions = redeemed) => ({ ...emptyCounters(), redeemed, expired, spent, redemptions })

describe('budget reservations', () => {
  it('assumes a 95% redemption rate before any outcome is known', () => {
    expect(reservedRedemptionRate(counters(0, 0))).toBeCloseTo(0.95, 12)
  })

  it('takes the upper 95% quantile of the Beta(1 + redeemed, 1 + expired) posterior', () => {
    for (const [r, e] of [
      [3, 7],
      [30, 70],
      [300, 700],
      [0, 50],
    ])
      expect(reservedRedemptionRate(counters(r, e))).toBeCloseTo((jStat as any).beta.inv(0.95, 1 + r, 1 + e), 9)
  })

  it('stays above the observed rate and approaches it as outcomes accumulate', () => {
    const rates = [10, 100, 1000, 10000].map((n) => reservedRedemptionRate(counters(0.3 * n, 0.7 * n)))
    for (const r of rates) expect(r).toBeGreaterThan(0.3)
    for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeLessThan(rates[i - 1])
    expect(rates.at(-1)!).toBeLessThan(0.31)
  })

  it("uses the larger of the offer's unit cost and the arm's mean redemption cost", () => {
    expect(unitCostOf(9, counters(0, 0))).toBe(9)
    expect(unitCostOf(9, counters(10, 0, 98, 10))).toBeCloseTo(9.8, 12)
    expect(unitCostOf(9, counters(10, 0, 50, 10))).toBe(9)
    expect(unitCostOf(undefined, counters(0, 0))).toBe(0)
  })

  it('reserves the whole unit cost in max_cost mode and unit cost × the estimated rate otherwise', () => {
    const c = counters(30, 70)
    expect(reservationFor('max_cost', 10, c)).toBe(10)
    expect(reservationFor('expected_cost', 10, c)).toBeCloseTo(10 * reservedRedemptionRate(c), 12)
  })

  it('expires an offer after its validity, 14 days by default', () => {
    expect(offerExpiry(0, 7)).toBe(7 * 86_400_000)
    expect(offerExpiry(0, undefined)).toBe(14 * 86_400_000)
  })
})
