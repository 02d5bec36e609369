import { METRIC_LIMITS, METRIC_NUMBER_LIMITS, PROPERTY_PATH_WORDS, type Bound } from '../../../api/contract/limits.ts'
import { numberProblem, textProblem } from './experimentChecks.ts'
import { NUMERIC_FIELDS } from './metricCatalogue.ts'
import { usesSource, usesValue, type MetricForm } from './metricForm.ts'

/**
 * The metric form's own checks, beside each field as people type and before anything is sent: what is missing,
 * what is not a number, what cannot mean anything (a window that ends before it starts, a 0th percentile), and
 * what is outside the schema's bounds (api/contract/limits.ts: the longest window, the most filters, the deepest
 * property path), in the API's words (api/http/messages.ts). The key's pattern stays the API's to enforce: its
 * answer lists every problem at once and the form shows each beside its field.
 */

/** Long enough for any key a person types; the API's pattern holds the real limit. */
const TEXT = Number.MAX_SAFE_INTEGER

/** What the API says of a list longer than its bound ("must have at most 10 items"), or null. */
const countProblem = (count: number, max: number) => (count > max ? `must have at most ${max.toLocaleString('en-US')} items` : null)

/** A property path that is empty or deeper than the API reads, or null. */
function pathProblem(path: string): string | null {
  return textProblem(path, TEXT) ?? (path.trim().split('.').length > METRIC_LIMITS.pathDepth ? PROPERTY_PATH_WORDS : null)
}

/** A percentile typed as 99 for the 99th, bounded as the API bounds its fraction and told as the API's answer is. */
function percentileProblem(pct: number | null, bound: Bound): string | null {
  const share = pct === null || !Number.isFinite(pct) ? pct : +(pct / 100).toFixed(10)
  const problem = numberProblem(share, bound)
  return problem && percentileMessage(problem)
}

/** Every problem the form sees by itself, by field path (the inputs' API paths); only inputs on screen are checked. */
export function checkMetric(form: MetricForm): Record<string, string> {
  const problems: Record<string, string> = {}
  const add = (field: string, message: string | null) => {
    if (message && !problems[field]) problems[field] = message
  }
  add('key', textProblem(form.key, TEXT))
  add('name', textProblem(form.name, METRIC_LIMITS.name))
  add('description', textProblem(form.description, METRIC_LIMITS.description, false))
  add('owner', textProblem(form.owner, METRIC_LIMITS.owner, false))
  const tags = form.tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
  add('tags', countProblem(tags.length, METRIC_LIMITS.tags))
  if (tags.some((t) => t.length > METRIC_LIMITS.tagLength)) add('tags', `must be at most ${METRIC_LIMITS.tagLength} characters`)
  if (form.kind === 'ratio') {
    add('numerator', form.numerator ? null : 'choose a mean metric')
    add('denominator', form.denominator ? null : 'choose a mean metric')
    if (form.numerator && form.numerator === form.denominator) add('denominator', 'must differ from the numerator')
    return problems
  }
  if (usesSource(form.kind)) {
    if (!form.eventTypes.some((t) => t.trim())) add('source.eventTypes', 'add at least one event type')
    add('source.eventTypes', countProblem(form.eventTypes.filter((t) => t.trim()).length, METRIC_LIMITS.eventTypes))
    form.eventTypes.forEach((t, i) => {
      if (!t.trim() && form.eventTypes.length > 1) add(`source.eventTypes.${i}`, 'must not be empty (or remove it)')
    })
    add('source.filters', countProblem(form.filters.length, METRIC_LIMITS.filters))
    form.filters.forEach((row, i) => {
      const at = `source.filters.${i}`
      if (row.target === 'property') add(`${at}.path`, pathProblem(row.path))
      if (row.op === 'exists') return
      const numeric = ['lt', 'lte', 'gt', 'gte'].includes(row.op) || NUMERIC_FIELDS.includes(row.target as never)
      const list = row.op === 'in' || row.op === 'not_in'
      const values = list ? row.value.split(',').map((v) => v.trim()) : [row.value.trim()]
      if (!values.some(Boolean)) add(`${at}.value`, list ? 'list at least one value' : 'is required')
      else if (numeric && values.some((v) => v && !Number.isFinite(Number(v)))) add(`${at}.value`, 'must be a number')
      else if (list) add(`${at}.value`, countProblem(values.filter(Boolean).length, METRIC_LIMITS.inValues))
      // Quotes only force text ("\"42\""): the API counts what is inside them.
      if (!numeric && values.some((v) => v.replace(/^"(.*)"$/, '$1').length > METRIC_LIMITS.stringValue))
        add(`${at}.value`, `must be at most ${METRIC_LIMITS.stringValue} characters`)
    })
  }
  if (usesValue(form.kind) && form.valueOf === 'property') add('value.path', pathProblem(form.valuePath))
  add('window.startDays', numberProblem(form.startDays, METRIC_NUMBER_LIMITS['window.startDays'], {}, false))
  add('window.endDays', numberProblem(form.endDays, METRIC_NUMBER_LIMITS['window.endDays']))
  if (!problems['window.startDays'] && !problems['window.endDays'] && (form.endDays as number) <= (form.startDays ?? 0))
    add('window.endDays', 'must be after the start day')
  if (form.kind === 'proportion') add('minEvents', numberProblem(form.minEvents, METRIC_NUMBER_LIMITS.minEvents, { counts: 'events' }))
  if (form.kind === 'quantile') add('quantile', percentileProblem(form.quantilePct, METRIC_NUMBER_LIMITS.quantile))
  if (form.kind === 'mean' && form.capping === 'absolute') add('capping.value', numberProblem(form.capValue, METRIC_NUMBER_LIMITS['capping.value']))
  if (form.kind === 'mean' && form.capping === 'percentile')
    add('capping.percentile', percentileProblem(form.capPercentile, METRIC_NUMBER_LIMITS['capping.percentile']))
  return problems
}

/**
 * An API message about a field the form types as a percentile (the API speaks in fractions):
 * `percentileMessage('must be more than 0.5')` → "must be more than the 50th percentile".
 */
export function percentileMessage(message: string): string {
  return message.replace(/(-?\d+(?:\.\d+)?)(?![\d.])/g, (x) => `the ${+(Number(x) * 100).toFixed(6)}th percentile`)
}
