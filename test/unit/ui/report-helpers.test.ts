import { describe, expect, it } from 'vitest'
import { verdict } from '../../../ui/src/lib/significance.ts'
import { interval, metricDelta, metricValue } from '../../../ui/src/lib/metricFormat.ts'
import { csvField, reportCsv, REPORT_CSV_HEADER } from '../../../ui/src/lib/csv.ts'
import { forestRows } from '../../../ui/src/lib/forest.ts'
import { armColours, clip, liftDomain } from '../../../ui/src/lib/chart.ts'
import { limiter } from '../../../ui/src/lib/limit.ts'
import { blankPolicyForm, describePolicy, policyErrorTarget, toPolicyCreate } from '../../../ui/src/lib/policyForm.ts'
import { blankForm, errorTarget, formFields, setTierOffer, toDraft } from '../../../ui/src/lib/experimentForm.ts'
import type { ExperimentReport } from '../../../ui/src/lib/reports.ts'

// The report half's pure helpers: verdicts, number formats, CSV, forest-plot rows, axes, request limits, the
// policy and experiment forms. No DOM.

const comparison = (over: Record<string, unknown> = {}) => ({
  baseline: 'control',
  variant: 'pct15',
  metric: 'reactivation',
  kind: 'relative',
  method: 'welch-t',
  alpha: 0.05,
  estimate: 0.2,
  ci: [0.1, 0.3],
  pValue: 0.001,
  adjustedPValue: 0.004,
  adjustment: 'holm',
  standardError: 0.05,
  chanceToWin: 0.999,
  risk: null,
  significant: true,
  baselineMean: 0.1,
  variantMean: 0.12,
  baselineN: 100,
  variantN: 100,
  against: 'control',
  absolute: { estimate: 0.02, ci: [0.01, 0.03], pValue: 0.001 },
  cuped: null,
  ...over,
})

function report(): ExperimentReport {
  const arms = [
    { key: 'holdout', name: 'Holdout', isControl: false, isHoldout: true, offer: null, n: 50, expectedShare: 0.1, observedShare: 0.1 },
    { key: 'control', name: 'Message, "only"', isControl: true, isHoldout: false, offer: { type: 'none' }, n: 100, expectedShare: 0.45, observedShare: 0.45 },
    {
      key: 'pct15',
      name: '15% off',
      isControl: false,
      isHoldout: false,
      offer: { type: 'percent_off', value: 15 },
      n: 100,
      expectedShare: 0.45,
      observedShare: 0.45,
    },
  ]
  const values = arms.map((a) => ({ arm: a.key, n: a.n, value: 0.1 }))
  return {
    arms,
    metrics: [
      {
        key: 'unsubscribe',
        label: 'Unsubscribe rate',
        kind: 'proportion',
        format: 'percent',
        higherIsBetter: false,
        isPrimary: false,
        isGuardrail: true,
        values,
        summary: '',
        comparisons: [comparison({ metric: 'unsubscribe' }), comparison({ baseline: 'holdout', against: 'holdout', significant: false })],
      },
      {
        key: 'reactivation',
        label: 'Reactivation rate',
        kind: 'proportion',
        format: 'percent',
        higherIsBetter: true,
        isPrimary: true,
        isGuardrail: false,
        values,
        summary: '',
        comparisons: [
          comparison(),
          comparison({ variant: 'control', baseline: 'holdout', against: 'holdout' }),
          comparison({ baseline: 'holdout', against: 'holdout' }),
        ],
      },
      {
        key: 'redemption',
        label: 'Redemption rate',
        kind: 'proportion',
        format: 'percent',
        higherIsBetter: true,
        isPrimary: false,
        isGuardrail: false,
        values,
        summary: '',
        comparisons: [
          comparison({
            estimate: null,
            ci: null,
            pValue: null,
            significant: false,
            notEstimable: { code: 'zero_baseline', message: 'the baseline mean is 0' },
          }),
        ],
      },
      {
        key: 'time_to_purchase',
        label: 'Time to first purchase',
        kind: 'survival',
        format: 'days',
        higherIsBetter: false,
        isPrimary: false,
        isGuardrail: false,
        values,
        summary: '',
        comparisons: [],
        survival: arms.map((a) => ({ arm: a.key, median: 12, medianCi: [10, 14], n: a.n, events: 60, points: [] })),
      },
    ],
  } as unknown as ExperimentReport
}

