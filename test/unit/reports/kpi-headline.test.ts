import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { kpiHeadline, moneyScale } from '../../../api/reports/kpi-headline.ts'
import type { KpiReport } from '../../../api/contract/kpis.ts'

/** Reads a figure of the sentence back: "−$38.9K" → −38900, "+$1.23M" → 1230000, "$512" → 512. */
function parseMoney(text: string): number {
  const m = /^([+−-]?)\$([\d,.]+)([KM]?)$/.exec(text)
  if (!m) throw new Error(`not money: ${text}`)
  const value = Number(m[2].replace(/,/g, '')) * (m[3] === 'M' ? 1e6 : m[3] === 'K' ? 1e3 : 1)
  return m[1] === '−' || m[1] === '-' ? -value : value
}
const figures = (text: string) => [...text.matchAll(/[+−]?\$[\d,.]+[KM]?/g)].map((m) => m[0])

function report(estimate: number | null, ci: [number, number] | null, spend = 38_400): Omit<KpiReport, 'headline'> {
  return {
    periodLabel: 'the last 90 days',
    globalHoldoutPct: 0.05,
    windowDays: 30,
    maturity: { immature: 1234, included: false },
    incrementalNetValue: { estimate, ci },
    incentiveSpend: spend,
  } as Omit<KpiReport, 'headline'>
}

describe('moneyScale', () => {
  it('puts every figure of a sentence on the scale of the largest', () => {
    const money = moneyScale([-33_900, -76_400, 8_604])
    expect([money(-33_900), money(-76_400), money(8_604, true)]).toEqual(['−$33.9K', '−$76.4K', '+$8.6K'])
    expect(moneyScale([1_234_567])(1_234_567)).toBe('$1.23M')
    expect(moneyScale([512, 80])(80)).toBe('$80')
    expect(moneyScale([42.5])(42.5)).toBe('$42.50')
  })

  it('never prints a figure that is not zero as zero', () => {
    const money = moneyScale([50_000, 30])
    expect(money(30, true)).toBe('+$30.00')
    expect(money(0, true)).toBe('$0.0K')
  })
})

describe('kpiHeadline', () => {
  it('says the program earned money only when the interval lies above zero', () => {
    const h = kpiHeadline(report(12_300, [1_200, 23_400]))
    expect(h.outcome).toBe('earned')
    expect(h.text).toBe(
      'The retention program earned +$12.3K (95% CI +$1.2K to +$23.4K) in incremental net value over the last 90 days vs the 5% global holdout, after $38.4K of incentives.',
    )
  })

  it('says it lost money when the interval lies below zero, and "not distinguishable" when it spans zero', () => {
    expect(kpiHeadline(report(-5_300, [-9_400, -1_200])).text).toMatch(/^The retention program lost money: −\$5\.3K \(95% CI −\$9\.4K to −\$1\.2K\)/)
    const unclear = kpiHeadline(report(-5_300, [-38_900, 28_300]))
    expect(unclear.outcome).toBe('unclear')
    expect(unclear.text).toMatch(
      /is −\$5\.3K \(95% CI −\$38\.9K to \+\$28\.3K\) vs the 5% global holdout, after \$38\.4K of incentives: not distinguishable from zero yet\.$/,
    )
  })

  it('explains what is missing when there is no estimate', () => {
    const h = kpiHeadline(report(null, null))
    expect(h.outcome).toBe('no_data')
    expect(h.text).toContain('30-day window has closed (1,234 customers are still inside it)')
  })

  it('prints figures that read back to the numbers within their rounding, and words that follow the interval (random reports)', () => {
    const money = fc.double({ min: -5e6, max: 5e6, noNaN: true })
    fc.assert(
      fc.property(money, money, money, fc.double({ min: 0, max: 1e6, noNaN: true }), (a, b, c, spend) => {
        const [lo, est, hi] = [a, b, c].sort((x, y) => x - y)
        const h = kpiHeadline(report(est, [lo, hi], spend))
        expect(h.outcome).toBe(lo > 0 ? 'earned' : hi < 0 ? 'lost' : 'unclear')
        const [e, l, u, s] = figures(h.text).map(parseMoney)
        const largest = Math.max(Math.abs(est), Math.abs(lo), Math.abs(hi), spend)
        // Half a unit of the last printed digit: 0.005 M, 0.05 K, 0.5 or 0.005 dollars.
        const tolerance = largest >= 1e6 ? 5_000 : largest >= 1e4 ? 50 : largest >= 100 ? 0.5 : 0.005
        for (const [printed, actual] of [
          [e, est],
          [l, lo],
          [u, hi],
          [s, spend],
        ])
          expect(Math.abs(printed - actual)).toBeLessThanOrEqual(tolerance + 1e-9)
      }),
      { numRuns: 500 },
    )
  })
})
