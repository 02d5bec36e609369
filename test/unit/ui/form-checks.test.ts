import { describe, expect, expectTypeOf, it } from 'vitest'
import { ARM_COUNT, METRIC_LIMITS, METRIC_NUMBER_LIMITS, NUMBER_LIMITS, OFFER_LIMITS, TEXT_LIMITS, type Bound } from '../../../api/contract/limits.ts'
import type { ErrorBody } from '../../../api/contract/index.ts'
import { ExperimentCreate, OFFER_LIMITS as SCHEMA_OFFER_LIMITS } from '../../../api/experiments/schema.ts'
import { errorBody } from '../../../api/http/errors.ts'
import { MetricDefinitionInput } from '../../../api/metrics/schema.ts'
import { checkExperiment, fieldLabel, numberProblem } from '../../../ui/src/lib/experimentChecks.ts'
import { blankForm, errorTarget, formFields, newArm, setTierOffer } from '../../../ui/src/lib/experimentForm.ts'
import { invalid, messageFor, problemsFromApi } from '../../../ui/src/lib/formErrors.ts'
import { explainPlan, type PlanInput } from '../../../ui/src/lib/power.ts'

// Issue 18, forms that guide: the form checks each field beside it with the API's own bounds before sending,
// and places every problem of the API's answer beside its input.

const zodWords = /Too big|Too small|expected|Invalid input|received/

/** A body the schema accepts, with every bounded number present (namespace, budget, CUPED and winsorizing on). */
function validBody(): Record<string, any> {
  return {
    name: 'Limits',
    arms: [
      { key: 'control', name: 'Control', weight: 0.5, isControl: true, offer: { type: 'custom', value: 1, unitCost: 1 } },
      { key: 'variant', name: 'Variant', weight: 0.5, offer: { type: 'custom', value: 1, unitCost: 1 } },
    ],
    namespace: { name: 'ns', range: [0, 1] },
    budget: { amount: 1, maxCostPerIncrementalConversion: 1 },
    analysis: { cuped: { enabled: true, lookbackDays: 90 }, winsorize: { enabled: true, percentile: 0.99 } },
  }
}

function set(body: Record<string, any>, path: string, value: unknown) {
  const parts = path.split('.')
  let at = body
  for (const part of parts.slice(0, -1)) at = at[part]
  at[parts.at(-1) as string] = value
}

/** Whether the schema refuses `value` at `path` (a problem elsewhere, such as weights no longer summing to 1, does not count). */
function refused(pattern: string, value: unknown): boolean {
  const path = pattern.replace(/\*/g, pattern.startsWith('namespace') ? '0' : '1')
  const body = validBody()
  set(body, path, value)
  const result = ExperimentCreate.safeParse(body)
  return !result.success && result.error.issues.some((i) => i.path.join('.') === path)
}

/** That `refuses` takes exactly the numbers within `bound`, checked at and just beside each end. */
function expectBound(refuses: (value: number) => boolean, bound: Bound) {
  const step = 1e-6
  expect(refuses(bound.min), 'at the minimum').toBe(!!bound.minExclusive)
  expect(refuses(bound.min - (bound.integer ? 1 : step)), 'below the minimum').toBe(true)
  expect(refuses(bound.min + (bound.integer ? 1 : step)), 'above the minimum').toBe(false)
  if (bound.integer) expect(refuses(bound.min + 0.5), 'a fraction').toBe(true)
  if (bound.max === undefined) {
    expect(refuses(1e12), 'a large number').toBe(false)
  } else {
    expect(refuses(bound.max), 'at the maximum').toBe(!!bound.maxExclusive)
    expect(refuses(bound.max + (bound.integer ? 1 : step)), 'above the maximum').toBe(true)
    expect(refuses(bound.max - (bound.integer ? 1 : step)), 'below the maximum').toBe(false)
  }
}

/** A mean metric the schema accepts, with `extra` over it. */
const meanMetric = (extra: Record<string, unknown> = {}): Record<string, any> => ({
  key: 'limits',
  name: 'Limits',
  kind: 'mean',
  source: { eventTypes: ['purchase'] },
  value: { of: 'revenue' },
  window: { startDays: 0, endDays: 30 },
  ...extra,
})

/** A metric of a kind with the number at `path` (a proportion for minEvents …), the schema refusing `value` there. */
function metricRefused(path: string, value: number): boolean {
  const body =
    path === 'minEvents'
      ? meanMetric({ kind: 'proportion', value: undefined })
      : path === 'quantile'
        ? meanMetric({ kind: 'quantile', quantile: 0.5 })
        : meanMetric({ capping: path === 'capping.value' ? { type: 'absolute', value: 1 } : { type: 'percentile', percentile: 0.99 } })
  set(body, path, value)
  const result = MetricDefinitionInput.safeParse(body)
  return !result.success && result.error.issues.some((i) => i.path.join('.') === path)
}

