/**
 * The metric form's state and the definition it sends (POST /v1/metrics, /v1/metrics/:key/versions and the
 * preview). Inputs are named by the API's dot paths (`source.filters.0.path`, `window.endDays`), so an answer's
 * `error.fields` land beside them through `metricErrorTarget`.
 */
import type { CatalogueMetricKind, CustomMetric, EventField, FilterOp, MetricDraft, MetricFilter } from './metricCatalogue.ts'
import { FORMATS_BY_KIND, NUMERIC_FIELDS, operatorsFor, type CatalogueFormat } from './metricCatalogue.ts'

export type FilterTarget = 'property' | EventField
export type ValueOf = 'count' | 'revenue' | 'margin' | 'cost' | 'property'

export interface FilterRow {
  target: FilterTarget
  /** The property path when `target` is 'property'. */
  path: string
  op: FilterOp
  /** As typed: lists are comma-separated; numbers where the target is a number; quotes force text ("\"42\""). */
  value: string
}

export interface MetricForm {
  key: string
  name: string
  description: string
  owner: string
  /** Comma-separated. */
  tags: string
  kind: CatalogueMetricKind
  eventTypes: string[]
  filters: FilterRow[]
  valueOf: ValueOf
  valuePath: string
  startDays: number | null
  endDays: number | null
  capping: 'none' | 'absolute' | 'percentile'
  capValue: number | null
  /** Typed as a percentile: 99 for the 99th. */
  capPercentile: number | null
  cuped: boolean
  minEvents: number | null
  /** Typed as a percentile: 50 for the median. */
  quantilePct: number | null
  direction: 'higher' | 'lower'
  format: CatalogueFormat
  numerator: string
  denominator: string
}

export const blankMetricForm = (): MetricForm => ({
  key: '',
  name: '',
  description: '',
  owner: '',
  tags: '',
  kind: 'proportion',
  eventTypes: ['purchase'],
  filters: [],
  valueOf: 'count',
  valuePath: '',
  startDays: 0,
  endDays: 30,
  capping: 'none',
  capValue: null,
  capPercentile: 99,
  cuped: true,
  minEvents: 1,
  quantilePct: 50,
  direction: 'higher',
  format: 'percent',
  numerator: '',
  denominator: '',
})

/** Which parts of the form a kind uses. */
export const usesSource = (kind: CatalogueMetricKind) => kind !== 'ratio'
export const usesValue = (kind: CatalogueMetricKind) => kind === 'mean' || kind === 'quantile'

/** After the kind changes: a format and a value the new kind accepts. */
export function fitToKind(form: MetricForm): void {
  const formats = FORMATS_BY_KIND[form.kind]
  if (!formats.includes(form.format)) form.format = formats[0]
  if (form.kind === 'quantile' && form.valueOf === 'count') form.valueOf = 'revenue'
}

/** After a filter's target changes: an operator that target takes. */
export function fitFilter(row: FilterRow): void {
  if (!operatorsFor(row.target).includes(row.op)) row.op = 'eq'
}

/** "42" → 42 and "shoes" → "shoes" for a property; quotes force text ("\"42\"" → "42"). */
function scalar(text: string, target: FilterTarget): string | number {
  const t = text.trim()
  if (target !== 'property' && !NUMERIC_FIELDS.includes(target)) return text.trim()
  if (/^".*"$/.test(t) && target === 'property') return t.slice(1, -1)
  if (t !== '' && Number.isFinite(Number(t))) return Number(t)
  return t
}

const listOf = (text: string) =>
  text
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')

function filterOf(row: FilterRow): MetricFilter {
  const target = row.target === 'property' ? { on: 'property' as const, path: row.path.trim() } : { on: 'field' as const, field: row.target }
  switch (row.op) {
    case 'exists':
      return { ...target, op: 'exists' }
    case 'in':
    case 'not_in':
      return { ...target, op: row.op, values: listOf(row.value).map((v) => scalar(v, row.target)) }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return { ...target, op: row.op, value: Number(row.value.trim() === '' ? NaN : row.value) } as MetricFilter
    default:
      return { ...target, op: row.op, value: scalar(row.value, row.target) }
  }
}

