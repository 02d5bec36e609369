/**
 * A segment's rule as a ClickHouse boolean expression over the feature columns (features-sql.ts) and `rfm_group`,
 * with exactly the meaning `evalCondition` gives it in JavaScript — so a report's breakdown by segment as of first
 * exposure puts each customer where the profile and targeting would. GrowthBook's coercions are spelled out: a
 * bare number compares `Number(x)` (null reads as 0), `$eq`/`$in` are strict (null equals only null), and the
 * relational operators read null as 0. Every value is a bound parameter; field names come from SEGMENT_FIELDS.
 * The rule must have passed `ruleProblems` (rule.ts); anything else is refused here too rather than guessed.
 */
import { SEGMENT_FIELDS, type SegmentField } from './rule.ts'
import type { RfmCuts } from './rfm.ts'

/** Collects bound parameters under one prefix: `bind(3, 'Float64')` → `{seg_0:Float64}`. */
export class SqlParams {
  readonly values: Record<string, unknown> = {}
  private n = 0
  constructor(private readonly prefix = 'seg_') {}
  bind(value: unknown, type: string): string {
    const name = `${this.prefix}${this.n++}`
    this.values[name] = value
    return `{${name}:${type}}`
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * The rule as SQL. Field columns are read by their names (`recency_days`, `rfm_group`, …).
 *
 * @example
 * const p = new SqlParams()
 * ruleSql({ lapse_stage: { $in: ['lapsed', 'dormant'] }, discount_affinity: { $gte: 0.5 } }, p)
 * // "(has({seg_0:Array(String)}, lapse_stage) AND (ifNull(toFloat64(discount_affinity), 0) >= {seg_1:Float64}))"
 */
export function ruleSql(rule: unknown, params: SqlParams): string {
  if (!isObject(rule)) throw new Error('a segment rule must be an object')
  const parts: string[] = []
  for (const [key, value] of Object.entries(rule)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      const list = value as unknown[]
      if (!Array.isArray(list)) throw new Error(`${key} expects a list`)
      const inner = list.map((c) => ruleSql(c, params))
      if (key === '$and') parts.push(inner.length ? `(${inner.join(' AND ')})` : '1')
      else if (key === '$or') parts.push(inner.length ? `(${inner.join(' OR ')})` : '1')
      else parts.push(inner.length ? `NOT (${inner.join(' OR ')})` : '0')
    } else if (key === '$not') parts.push(`NOT ${ruleSql(value, params)}`)
    else if (Object.hasOwn(SEGMENT_FIELDS, key)) parts.push(testSql(key as SegmentField, value, params))
    else throw new Error(`unknown field ${JSON.stringify(key)}`)
  }
  return parts.length ? `(${parts.join(' AND ')})` : '1'
}

function testSql(field: SegmentField, test: unknown, params: SqlParams): string {
  const number = SEGMENT_FIELDS[field].kind === 'number'
  const col = number ? `toFloat64(${field})` : field
  const numberOrNull = (v: unknown) => {
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`${field} compares with numbers`)
    return v as number | null
  }
  // Strict equality (`===`): null equals only null, a number only a present equal number.
  const strictEq = (v: unknown): string => {
    if (!number) return `${field} = ${params.bind(String(v), 'String')}`
    const n = numberOrNull(v)
    return n === null ? `${col} IS NULL` : `ifNull(${col} = ${params.bind(n, 'Float64')}, 0)`
  }
  if (!isObject(test)) {
    // A bare value: evalConditionValue compares Number(x) with a number (null → 0) and x === null with null.
    if (number && typeof test === 'number') return `(ifNull(${col}, 0) = ${params.bind(numberOrNull(test), 'Float64')})`
    return `(${strictEq(test)})`
  }
  const parts: string[] = []
  for (const [op, arg] of Object.entries(test)) {
    switch (op) {
      case '$eq':
        parts.push(strictEq(arg))
        break
      case '$ne':
        parts.push(`NOT (${strictEq(arg)})`)
        break
      case '$lt':
      case '$lte':
      case '$gt':
      case '$gte': {
        if (!number) throw new Error(`${field} is a category`)
        const sign = { $lt: '<', $lte: '<=', $gt: '>', $gte: '>=' }[op]
        parts.push(`ifNull(${col}, 0) ${sign} ${params.bind(numberOrNull(arg) ?? 0, 'Float64')}`)
        break
      }
      case '$in':
      case '$nin': {
        if (!Array.isArray(arg)) throw new Error(`${op} expects a list`)
        let member: string
        if (number) {
          const values = arg.map(numberOrNull)
          const present = values.filter((v): v is number => v !== null)
          const inList = `(${col} IS NOT NULL AND has(${params.bind(present, 'Array(Float64)')}, assumeNotNull(${col})))`
          member = values.includes(null) ? `(${col} IS NULL OR ${inList})` : inList
        } else member = `has(${params.bind(arg.map(String), 'Array(String)')}, ${field})`
        parts.push(op === '$in' ? member : `NOT ${member}`)
        break
      }
      case '$exists':
        parts.push(arg ? `${col} IS NOT NULL` : `${col} IS NULL`)
        break
      case '$not':
        parts.push(`NOT ${testSql(field, arg, params)}`)
        break
      default:
        throw new Error(`unsupported operator ${op}`)
    }
  }
  return `(${parts.join(' AND ')})`
}

/**
 * The RFM group (rfm.ts `rfmScore` + `rfmGroup`) of the feature columns against bound cut points; `no_purchases`
 * for a customer who never bought.
 */
export function rfmGroupSql(cuts: RfmCuts, params: SqlParams): string {
  const q = (x: string, c: number[]) => `(1 + arrayCount(c -> c < ${x}, ${params.bind(c, 'Array(Float64)')}))`
  const r = `(6 - ${q('toFloat64(recency_days)', cuts.recency)})`
  const f = q('toFloat64(orders_365d)', cuts.frequency)
  const m = q('toFloat64(monetary_365d)', cuts.monetary)
  return `multiIf(recency_days IS NULL, 'no_purchases',
    ${r} >= 4 AND ${f} >= 4 AND ${m} >= 4, 'champions',
    ${r} >= 3 AND ${f} >= 4, 'loyal',
    ${r} >= 4 AND ${f} <= 1, 'new_customers',
    ${r} >= 4, 'potential_loyalists',
    ${r} <= 2 AND ${f} >= 4, 'cant_lose_them',
    ${r} <= 2 AND (${f} >= 3 OR ${m} >= 3), 'at_risk',
    ${r} <= 2, 'hibernating',
    'needs_attention')`
}

/** The two values of a segment's membership column. */
export const IN_SEGMENT = 'in segment'
export const NOT_IN_SEGMENT = 'not in segment'

/** `in segment` or `not in segment` by the rule, as a String expression (report breakdowns, the learning library). */
export const membershipSql = (rule: unknown, params: SqlParams) =>
  `if(${ruleSql(rule, params)}, ${params.bind(IN_SEGMENT, 'String')}, ${params.bind(NOT_IN_SEGMENT, 'String')})`

/** Whether a rule reads the RFM group (then the cut points must be computed first). */
export function ruleUsesRfm(rule: unknown): boolean {
  if (Array.isArray(rule)) return rule.some(ruleUsesRfm)
  if (!isObject(rule)) return false
  return Object.entries(rule).some(([k, v]) => k === 'rfm_group' || ((k === '$and' || k === '$or' || k === '$nor' || k === '$not') && ruleUsesRfm(v)))
}
