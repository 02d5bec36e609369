/**
 * The segment form's rule builder and the customer profile's formatting. The features mirror the server's list
 * (api/segments/features.ts, checked equal by test/unit/segments/membership.test.ts): the dashboard imports only
 * wire types, so the list is written out here. Rows are combined with `$and`, as in the targeting builder.
 */
import type { CustomerFeatures, SegmentDraft, SegmentField } from '../../../api/contract/index.ts'
import { currency, days, decimal, DASH, integer, percent } from './format.ts'

export type FeatureOption =
  | { name: SegmentField; label: string; kind: 'number'; unit: 'days' | 'orders' | 'currency' | 'share'; nullable: boolean }
  | { name: SegmentField; label: string; kind: 'category'; values: string[] }

export const RFM_GROUP_OPTIONS = [
  'champions',
  'loyal',
  'new_customers',
  'potential_loyalists',
  'cant_lose_them',
  'at_risk',
  'hibernating',
  'needs_attention',
  'no_purchases',
]

export const FEATURE_OPTIONS: FeatureOption[] = [
  { name: 'recency_days', label: 'Recency', kind: 'number', unit: 'days', nullable: true },
  { name: 'orders_90d', label: 'Orders (90 days)', kind: 'number', unit: 'orders', nullable: false },
  { name: 'orders_365d', label: 'Orders (365 days)', kind: 'number', unit: 'orders', nullable: false },
  { name: 'monetary_365d', label: 'Net revenue (365 days)', kind: 'number', unit: 'currency', nullable: false },
  { name: 'aov_365d', label: 'Average order value', kind: 'number', unit: 'currency', nullable: true },
  { name: 'tenure_days', label: 'Tenure', kind: 'number', unit: 'days', nullable: true },
  { name: 'inter_purchase_days', label: 'Inter-purchase interval', kind: 'number', unit: 'days', nullable: true },
  { name: 'discount_affinity', label: 'Discount affinity', kind: 'number', unit: 'share', nullable: true },
  { name: 'last_offer_response', label: 'Last offer response', kind: 'category', values: ['redeemed', 'ignored', 'none'] },
  { name: 'lapse_stage', label: 'Lapse stage', kind: 'category', values: ['active', 'slipping', 'lapsed', 'dormant', 'none'] },
  { name: 'rfm_group', label: 'RFM group', kind: 'category', values: RFM_GROUP_OPTIONS },
]

const byName = new Map(FEATURE_OPTIONS.map((f) => [f.name, f]))
export const featureOption = (name: string) => byName.get(name as SegmentField)

export const RULE_OPERATORS = {
  $eq: 'equals',
  $ne: 'does not equal',
  $gt: 'greater than',
  $gte: 'at least',
  $lt: 'less than',
  $lte: 'at most',
  $in: 'is one of',
  $nin: 'is none of',
  $exists: 'is known',
} as const
export type RuleOperator = keyof typeof RULE_OPERATORS

/** The operators a feature takes: categories compare by equality; `$exists` only where a feature may be unknown. */
export function operatorsFor(feature: FeatureOption | undefined): RuleOperator[] {
  if (!feature || feature.kind === 'category') return ['$eq', '$ne', '$in', '$nin']
  const ops: RuleOperator[] = ['$gte', '$gt', '$lte', '$lt', '$eq', '$ne', '$in', '$nin']
  return feature.nullable ? [...ops, '$exists'] : ops
}

export interface RuleRow {
  feature: string
  operator: RuleOperator
  /** As typed: lists are comma-separated; a share is a percentage (50 for 50%); `$exists` takes "true" or "false". */
  value: string
}

export const blankRow = (): RuleRow => ({ feature: 'lapse_stage', operator: '$eq', value: 'lapsed' })

export interface SegmentForm {
  key: string
  name: string
  description: string
  owner: string
  tags: string
  rows: RuleRow[]
}

export const blankSegmentForm = (): SegmentForm => ({ key: '', name: '', description: '', owner: '', tags: '', rows: [blankRow()] })

const isList = (op: RuleOperator) => op === '$in' || op === '$nin'
const split = (text: string) =>
  text
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')

/** A typed number in the feature's units (a share as a percentage) as the API reads it; NaN when it is not one. */
function toNumber(text: string, feature: FeatureOption & { kind: 'number' }): number {
  const t = text.trim().replace(/%$/, '')
  const n = t === '' ? NaN : Number(t)
  return feature.unit === 'share' ? n / 100 : n
}

function operand(row: RuleRow): unknown {
  const feature = featureOption(row.feature)
  if (row.operator === '$exists') return row.value.trim() !== 'false'
  if (!feature || feature.kind === 'category') return isList(row.operator) ? split(row.value) : row.value.trim()
  return isList(row.operator) ? split(row.value).map((v) => toNumber(v, feature)) : toNumber(row.value, feature)
}

/** The rule the rows mean: `{ $and: [{ feature: { op: value } }, …] }`. */
export function rowsToRule(rows: RuleRow[]): Record<string, unknown> {
  return { $and: rows.map((row) => ({ [row.feature]: { [row.operator]: operand(row) } })) }
}