const share = (pct: number | null) => (pct === null || Number.isNaN(pct) ? NaN : +(pct / 100).toFixed(10))
const days = (x: number | null) => (x === null || Number.isNaN(x) ? undefined : x)

/** The definition the form means, as the API takes it (defaults the form does not show are left to the API). */
export function toMetricDraft(form: MetricForm): MetricDraft {
  const common = {
    key: form.key.trim(),
    name: form.name.trim(),
    description: form.description.trim(),
    owner: form.owner.trim(),
    tags: listOf(form.tags),
    direction: form.direction,
  }
  const source = { eventTypes: form.eventTypes.map((t) => t.trim()).filter(Boolean), filters: form.filters.map(filterOf) }
  const window = { startDays: days(form.startDays), endDays: days(form.endDays) as number }
  const value = form.valueOf === 'property' ? { of: 'property' as const, path: form.valuePath.trim() } : { of: form.valueOf }
  switch (form.kind) {
    case 'proportion':
      return { ...common, kind: 'proportion', source, window, minEvents: form.minEvents ?? undefined, format: 'percent' }
    case 'retention':
      return { ...common, kind: 'retention', source, window, format: 'percent' }
    case 'time_to_event':
      return { ...common, kind: 'time_to_event', source, window, format: 'days' }
    case 'ratio':
      return { ...common, kind: 'ratio', numerator: form.numerator, denominator: form.denominator, format: form.format }
    case 'quantile':
      return { ...common, kind: 'quantile', source, value, window, quantile: share(form.quantilePct), format: form.format as 'currency' | 'number' | 'days' }
    case 'mean': {
      const capping =
        form.capping === 'absolute'
          ? { type: 'absolute' as const, value: form.capValue ?? NaN }
          : form.capping === 'percentile'
            ? { type: 'percentile' as const, percentile: share(form.capPercentile) }
            : { type: 'none' as const }
      return { ...common, kind: 'mean', source, value, window, capping, cuped: form.cuped, format: form.format as 'currency' | 'number' | 'days' }
    }
  }
}

function rowOf(f: MetricFilter): FilterRow {
  const target: FilterTarget = f.on === 'property' ? 'property' : f.field
  const path = f.on === 'property' ? f.path : ''
  const text = (v: string | number) => (typeof v === 'string' && target === 'property' && Number.isFinite(Number(v)) && v.trim() !== '' ? `"${v}"` : String(v))
  if ('values' in f) return { target, path, op: f.op, value: f.values.map(text).join(', ') }
  if ('value' in f) return { target, path, op: f.op, value: text(f.value) }
  return { target, path, op: 'exists', value: '' }
}

/** A saved version in the form, to start its next version from. */
export function formFromMetric(m: CustomMetric): MetricForm {
  const form: MetricForm = {
    ...blankMetricForm(),
    key: m.key,
    name: m.name,
    description: m.description,
    owner: m.owner,
    tags: m.tags.join(', '),
    kind: m.kind,
    direction: m.direction,
    format: m.format,
  }
  if (m.kind === 'ratio') return { ...form, numerator: m.numerator, denominator: m.denominator }
  Object.assign(form, {
    eventTypes: [...m.source.eventTypes],
    filters: m.source.filters.map(rowOf),
    startDays: m.window.startDays,
    endDays: m.window.endDays,
  })
  if (m.kind === 'proportion') form.minEvents = m.minEvents
  if (m.kind === 'mean' || m.kind === 'quantile') {
    form.valueOf = m.value.of
    form.valuePath = m.value.of === 'property' ? m.value.path : ''
  }
  if (m.kind === 'quantile') form.quantilePct = +(m.quantile * 100).toFixed(8)
  if (m.kind === 'mean') {
    form.cuped = m.cuped
    form.capping = m.capping.type
    if (m.capping.type === 'absolute') form.capValue = m.capping.value
    if (m.capping.type === 'percentile') form.capPercentile = +(m.capping.percentile * 100).toFixed(8)
  }
  return form
}

