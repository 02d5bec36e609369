import { numberProblem, textProblem } from './experimentChecks.ts'
import { NUMERIC_FIELDS } from './metricCatalogue.ts'
import { usesSource, usesValue, type MetricForm } from './metricForm.ts'

/**
 * The metric form's own checks, beside each field as people type and before anything is sent: what is missing,
 * what is not a number, and what cannot mean anything (a window that ends before it starts, a 0th percentile).
 * The schema's own limits (longest window, most filters, deepest property path, the key's pattern) are the API's
 * to enforce: its answer lists every problem at once and the form shows each beside its field, in its words.
 */

const PERCENTILE = { suffix: 'th' }
/** Long enough for any name a person types; the API holds the real limit. */
const TEXT = Number.MAX_SAFE_INTEGER

/** Every problem the form sees by itself, by field path (the inputs' API paths); only inputs on screen are checked. */
export function checkMetric(form: MetricForm): Record<string, string> {
  const problems: Record<string, string> = {}
  const add = (field: string, message: string | null) => {
    if (message && !problems[field]) problems[field] = message
  }
  add('key', textProblem(form.key, TEXT))
  add('name', textProblem(form.name, TEXT))
  if (form.kind === 'ratio') {
    add('numerator', form.numerator ? null : 'choose a mean metric')
    add('denominator', form.denominator ? null : 'choose a mean metric')
    if (form.numerator && form.numerator === form.denominator) add('denominator', 'must differ from the numerator')
    return problems
  }
  if (usesSource(form.kind)) {
    if (!form.eventTypes.some((t) => t.trim())) add('source.eventTypes', 'add at least one event type')
    form.eventTypes.forEach((t, i) => {
      if (!t.trim() && form.eventTypes.length > 1) add(`source.eventTypes.${i}`, 'must not be empty (or remove it)')
    })
    form.filters.forEach((row, i) => {
      const at = `source.filters.${i}`
      if (row.target === 'property') add(`${at}.path`, textProblem(row.path, TEXT))
      if (row.op === 'exists') return
      const numeric = ['lt', 'lte', 'gt', 'gte'].includes(row.op) || NUMERIC_FIELDS.includes(row.target as never)
      const values = row.op === 'in' || row.op === 'not_in' ? row.value.split(',').map((v) => v.trim()) : [row.value.trim()]
      if (!values.some(Boolean)) add(`${at}.value`, row.op === 'in' || row.op === 'not_in' ? 'list at least one value' : 'is required')
      else if (numeric && values.some((v) => v && !Number.isFinite(Number(v)))) add(`${at}.value`, 'must be a number')
    })
  }
  if (usesValue(form.kind) && form.valueOf === 'property') add('value.path', textProblem(form.valuePath, TEXT))
  add('window.startDays', numberProblem(form.startDays, { min: 0 }, { suffix: ' days', one: ' day' }, false))
  add('window.endDays', numberProblem(form.endDays, { min: 0, minExclusive: true }, { suffix: ' days', one: ' day' }))
  if (!problems['window.startDays'] && !problems['window.endDays'] && (form.endDays as number) <= (form.startDays ?? 0))
    add('window.endDays', 'must be after the start day')
  if (form.kind === 'proportion') add('minEvents', numberProblem(form.minEvents, { min: 1, integer: true }, { counts: 'events' }))
  if (form.kind === 'quantile') add('quantile', numberProblem(form.quantilePct, { min: 0, max: 100, minExclusive: true, maxExclusive: true }, PERCENTILE))
  if (form.kind === 'mean' && form.capping === 'absolute') add('capping.value', numberProblem(form.capValue, { min: 0, minExclusive: true }))
  if (form.kind === 'mean' && form.capping === 'percentile')
    add('capping.percentile', numberProblem(form.capPercentile, { min: 0, max: 100, minExclusive: true, maxExclusive: true }, PERCENTILE))
  return problems
}

/**
 * An API message about a field the form types as a percentile (the API speaks in fractions):
 * `percentileMessage('must be more than 0.5')` → "must be more than the 50th percentile".
 */
export function percentileMessage(message: string): string {
  return message.replace(/(-?\d+(?:\.\d+)?)(?![\d.])/g, (x) => `the ${+(Number(x) * 100).toFixed(6)}th percentile`)
}