describe('significance', () => {
  it('calls a significant rise good only when higher is better, in words as well as colour', () => {
    expect(verdict(comparison(), true)).toMatchObject({ tone: 'positive', label: 'Significant ▲ better' })
    expect(verdict(comparison(), false)).toMatchObject({ tone: 'negative', label: 'Significant ▲ worse' })
    expect(verdict(comparison({ estimate: -0.2 }), false)).toMatchObject({ tone: 'positive', label: 'Significant ▼ better' })
    expect(verdict(comparison({ significant: false }), true)).toMatchObject({ tone: 'neutral', label: 'Inconclusive' })
    expect(verdict(comparison({ estimate: null, notEstimable: { message: 'the baseline mean is 0' } }), true)).toMatchObject({
      tone: 'neutral',
      label: 'Not estimable',
      explanation: 'the baseline mean is 0',
    })
    expect(verdict(undefined, true).label).toBe('Not estimable')
  })
})

describe('metric formats', () => {
  it('shows rates, money, counts and days, and differences in percentage points', () => {
    expect(metricValue('percent', 0.153)).toBe('15.3%')
    expect(metricValue('percent', 0.0065)).toBe('0.65%')
    expect(metricValue('currency', 11.6)).toBe('$11.60')
    expect(metricValue('number', 0.18766)).toBe('0.188')
    expect(metricValue('days', 12)).toBe('12 d')
    expect(metricDelta('percent', 0.032)).toBe('+3.2 pp')
    expect(metricDelta('currency', -0.42)).toBe('−$0.42')
    expect(interval([-0.012, 0.045])).toBe('[−1.2%, +4.5%]')
  })

  it('never shows NaN or Infinity', () => {
    for (const bad of [Number.NaN, Infinity, null, undefined]) {
      expect([metricValue('percent', bad), metricValue('currency', bad), metricDelta('number', bad), interval([bad as number, 1])]).toEqual([
        '—',
        '—',
        '—',
        '—',
      ])
    }
    expect(interval(null)).toBe('—')
  })
})

describe('CSV export', () => {
  it('quotes fields with commas and quotes, and leaves missing numbers empty', () => {
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField(Number.NaN)).toBe('')
    expect(csvField(null)).toBe('')
    expect(csvField(0.25)).toBe('0.25')
  })

  it('writes one row per metric, arm and baseline, with raw numbers', () => {
    const lines = reportCsv(report()).trimEnd().split('\r\n')
    expect(lines[0]).toBe(REPORT_CSV_HEADER.join(','))
    // unsubscribe: holdout (none), control (none), pct15 (vs control, vs holdout) = 4; reactivation: holdout, control (vs holdout), pct15 ×2 = 4;
    // redemption: holdout, control, pct15 = 3; survival: 3 arms = 3.
    expect(lines).toHaveLength(1 + 4 + 4 + 3 + 3)
    expect(lines).toContain(
      'reactivation,Reactivation rate,pct15,15% off,100,0.1,control,0.2,0.1,0.3,0.02,0.01,0.03,0.001,0.004,holm,0.999,true,Significant ▲ better',
    )
    expect(lines.some((l) => l.startsWith('unsubscribe,Unsubscribe rate,control,"Message, ""only""",100,0.1,,'))).toBe(true)
    expect(lines).toContain('time_to_purchase,Time to first purchase,pct15,15% off,100,12,,,,,,,,,,,,,')
  })
})

