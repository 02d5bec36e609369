/**
 * A segment's rule: a targeting condition (api/assignment/targeting.ts, GrowthBook's `evalCondition`) restricted
 * to what a customer profile holds — the customer features (features.ts) and `rfm_group` (rfm.ts) — and to the
 * operators that make sense on them. `ruleProblems` lists every problem at once, each named by its path inside
 * the rule (`$and[1].recency_dayz`), so a form can show them all beside their inputs.
 */
import type { Condition, ConditionError } from '../assignment/targeting.ts'
import { FEATURES, type FeatureName } from './features.ts'
import { RFM_GROUPS } from './rfm.ts'

/** What a rule may compare: every feature, and the customer's RFM group. */
export type SegmentField = FeatureName | 'rfm_group'

type FieldType = { kind: 'number'; nullable: boolean } | { kind: 'category'; values: readonly string[] }

export const SEGMENT_FIELDS: Record<SegmentField, FieldType> = {
  ...(FEATURES as Record<FeatureName, FieldType>),
  rfm_group: { kind: 'category', values: RFM_GROUPS },
}

/** Operators on one field, and operators combining whole conditions. */
export const RULE_FIELD_OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$not'] as const
export const RULE_LOGICAL_OPERATORS = ['$and', '$or', '$nor', '$not'] as const

/** Bounds that keep a rule something a person wrote: values of one `$in`, conditions in all, and nesting. */
export const RULE_LIMITS = { inValues: 100, conditions: 200, depth: 8 } as const

const COMPARISONS = new Set(['$gt', '$gte', '$lt', '$lte'])
const supported = `supported: ${[...RULE_FIELD_OPERATORS, '$and', '$or', '$nor'].join(' ')}`

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`)
/** A value as JSON in a message, cut short: messages quote what the client sent, and a key can be long. */
function quote(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v)
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}

/**
 * Every problem of a segment rule, or an empty list when it is valid. Paths are relative to the rule.
 *
 * @example
 * ruleProblems({ $and: [{ lapse_stage: 'lapsed' }, { recency_dayz: { $gt: 60 } }] })
 * // [{ path: '$and[1].recency_dayz', message: 'unknown feature "recency_dayz"; …' }]
 * ruleProblems({ orders_90d: { $gte: 'two' } }) // [{ path: 'orders_90d.$gte', message: 'must be a number (orders_90d is a number)' }]
 */
export function ruleProblems(rule: unknown): ConditionError[] {
  const problems: ConditionError[] = []
  const budget = { conditions: 0 }
  if (isObject(rule) && Object.keys(rule).length === 0) return [{ path: '', message: 'must name at least one feature (an empty rule would match everyone)' }]
  checkCondition(rule, '', 0, problems, budget)
  return problems
}

function checkCondition(condition: unknown, path: string, depth: number, problems: ConditionError[], budget: { conditions: number }): void {
  if (!isObject(condition)) {
    problems.push({ path, message: 'must be a condition: an object of features and operators' })
    return
  }
  if (depth > RULE_LIMITS.depth) {
    problems.push({ path, message: `is nested more than ${RULE_LIMITS.depth} levels deep` })
    return
  }
  for (const key of Object.keys(condition)) {
    const value = condition[key]
    const at = join(path, key)
    if (++budget.conditions > RULE_LIMITS.conditions) {
      problems.push({ path: at, message: `a rule may hold at most ${RULE_LIMITS.conditions} conditions` })
      return
    }
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value) || value.length === 0) {
        problems.push({ path: at, message: `${key} expects a non-empty list of conditions` })
        continue
      }
      value.forEach((c, i) => checkCondition(c, `${at}[${i}]`, depth + 1, problems, budget))
    } else if (key === '$not') {
      checkCondition(value, at, depth + 1, problems, budget)
    } else if (key.startsWith('$')) {
      problems.push({ path: at, message: `unsupported operator ${quote(key)}; ${supported}` })
    } else if (!Object.hasOwn(SEGMENT_FIELDS, key)) {
      problems.push({ path: at, message: `unknown feature ${quote(key)}; features: ${Object.keys(SEGMENT_FIELDS).join(', ')}` })
    } else {
      checkTest(key as SegmentField, value, at, problems)
    }
  }
}

/** A field's test: a value it must equal, or an object of operators. */
function checkTest(field: SegmentField, test: unknown, path: string, problems: ConditionError[]): void {
  if (!isObject(test)) {
    checkValue(field, test, path, problems)
    return
  }
  const keys = Object.keys(test)
  if (keys.length === 0 || keys.some((k) => !k.startsWith('$'))) {
    problems.push({ path, message: 'must be a value or an object of operators such as { "$gte": 30 }' })
    return
  }
  const type = SEGMENT_FIELDS[field]
  for (const op of keys) {
    const arg = test[op]
    const at = join(path, op)
    if (!(RULE_FIELD_OPERATORS as readonly string[]).includes(op)) {
      problems.push({ path: at, message: `unsupported operator ${quote(op)}; ${supported}` })
    } else if (op === '$eq' || op === '$ne') {
      checkValue(field, arg, at, problems)
    } else if (COMPARISONS.has(op)) {
      if (type.kind === 'category') problems.push({ path: at, message: `${field} is a category: compare it with $eq, $ne, $in or $nin` })
      else if (typeof arg !== 'number' || !Number.isFinite(arg)) problems.push({ path: at, message: `must be a number (${field} is a number)` })
    } else if (op === '$in' || op === '$nin') {
      if (!Array.isArray(arg) || arg.length === 0) problems.push({ path: at, message: `${op} expects a non-empty list of values` })
      else if (arg.length > RULE_LIMITS.inValues) problems.push({ path: at, message: `must have at most ${RULE_LIMITS.inValues} values` })
      else arg.forEach((v, i) => checkValue(field, v, `${at}[${i}]`, problems))
    } else if (op === '$exists') {
      if (typeof arg !== 'boolean') problems.push({ path: at, message: '$exists expects true or false' })
    } else {
      checkTest(field, arg, at, problems)
    }
  }
}

/** A value the field is compared with for equality: a number for a number feature, one of its values for a category. */
function checkValue(field: SegmentField, value: unknown, path: string, problems: ConditionError[]): void {
  const type = SEGMENT_FIELDS[field]
  if (type.kind === 'number') {
    if (value === null && type.nullable) return
    if (typeof value !== 'number' || !Number.isFinite(value))
      problems.push({ path, message: `must be a number${type.nullable ? ' or null' : ''} (${field} is a number), not ${quote(value)}` })
  } else if (typeof value !== 'string' || !type.values.includes(value)) {
    problems.push({ path, message: `must be one of: ${type.values.join(', ')} (not ${quote(value)})` })
  }
}

export type { Condition }
