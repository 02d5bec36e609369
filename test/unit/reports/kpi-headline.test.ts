import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { kpiHeadline } from '../../../api/reports/kpi-headline.ts'
import type { KpiReport } from '../../../api/contract/kpis.ts'

/** Reads a figure of the sentence back: "−$38.9K" → −38900, "+$1.2M" → 1200000, "$512" → 512. */
function parseMoney(text: string): number {
  const m = /^([+−-]?)\$([\d,.]+)([KMB]?)$/.exec(text)
  if (!m) throw new Error(`not money: ${text}`)
  const value = Number(m[2].replace(/,/g, '')) * ({ B: 1e9, M: 1e6, K: 1e3 }[m[3]] ?? 1)
  return m[1] === '−' || m[1] === '-' ? -value : value
}
const figures = (text: string) => [...text.matchAll(/[+−]?\$[\d,.]+[KMB]?/g)].map((m) => m[0])

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

  it('keeps the side of zero of an interval end too small for the scale', () => {
    expect(kpiHeadline(report(20_000, [30, 40_000])).text).toContain('(95% CI +$0.0K to +$40.0K)')
    expect(kpiHeadline(report(-20_000, [-40_000, -30])).text).toContain('(95% CI −$40.0K to −$0.0K)')
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
        // Half a unit of the last printed digit on the scale of the largest figure read together: 0.05 B or M,
        // 0.05 K, 0.5 or 0.005 dollars (api/contract/money.ts). The estimate and its interval share one scale.
        const tolerance = (...xs: number[]) => {
          const largest = Math.max(...xs.map(Math.abs))
          return largest >= 999_950_000 ? 5e7 : largest >= 999_950 ? 5e4 : largest >= 999.5 ? 50 : largest >= 99.995 ? 0.5 : 0.005
        }
        for (const [printed, actual] of [
          [e, est],
          [l, lo],
          [u, hi],
        ])
          expect(Math.abs(printed - actual)).toBeLessThanOrEqual(tolerance(est, lo, hi) + 1e-9)
        expect(Math.abs(s - spend)).toBeLessThanOrEqual(tolerance(spend) + 1e-9)
      }),
      { numRuns: 500 },
    )
  })
})