describe('forest plot rows', () => {
  it('has one row per comparison against the chosen baseline, the primary metric first, survival left out', () => {
    const vsControl = forestRows(report(), 'control')
    expect(vsControl.map((r) => r.id)).toEqual(['reactivation:pct15:control', 'unsubscribe:pct15:control', 'redemption:pct15:control'])
    expect(vsControl.map((r) => r.tone)).toEqual(['positive', 'negative', 'neutral'])
    expect(vsControl[0]).toMatchObject({ group: 'Reactivation rate', tag: 'primary', label: '15% off' })
    expect(vsControl[2]).toMatchObject({ ci: null, estimate: null, note: 'the baseline mean is 0' })
    expect(forestRows(report(), 'holdout').map((r) => r.id)).toEqual([
      'reactivation:control:holdout',
      'reactivation:pct15:holdout',
      'unsubscribe:pct15:holdout',
    ])
  })

  it('keeps the lift axis around zero and clips what a tiny arm would stretch', () => {
    const [lo, hi] = liftDomain([0.1, 0.3])
    expect(lo).toBeLessThan(0)
    expect(hi).toBeGreaterThan(0.3)
    expect(liftDomain([-5, 40])).toEqual([-1, 2])
    expect(liftDomain([])).toEqual([-0.058, 0.058])
    expect(clip(3, [-1, 2])).toEqual({ value: 2, clipped: 'high' })
    expect(clip(0.5, [-1, 2])).toEqual({ value: 0.5, clipped: null })
  })

  it('gives the control grey and the variants distinct blues', () => {
    const colours = armColours(report().arms)
    expect(new Set(colours.values()).size).toBe(3)
    expect(colours.get('control')).toBe('#6b7280')
  })
})

describe('request limiter', () => {
  it('runs at most n tasks at once and all of them in the end', async () => {
    const limited = limiter(2)
    let running = 0
    let most = 0
    const task = (i: number) =>
      limited(async () => {
        running++
        most = Math.max(most, running)
        await new Promise((r) => setTimeout(r, 5))
        running--
        return i
      })
    expect(await Promise.all([1, 2, 3, 4, 5].map(task))).toEqual([1, 2, 3, 4, 5])
    expect(most).toBe(2)
    await expect(limited(() => Promise.reject(new Error('no')))).rejects.toThrow('no')
    expect(await task(6)).toBe(6)
  })
})

describe('policy form', () => {
  it('sends empty limits as null and a chosen list of incentive types', () => {
    const form = { ...blankPolicyForm(), id: ' cap ', name: 'Cap', allTypes: false, offerTypes: ['percent_off' as const], cooldownDays: Number.NaN }
    expect(toPolicyCreate(form)).toEqual({
      id: 'cap',
      name: 'Cap',
      offerTypes: ['percent_off'],
      maxIncentives: 1,
      windowDays: 30,
      cooldownDays: null,
      minGapHours: null,
      quietHours: null,
      enabled: true,
    })
    expect(policyErrorTarget('maxIncentives')).toBe('policy.maxIncentives')
    expect(policyErrorTarget('quietHours.startHour', 'policy-edit')).toBe('policy-edit.quietHours')
    expect(policyErrorTarget('nonsense')).toBeNull()
    expect(describePolicy({ maxIncentives: 1, windowDays: 30, cooldownDays: 7, minGapHours: null, quietHours: { startHour: 22, endHour: 8 } })).toBe(
      'at most 1 incentive per 30 days · 7-day cooldown after a redemption · quiet 22:00–08:00 UTC',
    )
  })
})

describe('new-experiment form: decisioning', () => {
  it("sends the trigger, priority and budget, and tier offers for the chosen trigger's tiers only", () => {
    const form = blankForm()
    form.name = 'Cart'
    form.trigger = 'cart_abandoned'
    form.priority = 5
    form.budgetEnabled = true
    form.budgetAmount = 500
    form.budgetCurrency = 'eur'
    setTierOffer(form.arms[1], 'low', true)
    form.arms[1].tierOffers.low.value = 20
    setTierOffer(form.arms[1], 'high', true)
    form.arms[1].tierOffers.high.offerType = 'none'
    setTierOffer(form.arms[1], 'gone', true)
    setTierOffer(form.arms[1], 'medium', false)
    const draft = toDraft(form, ['low', 'medium', 'high'])
    expect(draft).toMatchObject({ trigger: 'cart_abandoned', priority: 5, budget: { amount: 500, currency: 'EUR', maxCostPerIncrementalConversion: null } })
    expect(draft.arms[1].tierOffers).toEqual({ low: { type: 'percent_off', value: 20 }, high: { type: 'none', value: 0 } })
    expect(draft.arms[0].tierOffers).toBeUndefined()
    expect(toDraft({ ...form, trigger: '' }, ['low']).arms[1].tierOffers).toBeUndefined()
    expect(toDraft({ ...form, budgetEnabled: false }).budget).toBeNull()
    const known = formFields(form)
    expect(errorTarget('arms.1.tierOffers.low.value', known)).toBe('arms.1.tierOffers.low.value')
    expect(errorTarget('budget.amount', known)).toBe('budget.amount')
  })
})
