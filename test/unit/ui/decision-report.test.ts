import { describe, expect, it } from 'vitest'
import { barInputs, effectInterval, effectText, metricHeadline, pText, unadjustedNote } from '../../../ui/src/lib/effects.ts'
import { intervalBar } from '../../../ui/src/lib/intervalBar.ts'
import { prefilledArm, rationaleNeeded } from '../../../ui/src/lib/recommendation.ts'
import { guardrailVerdict, verdict } from '../../../ui/src/lib/significance.ts'
import { maturityText, powerShare, srmPoints } from '../../../ui/src/lib/health.ts'
import { wholeDays } from '../../../ui/src/lib/chart.ts'

// The decision report's pure helpers (issue 15 items 6–8): effects in the units they were computed in, headline
// sentences without glitches, the interval bar's geometry, the recommendation's rule for a rationale, health.

const base = {
  variant: 'pct15',
  against: 'control' as const,
  kind: 'relative' as const,
  estimate: -0.298,
  ci: [-0.4, -0.2] as [number, number],
  rawCi: [-0.38, -0.22] as [number, number],
  level: 0.025,
  alpha: 0.05,
  pValue: 0.00001,
  adjustedPValue: 0.00002,
  significant: true,
  notEstimable: undefined,
  fallback: undefined as 'absolute' | undefined,
}
const names = (k: string) => ({ pct15: '15% off', freeship: 'Free shipping', control: 'Message only' })[k] ?? k

