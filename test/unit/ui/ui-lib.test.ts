import { describe, expect, it } from 'vitest'
import { compact, currency, date, days, integer, percent, pp, pValue, signedCurrency, signedPercent } from '../../../ui/src/lib/format.ts'
import { planExperiment } from '../../../ui/src/lib/power.ts'
import { sampleSizePerArm } from '../../../stats/power.ts'
import { conditionClauses, rowForErrorField, rowsToCondition } from '../../../ui/src/lib/targeting.ts'
import { blankForm, errorTarget, evenWeights, formFields, newArm, toDraft } from '../../../ui/src/lib/experimentForm.ts'

// The dashboard's pure helpers, run without a browser. (They sit next to the browser test because the UI
// owns them; they need no DOM.)

describe('dashboard number formatting', () => {
  it('never shows NaN, Infinity or undefined: a dash instead', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity, null, undefined]) {
      expect([percent(bad), pp(bad), signedPercent(bad), currency(bad), signedCurrency(bad), compact(bad), integer(bad), pValue(bad), days(bad)]).toEqual(
        Array(9).fill('—'),
      )
    }
    expect(date('not a date')).toBe('—')
    expect(date(null)).toBe('—')
  })

  it('formats shares, percentage points, money and counts for people', () => {
    expect(percent(0.1234)).toBe('12.3%')
    expect(pp(0.032)).toBe('+3.2 pp')
    expect(pp(-0.032)).toBe('−3.2 pp')
    expect(pp(0.00001)).toBe('0.0 pp')
    expect(signedPercent(0.045)).toBe('+4.5%')
    expect(currency(1234.5)).toBe('$1,234.50')
    expect(signedCurrency(-3)).toBe('−$3.00')
    expect(compact(12_345)).toBe('12.3K')
    expect(integer(14_749)).toBe('14,749')
    expect(pValue(0.0004)).toBe('< 0.001')
    expect(days(1)).toBe('1 day')
  })
})

describe('power calculator', () => {
  it('needs 14,749 customers per arm to see 10% → 11% at α 0.05 and 80% power, as the stats library plans it', () => {
    const plan = planExperiment({
      baseline: { kind: 'proportion', baselineRate: 0.1 },
      mde: 0.1,
      alpha: 0.05,
      power: 0.8,
      weights: [0.5, 0.5],
      holdoutPct: 0,
      coverage: 1,
      globalHoldoutPct: 0,
      eligiblePerDay: 1000,
    })
    expect(plan.perArm).toBe(14_749)
    const mean = { kind: 'mean' as const, mean: 40, sd: 60 }
    expect(
      planExperiment({
        baseline: mean,
        mde: 0.05,
        alpha: 0.05,
        power: 0.9,
        weights: [1, 1],
        holdoutPct: 0,
        coverage: 1,
        globalHoldoutPct: 0,
        eligiblePerDay: 1000,
      }).perArm,
    ).toBe(sampleSizePerArm(mean, { mde: 0.05, mdeKind: 'relative', alpha: 0.05, power: 0.9 }).perArm)
  })

  it('lets the smallest arm set the pace and counts holdouts and coverage in the days', () => {
    const base = {
      baseline: { kind: 'proportion' as const, baselineRate: 0.1 },
      mde: 0.1,
      alpha: 0.05,
      power: 0.8,
      holdoutPct: 0,
      coverage: 1,
      globalHoldoutPct: 0,
      eligiblePerDay: 1000,
    }
    const even = planExperiment({ ...base, weights: [0.5, 0.5] })
    expect(even).toMatchObject({ perArm: 14_749, inArms: 29_498, eligible: 29_498, comparisons: 1 })
    expect(even.days).toBeCloseTo(29.498)
    const uneven = planExperiment({ ...base, weights: [0.8, 0.2], holdoutPct: 0.1, coverage: 0.5 })
    expect(uneven.inArms).toBe(14_749 * 5)
    expect(uneven.eligible).toBe(Math.ceil((14_749 * 5) / 0.45))
    // Three arms: two comparisons with the control, each at α/2.
    expect(planExperiment({ ...base, weights: [1, 1, 1] }).alphaPerComparison).toBe(0.025)
  })

  it('answers NaN rather than a number when the inputs define no plan', () => {
    const plan = planExperiment({
      baseline: { kind: 'proportion', baselineRate: 0 },
      mde: 0.1,
      alpha: 0.05,
      power: 0.8,
      weights: [0.5, 0.5],
      holdoutPct: 0,
      coverage: 1,
      globalHoldoutPct: 0,
      eligiblePerDay: 0,
    })
    expect(plan.perArm).toBeNaN()
    expect(plan.days).toBeNaN()
  })
})

describe('new-experiment form', () => {
  it('turns percentages into shares and the rows into an $and condition', () => {
    const form = blankForm()
    form.name = ' Win-back '
    form.arms.push(newArm({ key: 'pts', name: 'Points', offerType: 'loyalty_points', value: 500, unitCost: 2.5 }))
    evenWeights(3).forEach((w, i) => (form.arms[i].weightPct = w))
    form.targeting = [
      { attribute: 'value_tier', operator: '$in', value: 'gold, silver' },
      { attribute: 'recency_days', operator: '$gte', value: '60' },
      { attribute: 'email', operator: '$exists', value: 'true' },
    ]
    const draft = toDraft(form)
    expect(draft.name).toBe('Win-back')
    expect(draft.arms.map((a) => a.weight)).toEqual([0.3333, 0.3333, 0.3334])
    expect(draft.arms.map((a) => a.isControl)).toEqual([true, false, false])
    expect(draft.arms[2].offer).toEqual({ type: 'loyalty_points', value: 500, unitCost: 2.5 })
    expect(draft.holdoutPct).toBe(0.1)
    expect(draft.targeting).toEqual({ $and: [{ value_tier: { $in: ['gold', 'silver'] } }, { recency_days: { $gte: 60 } }, { email: { $exists: true } }] })
    expect(draft.id).toBeUndefined()
    expect(conditionClauses(draft.targeting)).toEqual(['value_tier in ["gold", "silver"]', 'recency_days ≥ 60', 'email exists'])
    expect(rowsToCondition([])).toBeNull()
  })

  it("maps the API's error field to the input, or to the nearest group", () => {
    const form = blankForm()
    form.targeting = [{ attribute: 'ua', operator: '$regex', value: '(' }]
    const known = formFields(form)
    expect(errorTarget('arms.1.weight', known)).toBe('arms.1.weight')
    expect(errorTarget('arms', known)).toBe('arms')
    expect(errorTarget('analysis.cuped.enabled', known)).toBe('analysis')
    expect(errorTarget('targeting.$and[0].ua.$regex', known)).toBe('targeting.0.value')
    expect(errorTarget('seed', known)).toBeNull()
    expect(errorTarget(undefined, known)).toBeNull()
    expect(rowForErrorField('targeting.$and[3].tier')).toEqual({ row: 3, part: 'attribute' })
    expect(rowForErrorField('targeting.$and[0].segments.$in[1]')).toEqual({ row: 0, part: 'value' })
    expect(rowForErrorField('targeting.$and[2].features.nope')).toEqual({ row: 2, part: 'attribute' })
  })
})