/** The field paths of the inputs on screen (and the groups that hold them), for placing the API's messages. */
export function metricFormFields(form: MetricForm): string[] {
  const fields = ['key', 'name', 'description', 'owner', 'tags', 'kind', 'direction', 'format']
  if (form.kind === 'ratio') return [...fields, 'numerator', 'denominator']
  fields.push('source.eventTypes', 'source.filters', 'window.startDays', 'window.endDays')
  form.eventTypes.forEach((_, i) => fields.push(`source.eventTypes.${i}`))
  form.filters.forEach((_, i) => fields.push(`source.filters.${i}.target`, `source.filters.${i}.path`, `source.filters.${i}.op`, `source.filters.${i}.value`))
  if (usesValue(form.kind)) fields.push('value.of', 'value.path')
  if (form.kind === 'proportion') fields.push('minEvents')
  if (form.kind === 'quantile') fields.push('quantile')
  if (form.kind === 'mean') fields.push('capping.type', 'capping.value', 'capping.percentile', 'cuped')
  return fields
}

/** API paths that name a part of an input rather than the input: a filter's list, its target, a whole group. */
const ALIASES: Array<[RegExp, string]> = [
  [/^source\.filters\.(\d+)\.values(\.\d+)?$/, 'source.filters.$1.value'],
  [/^source\.filters\.(\d+)\.(on|field)$/, 'source.filters.$1.target'],
  [/^source$/, 'source.eventTypes'],
  [/^value$/, 'value.of'],
  [/^window$/, 'window.endDays'],
  [/^capping$/, 'capping.type'],
  [/^quantile\..*$/, 'quantile'],
  [/^tags\.\d+$/, 'tags'],
]

/**
 * The input an API error path belongs to, or null: `source.filters.1.values.0` → `source.filters.1.value`; a
 * preview's `definition.window.endDays` → `window.endDays`; a ratio part sent inline (`numerator.source…`) → its
 * picker. Unknown deeper paths fall back to the nearest input or group they lie in.
 */
export function metricErrorTarget(field: string | undefined, known: string[]): string | null {
  if (!field) return null
  let f = field.replace(/^definition\./, '')
  if (/^(numerator|denominator)\./.test(f)) f = f.split('.')[0]
  for (const [pattern, to] of ALIASES) f = f.replace(pattern, to)
  const set = new Set(known)
  const parts = f.split('.')
  while (parts.length) {
    const candidate = parts.join('.')
    if (set.has(candidate)) return candidate
    parts.pop()
  }
  return null
}

const LABELS: Record<string, string> = {
  key: 'Key',
  name: 'Name',
  description: 'Description',
  owner: 'Owner',
  tags: 'Tags',
  kind: 'Kind',
  direction: 'Direction',
  format: 'Format',
  numerator: 'Numerator',
  denominator: 'Denominator',
  'source.eventTypes': 'Event types',
  'source.filters': 'Filters',
  'value.of': 'Value',
  'value.path': 'Value property',
  'window.startDays': 'Window start',
  'window.endDays': 'Window end',
  'capping.type': 'Capping',
  'capping.value': 'Cap',
  'capping.percentile': 'Cap percentile',
  cuped: 'CUPED',
  minEvents: 'Minimum events',
  quantile: 'Quantile',
}

/** A field path in people's words, for the error summary: `source.filters.0.path` → "Filter 1 property". */
export function metricFieldLabel(field: string): string {
  if (LABELS[field]) return LABELS[field]
  const type = /^source\.eventTypes\.(\d+)$/.exec(field)
  if (type) return `Event type ${Number(type[1]) + 1}`
  const filter = /^source\.filters\.(\d+)\.(\w+)$/.exec(field)
  if (filter) return `Filter ${Number(filter[1]) + 1} ${{ target: 'target', path: 'property', op: 'operator', value: 'value' }[filter[2]] ?? filter[2]}`
  return field
}
