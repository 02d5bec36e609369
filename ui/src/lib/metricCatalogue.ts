/**
 * The metric catalogue as the dashboard reads it (wire types from api/contract, type-only): the catalogue's
 * entries, a definition in words for the metric page, and the preview's answer. docs/metrics.md says what each
 * part computes; these are its words, short enough for a table cell.
 */
import type {
  BuiltInMetric,
  CatalogueMetric,
  CatalogueMetricKind,
  CustomMetric,
  MetricCapping,
  MetricComparison,
  MetricDefinitionInput,
  MetricDraft,
  MetricFilter,
  MetricPreview,
  MetricSource,
  MetricValue,
  MetricWindow,
} from '../../../api/contract/index.ts'
import { verdict, type Verdict } from './significance.ts'
import { isBuiltInMetric, METRICS, type MetricInfo } from './metrics.ts'

export type {
  BuiltInMetric,
  CatalogueMetric,
  CatalogueMetricKind,
  CustomMetric,
  MetricCapping,
  MetricDefinitionInput,
  MetricDraft,
  MetricFilter,
  MetricPreview,
  MetricSource,
  MetricValue,
  MetricWindow,
}

export type CatalogueFormat = CatalogueMetric['format']
export type FilterOp = MetricFilter['op']
export type EventField = Extract<MetricFilter, { on: 'field' }>['field']

export const KIND_LABELS: Record<CatalogueMetricKind, string> = {
  proportion: 'Proportion',
  retention: 'Retention',
  mean: 'Mean',
  ratio: 'Ratio',
  quantile: 'Quantile',
  time_to_event: 'Time to event',
}

/** What each kind measures, for the form's kind picker. */
export const KIND_HINTS: Record<CatalogueMetricKind, string> = {
  proportion: 'Share of customers with at least a number of qualifying events in the window.',
  retention: 'Share of customers with any qualifying event in a later window, such as days 31–90.',
  mean: 'Per-customer sum (or count) of a value over qualifying events, averaged over customers.',
  ratio: 'Sum of one mean metric over the sum of another, across customers (delta method).',
  quantile:
    'A quantile of the value over qualifying events, such as the median order value, with an interval that counts customers, not orders, as independent.',
  time_to_event: 'Days from first exposure to the first qualifying event (Kaplan–Meier).',
}

export const FORMAT_LABELS: Record<CatalogueFormat, string> = { percent: 'Percent', currency: 'Currency', number: 'Number', days: 'Days' }

/** The formats the schema allows for each kind; the first is its default. */
export const FORMATS_BY_KIND: Record<CatalogueMetricKind, CatalogueFormat[]> = {
  proportion: ['percent'],
  retention: ['percent'],
  mean: ['number', 'currency', 'days'],
  ratio: ['number', 'currency', 'percent', 'days'],
  quantile: ['currency', 'number', 'days'],
  time_to_event: ['days'],
}

/** Event types the platform itself receives; any other lowercase type can be typed. */
export const EVENT_TYPE_SUGGESTIONS = ['purchase', 'refund', 'offer_redeemed', 'unsubscribe', 'support_ticket', 'email_open', 'email_click', 'app_open']

export const FIELD_LABELS: Record<EventField, string> = {
  revenue: 'revenue',
  margin: 'margin',
  cost: 'cost',
  order_id: 'order id',
  experiment_id: 'experiment id',
  arm: 'arm',
}
export const NUMERIC_FIELDS: EventField[] = ['revenue', 'margin', 'cost']

export const OP_WORDS: Record<FilterOp, string> = {
  eq: 'equals',
  neq: 'does not equal',
  in: 'is one of',
  not_in: 'is none of',
  lt: 'less than',
  lte: 'at most',
  gt: 'greater than',
  gte: 'at least',
  exists: 'exists',
}
const OP_SYMBOLS: Record<FilterOp, string> = { eq: '=', neq: '≠', in: 'in', not_in: 'not in', lt: '<', lte: '≤', gt: '>', gte: '≥', exists: 'exists' }

/**
 * The operators a filter's target takes, as the schema allows them: text fields compare by (in)equality only, and
 * `exists` applies to properties and margin (the other fields are always present).
 */
export function operatorsFor(target: 'property' | EventField): FilterOp[] {
  if (target === 'property' || target === 'margin') return ['eq', 'neq', 'in', 'not_in', 'lt', 'lte', 'gt', 'gte', 'exists']
  if (NUMERIC_FIELDS.includes(target)) return ['eq', 'neq', 'in', 'not_in', 'lt', 'lte', 'gt', 'gte']
  return ['eq', 'neq', 'in', 'not_in']
}

const shown = (v: string | number) => (typeof v === 'number' ? String(v) : JSON.stringify(v))

