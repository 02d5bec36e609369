import { describe, expect, it } from 'vitest'
import { MetricDefinitionInput } from '../../../api/metrics/schema.ts'
import { fromZodError } from '../../../api/http/errors.ts'
import { problemsFromApi } from '../../../ui/src/lib/formErrors.ts'
import { checkMetric, percentileMessage } from '../../../ui/src/lib/metricChecks.ts'
import {
  describeFilter,
  describeSource,
  previewVerdict,
  reportableMetrics,
  type CatalogueMetric,
  type CustomMetric,
} from '../../../ui/src/lib/metricCatalogue.ts'
import { blankForm, errorTarget, formFields, toDraft } from '../../../ui/src/lib/experimentForm.ts'
import { ExperimentCreate } from '../../../api/experiments/schema.ts'
import {
  blankMetricForm,
  fitToKind,
  formFromMetric,
  metricErrorTarget,
  metricFieldLabel,
  metricFormFields,
  toMetricDraft,
  type MetricForm,
} from '../../../ui/src/lib/metricForm.ts'

// Issue 17, item 6: the metric form sends what the schema takes, reads a saved version back, checks what it can by
// itself, and puts every problem of the API's answer beside the input it names.

const KINDS = ['proportion', 'retention', 'mean', 'ratio', 'quantile', 'time_to_event'] as const

function filled(kind: MetricForm['kind']): MetricForm {
  const form: MetricForm = { ...blankMetricForm(), key: 'tickets_30', name: 'Tickets', kind, numerator: 'revenue', denominator: 'orders' }
  fitToKind(form)
  return form
}

const stored = { version: 2, builtIn: false as const, archived: false, createdAt: '2026-11-30T00:00:00.000Z', createdBy: 'analyst' }