const times = <T>(n: number, of: (i: number) => T) => Array.from({ length: n }, (_, i) => of(i))
const withFilter = (filter: Record<string, unknown>) => meanMetric({ source: { eventTypes: ['purchase'], filters: [filter] } })

/** What METRIC_LIMITS bounds: its name, the bound, a metric with `n` of it, and where the schema refuses one too many. */
const METRIC_COUNTS: Array<[string, number, (n: number) => Record<string, unknown>, string]> = [
  ['event types', METRIC_LIMITS.eventTypes, (n) => meanMetric({ source: { eventTypes: times(n, (i) => `e${i}`) } }), 'source.eventTypes'],
  [
    'filters',
    METRIC_LIMITS.filters,
    (n) => meanMetric({ source: { eventTypes: ['purchase'], filters: times(n, () => ({ on: 'field', field: 'arm', op: 'eq', value: 'a' })) } }),
    'source.filters',
  ],
  [
    'values of one filter',
    METRIC_LIMITS.inValues,
    (n) => withFilter({ on: 'field', field: 'arm', op: 'in', values: times(n, (i) => `a${i}`) }),
    'source.filters.0.values',
  ],
  [
    'characters of a filter value',
    METRIC_LIMITS.stringValue,
    (n) => withFilter({ on: 'field', field: 'arm', op: 'eq', value: 'a'.repeat(n) }),
    'source.filters.0.value',
  ],
  [
    'keys of a property path',
    METRIC_LIMITS.pathDepth,
    (n) => withFilter({ on: 'property', path: times(n, () => 'a').join('.'), op: 'exists' }),
    'source.filters.0.path',
  ],
  ['tags', METRIC_LIMITS.tags, (n) => meanMetric({ tags: times(n, (i) => `t${i}`) }), 'tags'],
  ['characters of a tag', METRIC_LIMITS.tagLength, (n) => meanMetric({ tags: ['a'.repeat(n)] }), 'tags.0'],
  ['characters of the name', METRIC_LIMITS.name, (n) => meanMetric({ name: 'a'.repeat(n) }), 'name'],
  ['characters of the description', METRIC_LIMITS.description, (n) => meanMetric({ description: 'a'.repeat(n) }), 'description'],
  ['characters of the owner', METRIC_LIMITS.owner, (n) => meanMetric({ owner: 'a'.repeat(n) }), 'owner'],
]

describe('the limits the form checks against', () => {
  it('are the limits the API enforces on offers', () => {
    expect(OFFER_LIMITS).toEqual(SCHEMA_OFFER_LIMITS)
  })

  it.each(Object.entries(NUMBER_LIMITS) as Array<[string, Bound]>)('match the schema at %s', (path, bound) => {
    expectBound((value) => refused(path, value), bound)
  })

  it.each(Object.entries(TEXT_LIMITS))('match the schema on the length of %s', (path, max) => {
    const text = (n: number) => 'a'.repeat(n)
    expect(refused(path, text(max))).toBe(false)
    expect(refused(path, text(max + 1))).toBe(true)
  })

  it('match the schema on the number of arms', () => {
    const arm = (i: number) => ({ key: `a${i}`, name: `A${i}`, weight: 1 / ARM_COUNT.max, isControl: i === 0 })
    const body = validBody()
    body.arms = Array.from({ length: ARM_COUNT.max + 1 }, (_, i) => arm(i))
    expect(ExperimentCreate.safeParse(body).error?.issues.map((i) => i.path.join('.'))).toContain('arms')
    body.arms = [arm(0)]
    expect(ExperimentCreate.safeParse(body).error?.issues.map((i) => i.path.join('.'))).toContain('arms')
  })

  it.each(Object.entries(METRIC_NUMBER_LIMITS) as Array<[string, Bound]>)('match the metric schema at %s', (path, bound) => {
    expectBound((value) => metricRefused(path, value), bound)
  })

  it.each(METRIC_COUNTS)('match the metric schema on the number of %s', (_, max, metric, path) => {
    const refusedAt = (n: number) => MetricDefinitionInput.safeParse(metric(n)).error?.issues.map((i) => i.path.join('.')) ?? []
    expect(refusedAt(max)).toEqual([])
    expect(refusedAt(max + 1)).toContain(path)
  })

  it('describe the error body the server sends', () => {
    expectTypeOf(errorBody('invalid_input', 'name: must not be empty', 'name', [{ field: 'name', message: 'must not be empty' }])).toMatchTypeOf<ErrorBody>()
  })
})