/** The body POST /v1/segments takes. */
export function toSegmentDraft(form: SegmentForm): SegmentDraft {
  return {
    key: form.key.trim(),
    name: form.name.trim(),
    description: form.description.trim(),
    owner: form.owner.trim(),
    tags: split(form.tags),
    rule: rowsToRule(form.rows),
  }
}

/**
 * What the form itself can tell before sending: each problem by the form field it belongs to (`rows.1.value`).
 * The API checks again and its words take precedence when it answers.
 */
export function checkSegmentForm(form: SegmentForm): Record<string, string> {
  const problems: Record<string, string> = {}
  if (!/^[a-z][a-z0-9_]{1,63}$/.test(form.key.trim()))
    problems.key = 'must be 2–64 characters: lowercase letters, digits and underscores, starting with a letter'
  if (!form.name.trim()) problems.name = 'must not be empty'
  if (!form.rows.length) problems.rows = 'add at least one condition'
  form.rows.forEach((row, i) => {
    const feature = featureOption(row.feature)
    const at = `rows.${i}.value`
    if (!feature) {
      problems[`rows.${i}.feature`] = 'choose a feature'
      return
    }
    if (row.operator === '$exists') return
    const values = isList(row.operator) ? split(row.value) : [row.value.trim()]
    if (!values.length || values.some((v) => v === '')) {
      problems[at] = isList(row.operator) ? 'enter at least one value, separated by commas' : 'enter a value'
      return
    }
    if (feature.kind === 'number') {
      const bad = values.find((v) => !Number.isFinite(toNumber(v, feature)))
      if (bad !== undefined) problems[at] = `“${bad}” is not a number${feature.unit === 'share' ? ' (a percentage, e.g. 50)' : ''}`
    } else {
      const bad = values.find((v) => !feature.values.includes(v))
      if (bad !== undefined) problems[at] = `“${bad}” is not one of: ${feature.values.join(', ')}`
    }
  })
  return problems
}

/**
 * The form field an API error path names: `rule.$and[1].recency_days.$gte` → `rows.1.value`,
 * `rule.$and[1].tier` → `rows.1.feature`; other fields by their own name (`key`, `name`, `tags.0` → `tags`).
 */
export function segmentErrorTarget(field: string): string | null {
  const m = /^rule\.\$and\[(\d+)\]\.[^.$]+(.*)$/.exec(field)
  if (m) return `rows.${m[1]}.${m[2] ? 'value' : 'feature'}`
  if (field === 'rule' || field.startsWith('rule.')) return 'rows'
  const top = field.split('.')[0]
  return ['key', 'name', 'description', 'owner', 'tags'].includes(top) ? top : null
}

/** A form field as the error summary names it: `rows.1.value` → "Condition 2: value". */
export function segmentFieldLabel(field: string): string {
  const m = /^rows\.(\d+)\.(feature|value)$/.exec(field)
  if (m) return `Condition ${Number(m[1]) + 1}: ${m[2]}`
  return field === 'rows' ? 'Rule' : field.charAt(0).toUpperCase() + field.slice(1)
}

/** A feature's value for people: "12 days", "$1,234.50", "40.0%", "3 orders", "lapsed"; "—" when unknown. */
export function formatFeature(name: keyof CustomerFeatures, value: number | string | null): string {
  const feature = featureOption(name)
  if (value === null || value === undefined) return DASH
  if (typeof value === 'string' || !feature || feature.kind === 'category') return String(value).replace(/_/g, ' ')
  switch (feature.unit) {
    case 'days':
      return Number.isInteger(value) ? days(value) : `${decimal(value, 1)} days`
    case 'currency':
      return currency(value)
    case 'share':
      return percent(value)
    case 'orders':
      return `${integer(value)} ${value === 1 ? 'order' : 'orders'}`
  }
}

/** A rule in words for the list: `lapse_stage in [lapsed, dormant] and discount_affinity ≥ 0.5`. */
export function describeRule(rule: Record<string, unknown>): string {
  const symbols: Record<string, string> = { $eq: '=', $ne: '≠', $gt: '>', $gte: '≥', $lt: '<', $lte: '≤', $in: 'in', $nin: 'not in' }
  const show = (v: unknown) => (Array.isArray(v) ? `[${v.map(String).join(', ')}]` : String(v))
  const clause = (c: Record<string, unknown>): string | null => {
    const parts: string[] = []
    for (const [k, test] of Object.entries(c)) {
      if (k.startsWith('$')) return null
      if (test === null || typeof test !== 'object' || Array.isArray(test)) {
        parts.push(`${k} = ${show(test)}`)
        continue
      }
      for (const [op, v] of Object.entries(test as Record<string, unknown>)) {
        if (op === '$exists') parts.push(`${k} ${v ? 'is known' : 'is unknown'}`)
        else if (symbols[op]) parts.push(`${k} ${symbols[op]} ${show(v)}`)
        else return null
      }
    }
    return parts.join(' and ')
  }
  const keys = Object.keys(rule)
  const clauses = keys.length === 1 && Array.isArray(rule.$and) ? (rule.$and as Record<string, unknown>[]) : [rule]
  const words = clauses.map(clause)
  return words.some((w) => w === null) ? JSON.stringify(rule) : words.join(' and ')
}
