/**
 * The targeting builder's rows and the MongoDB-style condition the API stores. Rows are combined with `$and`;
 * conditions written by hand through the API (with `$or`, `$not`, nesting) are shown as JSON instead.
 */

export const OPERATORS = {
  $eq: 'equals',
  $ne: 'does not equal',
  $gt: 'greater than',
  $gte: 'at least',
  $lt: 'less than',
  $lte: 'at most',
  $in: 'is one of',
  $nin: 'is none of',
  $exists: 'exists',
  $regex: 'matches pattern',
} as const
export type Operator = keyof typeof OPERATORS

const SYMBOLS: Record<Operator, string> = {
  $eq: '=',
  $ne: '≠',
  $gt: '>',
  $gte: '≥',
  $lt: '<',
  $lte: '≤',
  $in: 'in',
  $nin: 'not in',
  $exists: 'exists',
  $regex: '~',
}

export interface TargetingRow {
  attribute: string
  operator: Operator
  /** As typed: lists are comma-separated; `$exists` takes "true" or "false". */
  value: string
}

export type Condition = Record<string, unknown>

/** "42" → 42, "true" → true, "gold" → "gold"; quotes force a string ("\"42\"" → "42"). */
export function parseScalar(text: string): string | number | boolean {
  const t = text.trim()
  if (/^".*"$/.test(t)) return t.slice(1, -1)
  if (t === 'true') return true
  if (t === 'false') return false
  if (t !== '' && Number.isFinite(Number(t))) return Number(t)
  return t
}

function operand(row: TargetingRow): unknown {
  switch (row.operator) {
    case '$in':
    case '$nin':
      return row.value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '')
        .map(parseScalar)
    case '$exists':
      return row.value.trim() !== 'false'
    case '$regex':
      return row.value
    default:
      return parseScalar(row.value)
  }
}

/** The condition the builder's rows mean; null (everyone is eligible) when there are no rows. */
export function rowsToCondition(rows: TargetingRow[]): Condition | null {
  if (!rows.length) return null
  return { $and: rows.map((row) => ({ [row.attribute.trim()]: { [row.operator]: operand(row) } })) }
}

/**
 * Which builder row an API error about targeting names: `targeting.$and[1].tier.$in` → row 1, value input.
 * null when the path does not point into a row.
 */
export function rowForErrorField(field: string): { row: number; part: 'attribute' | 'value' } | null {
  const m = /^targeting\.\$and\[(\d+)\](.*)$/.exec(field)
  if (!m) return null
  // `….segments.$in[1]`: one element of a list value is still the value.
  return { row: Number(m[1]), part: /\.\$[a-z]+(\[\d+\])?$/i.test(m[2]) ? 'value' : 'attribute' }
}

const show = (v: unknown) => (Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : JSON.stringify(v))

function describeClause(attribute: string, test: unknown): string {
  if (test && typeof test === 'object' && !Array.isArray(test)) {
    const parts = Object.entries(test as Record<string, unknown>).map(([op, v]) => {
      if (op === '$exists') return v ? `${attribute} exists` : `${attribute} is missing`
      const symbol = SYMBOLS[op as Operator]
      return symbol ? `${attribute} ${symbol} ${show(v)}` : `${attribute} ${op} ${show(v)}`
    })
    return parts.join(' and ')
  }
  return `${attribute} = ${show(test)}`
}

/**
 * A condition in words, one clause per line, for the design summary:
 * `{ $and: [{ tier: { $in: ['gold'] } }, { age: { $gte: 30 } }] }` → `['tier in ["gold"]', 'age ≥ 30']`.
 * An empty list means everyone; null means a shape the builder does not write (show it as JSON).
 */
export function conditionClauses(condition: Condition | null | undefined): string[] | null {
  if (!condition || !Object.keys(condition).length) return []
  const clauses = Array.isArray(condition.$and) && Object.keys(condition).length === 1 ? (condition.$and as Condition[]) : [condition]
  const words: string[] = []
  for (const clause of clauses) {
    for (const [key, test] of Object.entries(clause)) {
      if (key.startsWith('$')) return null
      words.push(describeClause(key, test))
    }
  }
  return words
}

/** The whole condition on one line: "Everyone", `tier in ["gold"] and age ≥ 30`, or its JSON. */
export function describeCondition(condition: Condition | null | undefined): string {
  const clauses = conditionClauses(condition)
  if (clauses === null) return JSON.stringify(condition)
  return clauses.length ? clauses.join(' and ') : 'Everyone'
}