describe("the new-experiment form's own checks", () => {
  const named = () => ({ ...blankForm(), name: 'Win-back' })

  it('find nothing wrong with the blank form once it has a name', () => {
    expect(checkExperiment(named())).toEqual({})
    expect(checkExperiment(blankForm())).toEqual({ name: 'must not be empty' })
  })

  it('find four mistakes at once, each at its field, in plain words and the form’s units', () => {
    const form = { ...blankForm(), holdoutPct: 80, alpha: 0.5 }
    form.arms[1].name = ' '
    const problems = checkExperiment(form)
    expect(problems).toEqual({
      name: 'must not be empty',
      'arms.1.name': 'must not be empty',
      holdoutPct: 'must be at most 50%',
      'analysis.alpha': 'must be at most 0.2',
    })
    for (const message of Object.values(problems)) expect(message).not.toMatch(zodWords)
  })

  it('bound each offer by its type', () => {
    const offer = (offerType: any, value: number | null) => {
      const form = named()
      Object.assign(form.arms[1], { offerType, value })
      return checkExperiment(form)['arms.1.offer.value'] ?? null
    }
    expect(offer('percent_off', 150)).toBe('must be at most 100%')
    expect(offer('percent_off', 100)).toBeNull()
    expect(offer('percent_off', -5)).toBe('must not be negative')
    expect(offer('percent_off', null)).toBe('is required')
    expect(offer('amount_off', 2_000_000)).toBe('must be at most 1,000,000')
    expect(offer('loyalty_points', 12.5)).toBe('must be a whole number of points')
    expect(offer('trial_extension', 400)).toBe('must be at most 365 days')
    expect(offer('free_shipping', null)).toBeNull()
  })

  it('check weights, unit costs, windows, namespace and budget in the units people type', () => {
    const form = named()
    Object.assign(form, {
      coveragePct: 120,
      attributionDays: 2.5,
      mdePct: 0,
      namespaceEnabled: true,
      namespaceStartPct: 60,
      namespaceEndPct: 40,
      budgetEnabled: true,
      budgetAmount: -10,
    })
    form.arms[0].weightPct = 0
    form.arms[1].unitCost = 2_000_000
    expect(checkExperiment(form)).toEqual({
      'arms.0.weight': 'must be more than 0%',
      'arms.1.offer.unitCost': 'must be at most 1,000,000',
      coverage: 'must be at most 100%',
      'namespace.name': 'must not be empty',
      'namespace.range': 'must start below where it ends',
      'analysis.attributionDays': 'must be a whole number of days',
      'analysis.mde': 'must be more than 0%',
      'budget.amount': 'must not be negative',
    })
  })

  it('check only what is on screen: tier offers of the chosen trigger, settings that are switched on', () => {
    const form = { ...named(), trigger: 'plan_downgrade', winsorize: false, winsorizePercentile: 20, budgetAmount: -1 }
    setTierOffer(form.arms[1], 'low', true)
    form.arms[1].tierOffers.low.value = 150
    expect(checkExperiment(form, ['low', 'high'])).toEqual({ 'arms.1.tierOffers.low.value': 'must be at most 100%' })
    expect(checkExperiment(form, [])).toEqual({})
  })

  it('words bounds at their ends', () => {
    expect(numberProblem(50, { min: 0.5, minExclusive: true, max: 1, maxExclusive: true }, { percent: true, suffix: 'th' })).toBe('must be more than 50th')
    expect(numberProblem(100, { min: 0.5, minExclusive: true, max: 1, maxExclusive: true }, { percent: true, suffix: 'th' })).toBe('must be less than 100th')
    expect(numberProblem(0, { min: 1, max: 365, integer: true }, { suffix: ' days', one: ' day' })).toBe('must be at least 1 day')
    expect(numberProblem(33.33, { min: 0, minExclusive: true, max: 1 }, { percent: true, suffix: '%' })).toBeNull()
  })
})