describe('the metric form', () => {
  it.each(KINDS)('sends a %s the schema accepts from its defaults', (kind) => {
    const form = filled(kind)
    expect(checkMetric(form)).toEqual({})
    const parsed = MetricDefinitionInput.safeParse(toMetricDraft(form))
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
    expect(parsed.data?.kind).toBe(kind)
  })

  it('sends filters with numbers where the target is a number and text where it is text', () => {
    const form = filled('mean')
    form.filters = [
      { target: 'property', path: 'category', op: 'in', value: 'shoes, 3, "42"' },
      { target: 'revenue', path: '', op: 'gte', value: '50' },
      { target: 'arm', path: '', op: 'eq', value: '15' },
      { target: 'property', path: 'item.size', op: 'exists', value: 'ignored' },
    ]
    form.valueOf = 'property'
    form.valuePath = 'items'
    form.capping = 'percentile'
    form.capPercentile = 99
    const draft = toMetricDraft(form)
    expect(draft).toMatchObject({
      source: {
        eventTypes: ['purchase'],
        filters: [
          { on: 'property', path: 'category', op: 'in', values: ['shoes', 3, '42'] },
          { on: 'field', field: 'revenue', op: 'gte', value: 50 },
          { on: 'field', field: 'arm', op: 'eq', value: '15' },
          { on: 'property', path: 'item.size', op: 'exists' },
        ],
      },
      value: { of: 'property', path: 'items' },
      capping: { type: 'percentile', percentile: 0.99 },
    })
    expect(MetricDefinitionInput.safeParse(draft).success).toBe(true)
    expect(describeSource((draft as { source: Parameters<typeof describeSource>[0] }).source)).toBe(
      'purchase events where category in ["shoes", 3, "42"] and revenue ≥ 50 and arm = "15" and item.size exists',
    )
  })

  it('reads a saved version back into the same definition', () => {
    const form = filled('mean')
    form.filters = [{ target: 'property', path: 'channel', op: 'not_in', value: 'email, "7", 7' }]
    form.capping = 'absolute'
    form.capValue = 500
    form.tags = 'support, tickets'
    form.startDays = 31
    form.endDays = 90
    const saved = { ...MetricDefinitionInput.parse(toMetricDraft(form)), ...stored } as CustomMetric
    expect(MetricDefinitionInput.parse(toMetricDraft(formFromMetric(saved)))).toEqual(MetricDefinitionInput.parse(toMetricDraft(form)))
  })

  it('sees what is missing, not a number, or cannot mean anything, all at once', () => {
    const form = filled('mean')
    form.name = ' '
    form.startDays = 30
    form.endDays = 10
    form.filters = [
      { target: 'property', path: '', op: 'gt', value: 'ten' },
      { target: 'revenue', path: '', op: 'in', value: ' , ' },
    ]
    form.capping = 'absolute'
    form.capValue = 0
    expect(checkMetric(form)).toEqual({
      name: 'must not be empty',
      'source.filters.0.path': 'must not be empty',
      'source.filters.0.value': 'must be a number',
      'source.filters.1.value': 'list at least one value',
      'window.endDays': 'must be after the start day',
      'capping.value': 'must be more than 0',
    })
    const ratio = filled('ratio')
    ratio.denominator = 'revenue'
    expect(checkMetric(ratio)).toEqual({ denominator: 'must differ from the numerator' })
  })

  it("checks the schema's bounds before sending, each beside its field in the API's own words", () => {
    const form = filled('mean')
    form.tags = Array.from({ length: 11 }, (_, i) => `t${i}`).join(', ')
    form.eventTypes = Array.from({ length: 11 }, (_, i) => `e${i}`)
    form.filters = [
      { target: 'property', path: 'a.b.c.d', op: 'exists', value: '' },
      { target: 'arm', path: '', op: 'in', value: Array.from({ length: 101 }, (_, i) => `a${i}`).join(', ') },
      { target: 'property', path: 'channel', op: 'eq', value: `"${'x'.repeat(257)}"` },
    ]
    form.endDays = 731
    form.capping = 'percentile'
    form.capPercentile = 40
    const own = checkMetric(form)
    const parsed = MetricDefinitionInput.safeParse(toMetricDraft(form))
    const answered = problemsFromApi(fromZodError(parsed.error!), (f) => metricErrorTarget(f, metricFormFields(form))).fields
    answered['capping.percentile'] = percentileMessage(answered['capping.percentile'])
    expect(own).toEqual({
      tags: 'must have at most 10 items',
      'source.eventTypes': 'must have at most 10 items',
      'source.filters.0.path': 'must be a property name of letters, digits and underscores, or a path of at most 3 such names joined by dots (item.category)',
      'source.filters.1.value': 'must have at most 100 items',
      'source.filters.2.value': 'must be at most 256 characters',
      'window.endDays': 'must be at most 730',
      'capping.percentile': 'must be more than the 50th percentile',
    })
    expect(own).toEqual(answered)
  })

  it('checks the smaller bounds of each kind: filters, tag length, minEvents, quantile, a 0-day window', () => {
    const mean = filled('mean')
    mean.filters = Array.from({ length: 11 }, () => ({ target: 'arm' as const, path: '', op: 'eq' as const, value: 'a' }))
    mean.tags = `support, ${'x'.repeat(41)}`
    mean.valueOf = 'property'
    mean.valuePath = 'a.b.c.d'
    mean.endDays = 0
    expect(checkMetric(mean)).toMatchObject({
      'source.filters': 'must have at most 10 items',
      tags: 'must be at most 40 characters',
      'value.path': expect.stringContaining('at most 3 such names'),
      'window.endDays': 'must be more than 0',
    })
    const proportion = filled('proportion')
    proportion.minEvents = 1001
    expect(checkMetric(proportion)).toEqual({ minEvents: 'must be at most 1,000' })
    const quantile = filled('quantile')
    quantile.quantilePct = 100
    expect(checkMetric(quantile)).toEqual({ quantile: 'must be less than the 100th percentile' })
    quantile.quantilePct = 99.5
    expect(checkMetric(quantile)).toEqual({})
  })

  it("puts each of the API's problems beside its input, in the API's words", () => {
    const form = filled('mean')
    form.key = 'Bad Key'
    form.filters = [{ target: 'property', path: 'a.b.c.d', op: 'in', value: '' }]
    form.endDays = 1000
    form.capping = 'percentile'
    form.capPercentile = 30
    form.tags = 'x'
    const parsed = MetricDefinitionInput.safeParse({
      ...toMetricDraft(form),
      source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'a.b.c.d', op: 'in', values: [] }] },
    })
    expect(parsed.success).toBe(false)
    const known = metricFormFields(form)
    const problems = problemsFromApi(fromZodError(parsed.error!), (f) => metricErrorTarget(f, known))
    expect(Object.keys(problems.fields).sort()).toEqual(['capping.percentile', 'key', 'source.filters.0.path', 'source.filters.0.value', 'window.endDays'])
    expect(problems.other).toEqual([])
    expect(percentileMessage(problems.fields['capping.percentile'])).toBe('must be more than the 50th percentile')
    expect(metricFieldLabel('source.filters.0.value')).toBe('Filter 1 value')
  })

  it("places a preview's refusals (prefixed definition., or about a ratio's inline parts) on the form's inputs", () => {
    const known = metricFormFields(filled('ratio'))
    expect(metricErrorTarget('definition.name', known)).toBe('name')
    expect(metricErrorTarget('numerator.source.eventTypes', known)).toBe('numerator')
    expect(metricErrorTarget('experimentId', known)).toBeNull()
    const mean = metricFormFields(filled('mean'))
    expect(metricErrorTarget('window', mean)).toBe('window.endDays')
    expect(metricErrorTarget('source.filters', mean)).toBe('source.filters')
  })
})