/** One filter in words: `category = "shoes"`, `revenue ≥ 50`, `channel exists`. */
export function describeFilter(f: MetricFilter): string {
  const target = f.on === 'property' ? f.path : f.field
  if ('values' in f) return `${target} ${OP_SYMBOLS[f.op]} [${f.values.map(shown).join(', ')}]`
  if ('value' in f) return `${target} ${OP_SYMBOLS[f.op]} ${shown(f.value)}`
  return `${target} exists`
}

/** "purchase or refund events where category = "shoes" and revenue ≥ 50". */
export function describeSource(s: Pick<MetricSource, 'eventTypes'> & { filters?: MetricFilter[] }): string {
  const types = s.eventTypes.length > 1 ? `${s.eventTypes.slice(0, -1).join(', ')} or ${s.eventTypes.at(-1)}` : (s.eventTypes[0] ?? '—')
  const filters = s.filters ?? []
  return `${types} events${filters.length ? ` where ${filters.map(describeFilter).join(' and ')}` : ''}`
}

/** "days 0–30 after first exposure". */
export const describeWindow = (w: Partial<MetricWindow> & { endDays: number }) => `days ${w.startDays ?? 0}–${w.endDays} after first exposure`

export function describeValue(v: MetricValue): string {
  if (v.of === 'count') return 'the number of events'
  if (v.of === 'property') return `the property ${v.path} (0 when missing)`
  return `the event’s ${v.of}`
}

export function describeCapping(c: MetricCapping | undefined): string {
  if (!c || c.type === 'none') return 'none'
  if (c.type === 'absolute') return `at ${c.value} per customer`
  return `at the ${+(c.percentile * 100).toFixed(4)}th percentile of all customers’ values`
}

export const directionWords = (d: 'higher' | 'lower') => (d === 'lower' ? 'Lower is better' : 'Higher is better')

/** A saved version as the definition that made it (what a new version or a preview sends), without what the store added. */
export function definitionOf(m: CustomMetric): MetricDefinitionInput {
  const { version: _v, builtIn: _b, archived: _a, createdAt: _c, createdBy: _by, ...definition } = m
  return definition as MetricDefinitionInput
}

/**
 * What the experiment form needs to know of a metric chosen as primary or guardrail: a built-in's facts, or a
 * catalogue metric's, read the way reports read them (a retention is a rate, a time to event a survival curve).
 */
export function metricInfo(key: string, catalogue: CatalogueMetric[] = []): MetricInfo {
  if (isBuiltInMetric(key)) return METRICS[key]
  const m = catalogue.find((x) => x.key === key)
  if (!m) return { label: key, kind: 'mean', unit: 'count', description: 'a metric of the catalogue' }
  const kind: MetricInfo['kind'] = m.kind === 'proportion' || m.kind === 'retention' ? 'proportion' : m.kind === 'time_to_event' ? 'survival' : m.kind
  const unit: MetricInfo['unit'] = m.format === 'percent' ? 'rate' : m.format === 'currency' ? 'currency' : m.format === 'days' ? 'days' : 'count'
  return { label: m.name, kind, unit, description: m.description || `${KIND_LABELS[m.kind].toLowerCase()} from the catalogue` }
}

/** Mean metrics a ratio may divide (the schema's rule), in catalogue order. */
export const meanMetrics = (catalogue: CatalogueMetric[]) => catalogue.filter((m) => m.kind === 'mean' && !m.archived)

/**
 * The catalogue metrics an experiment can report beside the built-ins (the API's rule, api/experiments/
 * catalogue-refs.ts): analysts' own live metrics, without ratios over built-in metrics, which reports
 * cannot compute yet.
 */
export function reportableMetrics(catalogue: CatalogueMetric[]): CustomMetric[] {
  const builtIn = new Set(catalogue.filter((m) => m.builtIn).map((m) => m.key))
  return catalogue.filter(
    (m): m is CustomMetric => !m.builtIn && !m.archived && !(m.kind === 'ratio' && (builtIn.has(m.numerator) || builtIn.has(m.denominator))),
  )
}

/** POST /v1/metrics/preview's body (the answer is the contract's MetricPreview). */
export interface MetricPreviewRequest {
  experimentId: string
  definition: MetricDraft
  numerator?: MetricDraft
  denominator?: MetricDraft
  asOf?: string
  include?: 'immature'
}

/** A preview as the page shows it: the answer, and how the definition it was made of reads (name, format, direction). */
export interface PreviewResult {
  preview: MetricPreview
  name: string
  format: CatalogueFormat
  higherIsBetter: boolean
}

/**
 * A preview comparison's verdict: the report's (significance.ts), and never one its interval contradicts. A
 * significant verdict whose printed interval still includes 0 (or points the other way) is shown inconclusive.
 */
export function previewVerdict(c: MetricComparison | undefined, higherIsBetter: boolean): Verdict {
  const v = verdict(c, higherIsBetter)
  if (!c || v.tone === 'neutral' || !c.ci || c.estimate === null) return v
  const [lo, hi] = c.ci
  const agrees = c.estimate > 0 ? lo > 0 : hi < 0
  return agrees ? v : verdict({ ...c, significant: false }, higherIsBetter)
}