describe("the API's answer beside the form's inputs", () => {
  const form = blankForm()
  form.arms.push(newArm())
  const known = formFields(form)
  const place = (field: string) => errorTarget(field, known)

  it('places every problem at once beside its input, and what no input owns in the summary', () => {
    const problems = problemsFromApi(
      {
        message: 'name: must not be empty',
        field: 'name',
        fields: [
          { field: 'name', message: 'must not be empty' },
          { field: 'arms.1.offer.value', message: "a percent-off offer's value must be a percentage between 0 and 100 (15 = 15% off)" },
          { field: 'analysis.alpha', message: 'must be at most 0.2' },
          { field: 'holdoutPct', message: 'must be at most 0.5' },
          { field: 'seed', message: 'must not be empty' },
          { field: null, message: 'something about the whole body' },
        ],
      },
      place,
    )
    expect(problems.fields).toEqual({
      name: 'must not be empty',
      'arms.1.offer.value': "a percent-off offer's value must be a percentage between 0 and 100 (15 = 15% off)",
      'analysis.alpha': 'must be at most 0.2',
      holdoutPct: 'must be at most 0.5',
    })
    expect(problems.other).toEqual(['seed: must not be empty', 'something about the whole body'])
    expect(invalid(problems, 'holdoutPct')).toEqual({ 'aria-invalid': 'true', 'aria-describedby': 'field-holdoutPct-error' })
    expect(invalid(problems, 'coverage')).toEqual({})
  })

  it('places a single error (a name in use) beside its field, suggestion included', () => {
    const problems = problemsFromApi({ message: "an experiment is already named 'Win-back'; choose another name, e.g. 'Win-back (2)'", field: 'name' }, place)
    expect(messageFor(problems, 'name')).toContain("e.g. 'Win-back (2)'")
    expect(problems.other).toEqual([])
  })

  it('joins two problems inside one group', () => {
    const problems = problemsFromApi(
      {
        message: '',
        fields: [
          { field: 'analysis.cuped.enabled', message: 'must be true or false' },
          { field: 'analysis.winsorize.enabled', message: 'must be true or false' },
        ],
      },
      place,
    )
    expect(problems.fields).toEqual({ analysis: 'must be true or false; must be true or false' })
  })

  it('keeps the one-error forms working', () => {
    expect(messageFor({ target: 'name', message: 'taken' }, 'name')).toBe('taken')
    expect(invalid({ target: 'name', message: 'taken' }, 'id')).toEqual({})
    expect(invalid(null, 'name')).toEqual({})
  })

  it('names fields in the summary as the form labels them', () => {
    expect(fieldLabel('name')).toBe('Name')
    expect(fieldLabel('arms.1.offer.value')).toBe('Arm 2 offer value')
    expect(fieldLabel('arms.0.tierOffers.low.value')).toBe('Arm 1 offer value for low intent')
    expect(fieldLabel('analysis.alpha')).toBe('Significance level α')
    expect(fieldLabel('targeting.0.value')).toBe('Condition 1 value')
    expect(fieldLabel('seed')).toBe('seed')
  })
})

describe('the power calculator’s explanations', () => {
  const input = (change: Partial<PlanInput> = {}): PlanInput => ({
    baseline: { kind: 'proportion', baselineRate: 0.2 },
    mde: 0.05,
    alpha: 0.05,
    power: 0.8,
    weights: [50, 50],
    holdoutPct: 0.1,
    coverage: 1,
    globalHoldoutPct: 0.05,
    eligiblePerDay: 2000,
    ...change,
  })

  it('has nothing to explain when it has its numbers', () => {
    expect(explainPlan(input())).toEqual({ sampleSize: null, duration: null })
  })

  it('says why it cannot size a test, naming the input', () => {
    const why = (change: Partial<PlanInput>) => explainPlan(input(change)).sampleSize
    expect(why({ baseline: { kind: 'proportion', baselineRate: 0 } })).toMatchObject({
      input: 'baseline',
      message: expect.stringMatching(/^Needs a baseline above 0%/),
    })
    expect(why({ baseline: { kind: 'proportion', baselineRate: Number.NaN } })?.message).toMatch(/^Enter the baseline rate/)
    expect(why({ baseline: { kind: 'proportion', baselineRate: 0.6 }, mde: 1 })?.message).toBe(
      'A 100% lift on a 60% baseline passes 100%: choose a smaller effect or a lower baseline.',
    )
    expect(why({ baseline: { kind: 'mean', mean: 0, sd: 10 } })?.input).toBe('baseline')
    expect(why({ baseline: { kind: 'mean', mean: 40, sd: 0 } })?.input).toBe('sd')
    expect(why({ mde: 0 })?.input).toBe('mde')
    expect(why({ power: 1 })?.input).toBe('power')
  })

  it('says why it cannot tell how long the test takes', () => {
    expect(explainPlan(input({ eligiblePerDay: 0 }))).toEqual({
      sampleSize: null,
      duration: { input: 'traffic', message: 'Needs eligible customers per day above 0 to say how long it takes.' },
    })
    expect(explainPlan(input({ coverage: 0 })).duration?.input).toBe('reach')
    expect(explainPlan(input({ weights: [100, 0] })).duration?.input).toBe('arms')
  })
})