describe('effects', () => {
  it('writes a relative lift as a percentage and an absolute fallback in the metric’s units', () => {
    expect(effectText(base, 'percent')).toBe('−29.8%')
    expect(effectText({ ...base, fallback: 'absolute', estimate: 0.129 }, 'percent')).toBe('+12.9 pp')
    expect(effectInterval({ ...base, fallback: 'absolute', ci: [0.1, 0.15] }, 'percent')).toBe('[+10.0 pp, +15.0 pp]')
    expect(effectText({ ...base, kind: 'absolute', estimate: 1.2 }, 'currency', 'USD')).toBe('+$1.20')
  })

  it('shows the unadjusted interval only when the adjustment changed it', () => {
    expect(unadjustedNote(base, 'percent')).toBe('unadjusted [−38.0%, −22.0%]')
    expect(unadjustedNote({ ...base, rawCi: base.ci }, 'percent')).toBeNull()
  })

  it('never writes "p = < 0.001"', () => {
    expect(pText(0.0001)).toBe('p < 0.001')
    expect(pText(0.042)).toBe('p = 0.042')
  })

  it('says "lowered … by 29.8%" without a second minus, against the baseline the switch chose', () => {
    const m = {
      label: 'Unsubscribe rate',
      format: 'percent' as const,
      higherIsBetter: false,
      comparisons: [base, { ...base, against: 'holdout' as const, estimate: 0.1, ci: [-0.05, 0.25] as [number, number], significant: false }],
    }
    const vsControl = metricHeadline(m as never, 'control', names)
    expect(vsControl).toBe('15% off lowered unsubscribe rate by 29.8% vs control (97.5% CI −40.0% to −20.0%, p < 0.001).')
    const vsHoldout = metricHeadline(m as never, 'holdout', names)
    expect(vsHoldout).toMatch(/^15% off shows no detectable change in unsubscribe rate vs holdout \(\+10\.0%/)
    expect(vsHoldout).toContain('not significant')
  })

  it('words a significant change in the wrong direction as such', () => {
    const m = { label: 'Reactivation rate', format: 'percent' as const, higherIsBetter: true, comparisons: [base] }
    expect(metricHeadline(m as never, 'control', names)).toMatch(/lowered reactivation rate by 29\.8% vs control .* — a change in the wrong direction\.$/)
  })
})

describe('verdicts', () => {
  it('follows significant, never the p-value', () => {
    expect(verdict({ ...base, significant: false, pValue: 0.0001 } as never, true).label).toBe('Inconclusive')
    expect(verdict({ ...base, significant: true } as never, false).label).toBe('Significant ▼ better')
  })

  it('names each guardrail status', () => {
    expect(guardrailVerdict('harmed')).toMatchObject({ tone: 'negative', label: 'Harmed beyond margin' })
    expect(guardrailVerdict('within_margin').label).toBe('Within margin')
    expect(guardrailVerdict('unclear').label).toBe('Unclear')
  })
})

describe('interval bar', () => {
  it('keeps the interval, 0 and the margin inside the bar, in order', () => {
    const g = intervalBar([0.01, 0.03], 0.02, 0.005, 120)!
    expect(g.zero).toBeLessThan(g.margin!)
    expect(g.margin!).toBeLessThan(g.lo)
    expect(g.lo).toBeLessThan(g.estimate!)
    expect(g.estimate!).toBeLessThan(g.hi)
    for (const x of [g.lo, g.hi, g.zero, g.margin!]) {
      expect(x).toBeGreaterThanOrEqual(6)
      expect(x).toBeLessThanOrEqual(114)
    }
  })

  it('draws nothing without a finite interval', () => {
    expect(intervalBar(null, 0.1, null, 120)).toBeNull()
    expect(intervalBar([Number.NEGATIVE_INFINITY, 1], 0.1, null, 120)).toBeNull()
  })

  it('draws a guardrail’s harm test with the margin on the harm side', () => {
    const guardrail = { ci: [0.004, 0.02] as [number, number], estimate: 0.012, margin: 0.005, harmDirection: 'increase' as const }
    expect(barInputs({ ...base, guardrail })).toEqual({ ci: guardrail.ci, estimate: 0.012, margin: 0.005, absolute: true })
    expect(barInputs({ ...base, guardrail: { ...guardrail, harmDirection: 'decrease' } }).margin).toBe(-0.005)
    expect(barInputs(base)).toEqual({ ci: base.ci, estimate: base.estimate, margin: null, absolute: false })
  })
})

describe('decision form rule', () => {
  it('pre-fills the arm only when the report says ship', () => {
    expect(prefilledArm({ action: 'ship', arm: 'pct15' })).toBe('pct15')
    expect(prefilledArm({ action: 'keep_running', arm: null })).toBe('')
    expect(prefilledArm(null)).toBe('')
  })

  it('asks for a rationale when the decision goes against the recommendation', () => {
    expect(rationaleNeeded({ action: 'ship', arm: 'pct15' }, 'pct15')).toBeNull()
    expect(rationaleNeeded({ action: 'ship', arm: 'pct15' }, 'freeship', { armName: names })).toBe(
      'The report recommends shipping 15% off, not Free shipping: write down why you decide otherwise.',
    )
    expect(rationaleNeeded({ action: 'keep_running', arm: null }, 'pct15')).toMatch(/keep running/)
    expect(rationaleNeeded({ action: 'roll_back', arm: 'freeship' }, 'freeship')).toMatch(/rolling freeship back/)
    expect(rationaleNeeded({ action: 'stop', arm: null }, 'control', { controlKey: 'control' })).toBeNull()
    expect(rationaleNeeded({ action: 'ship', arm: 'pct15' }, '')).toBeNull()
  })
})

describe('health', () => {
  it('says how many customers are still inside their window', () => {
    expect(maturityText({ immature: 1234, windowDays: 30, included: false })).toBe(
      '1,234 customers are still inside their 30-day window and are not counted yet.',
    )
    expect(maturityText({ immature: 1, windowDays: 30, included: true })).toMatch(/^1 customer is still inside .* rates read low/)
    expect(maturityText({ immature: 0, windowDays: 30, included: false })).toBeNull()
  })

  it('bounds power progress and skips days without an SRM p-value', () => {
    expect(powerShare({ nPerArmNeeded: 1000, nPerArmReached: 250 })).toBe(0.25)
    expect(powerShare({ nPerArmNeeded: 1000, nPerArmReached: 2500 })).toBe(1)
    expect(powerShare({ nPerArmNeeded: null, nPerArmReached: 10 })).toBeNull()
    expect(
      srmPoints({
        enrolment: [
          { day: '2026-11-01', cumulative: {}, srmPValue: null },
          { day: '2026-11-02', cumulative: {}, srmPValue: 0.4 },
        ],
      }),
    ).toEqual([{ day: new Date('2026-11-02T00:00:00Z'), p: 0.4 }])
  })

  it('puts survival ticks on whole days', () => {
    expect(wholeDays(30, 6)).toEqual([0, 5, 10, 15, 20, 25, 30])
    expect(wholeDays(30, 4)).toEqual([0, 10, 20, 30])
    expect(wholeDays(3.5, 10)).toEqual([0, 1, 2, 3])
    expect(wholeDays(90, 8).every(Number.isInteger)).toBe(true)
  })
})