describe('a preview verdict', () => {
  const base = { estimate: 0.1, ci: [0.02, 0.18] as [number, number], significant: true, notEstimable: null }

  it("is the report's verdict when the interval agrees", () => {
    expect(previewVerdict(base as never, true).label).toBe('Significant ▲ better')
    expect(previewVerdict({ ...base, estimate: -0.1, ci: [-0.18, -0.02] } as never, false).label).toBe('Significant ▼ better')
  })

  it('never contradicts its interval', () => {
    expect(previewVerdict({ ...base, ci: [-0.01, 0.2] } as never, true).label).toBe('Inconclusive')
    expect(previewVerdict({ ...base, significant: false } as never, true).label).toBe('Inconclusive')
  })

  it('describes a filter in words', () => {
    expect(describeFilter({ on: 'property', path: 'severity', op: 'gte', value: 3 })).toBe('severity ≥ 3')
  })
})

describe('catalogue metrics in the new-experiment form', () => {
  const live = (key: string, extra: Record<string, unknown> = {}) =>
    ({ ...MetricDefinitionInput.parse({ ...toMetricDraft(filled('mean')), key, ...extra }), ...stored }) as CatalogueMetric
  const builtIn = { key: 'orders', name: 'Orders', kind: 'mean', builtIn: true, archived: false } as unknown as CatalogueMetric

  it('offers the metrics a report can compute: live, own (quantiles too), no ratios over built-ins', () => {
    const catalogue = [
      builtIn,
      live('tickets_30'),
      live('old_one', {}),
      live('median_order', { kind: 'quantile', value: { of: 'revenue' }, quantile: 0.5, format: 'currency' }),
      { ...live('per_order'), kind: 'ratio', numerator: 'tickets_30', denominator: 'orders' } as CatalogueMetric,
      { ...live('tickets_per_visit'), kind: 'ratio', numerator: 'tickets_30', denominator: 'old_one' } as CatalogueMetric,
    ]
    ;(catalogue[2] as { archived: boolean }).archived = true
    expect(reportableMetrics(catalogue).map((m) => m.key)).toEqual(['tickets_30', 'median_order', 'tickets_per_visit'])
  })

  it('sends the chosen ones by key, none when none are chosen, and places a refusal on the picker', () => {
    const form = { ...blankForm(), name: 'With catalogue metrics' }
    expect(toDraft(form).analysis).not.toHaveProperty('catalogueMetrics')
    form.catalogueMetrics = ['tickets_30', 'second_order']
    const draft = toDraft(form)
    expect(draft.analysis?.catalogueMetrics).toEqual([{ key: 'tickets_30' }, { key: 'second_order' }])
    expect(ExperimentCreate.safeParse(draft).success).toBe(true)
    expect(errorTarget('analysis.catalogueMetrics.1.key', formFields(form))).toBe('analysis.catalogueMetrics')
  })
})
