import { describe, expect, it } from 'vitest'
import {
  daysInterval,
  daysRange,
  daysSooner,
  medianText,
  purchaseByDays,
  purchaseInterval,
  purchaseShare,
  signedDays,
  timeToPurchaseHeadline,
} from '../../../ui/src/lib/timeToPurchase.ts'

// Time to first purchase in words: restricted-mean differences as days sooner or later, intervals in days,
// purchase-by shares, medians only where reached, and the headline against the chosen baseline. No DOM.

const comparison = (over: Record<string, unknown> = {}) => ({
  baseline: 'control',
  variant: 'pct15',
  metric: 'time_to_purchase',
  kind: 'absolute',
  method: 'rmst',
  alpha: 0.05,
  estimate: -1.46,
  ci: [-1.94, -1.02],
  pValue: 0.0001,
  adjustedPValue: 0.0002,
  adjustment: 'holm',
  standardError: 0.2,
  chanceToWin: null,
  risk: null,
  significant: true,
  level: 0.05,
  rawCi: [-1.9, -1.05],
  baselineMean: 25,
  variantMean: 23.5,
  baselineN: 100,
  variantN: 100,
  against: 'control',
  horizonDays: 30,
  absolute: { estimate: -1.46, ci: [-1.94, -1.02], pValue: 0.0001 },
  cuped: null,
  ...over,
})
const names = (key: string) => ({ pct15: '15% off', freeship: 'Free shipping' })[key] ?? key

describe('time to first purchase formats', () => {
  it('writes a negative difference as days sooner and a positive one as days later', () => {
    expect(daysSooner(-1.46)).toBe('1.5 days sooner')
    expect(daysSooner(0.44)).toBe('0.4 days later')
    expect(daysSooner(-1)).toBe('1.0 day sooner')
    expect(daysSooner(0.01)).toBe('no sooner, no later (0.0 days)')
    expect(daysSooner(null)).toBe('—')
  })

  it('writes intervals of differences with real minus signs and the unit once', () => {
    expect(daysInterval([-1.94, -1.02])).toBe('[\u22121.9, \u22121.0] days')
    expect(daysInterval([-0.3, 0.81])).toBe('[\u22120.3, +0.8] days')
    expect(daysInterval(null)).toBe('—')
    expect(signedDays(-0.04)).toBe('0.0')
    expect(daysRange([22.14, 23.4])).toBe('[22.1, 23.4] days')
  })

  it('writes purchase-by shares and their intervals as percentages', () => {
    expect(purchaseShare(0.1234)).toBe('12.3%')
    expect(purchaseInterval([0.11, 0.135])).toBe('[11.0%, 13.5%]')
    expect(purchaseInterval(null)).toBe('—')
  })

  it('gives the median only where reached, in words otherwise', () => {
    expect(medianText({ median: null, medianCi: [null, null] })).toEqual({ reached: false, text: 'not reached', interval: null })
    expect(medianText({ median: 12, medianCi: [10, null] })).toEqual({ reached: true, text: '12.0 days', interval: '[10.0, not reached] days' })
  })

  it('lists the purchase-by days of every arm once, in order', () => {
    expect(
      purchaseByDays([
        {
          purchaseBy: [
            { day: 7, estimate: 0.1, ci: null },
            { day: 30, estimate: 0.2, ci: null },
          ],
        },
        { purchaseBy: [{ day: 14, estimate: 0.1, ci: null }] },
      ]),
    ).toEqual([7, 14, 30])
  })
})

describe('time to first purchase headline', () => {
  it('names the clearest significant arm with days sooner, the interval and p', () => {
    const m = {
      comparisons: [comparison(), comparison({ variant: 'freeship', estimate: -0.3, ci: [-0.8, 0.2], significant: false, adjustedPValue: 0.3 })],
    } as any
    expect(timeToPurchaseHeadline(m, 'control', names)).toBe(
      '15% off brings the first purchase 1.5 days sooner vs control within 30 days (95% CI \u22121.9 to \u22121.0 days, p < 0.001).',
    )
  })

  it('says no detectable change when nothing is significant, and follows the baseline', () => {
    const m = { comparisons: [comparison({ against: 'holdout', estimate: 0.2, ci: [-0.5, 0.9], significant: false, adjustedPValue: 0.6 })] } as any
    expect(timeToPurchaseHeadline(m, 'holdout', names)).toBe(
      '15% off shows no detectable change in days to first purchase vs holdout within 30 days (+0.2 days, 95% CI \u22120.5 to +0.9 days; not significant).',
    )
    expect(timeToPurchaseHeadline(m, 'control', names)).toBe('Time to first purchase: no arm to compare vs control.')
  })
})
