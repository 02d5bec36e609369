/**
 * Targeting conditions: MongoDB-style rules over the attributes sent with an assignment call, evaluated
 * with the semantics of GrowthBook's SDK spec (`evalCondition`) and checked against its `cases.json`.
 *
 * `$regex` runs on RE2 (the `re2js` port), not on JavaScript's backtracking RegExp: attributes come from
 * callers, and a pattern such as `^(a+)+$` against `"aaaa…!"` would otherwise block the event loop for
 * seconds. Matching is linear in the input. A pattern must compile both as a JavaScript RegExp (what
 * GrowthBook's SDKs run) and, translated, as RE2 — so no backreferences or lookaround — and be at most
 * `MAX_REGEX_LENGTH` characters; `validateCondition` refuses anything else.
 *
 * Supported: `$eq $ne $gt $gte $lt $lte $in $nin $exists $regex $and $or $nor $not $elemMatch $size $all
 * $type`, dot paths (`"address.country"`). Not supported, deliberately: GrowthBook's version operators
 * (`$veq $vne $vgt $vgte $vlt $vlte`), saved groups (`$inGroup $notInGroup`) and the case-insensitive
 * variants (`$ini $nini $alli $regexi`). `validateCondition` rejects them so a bad rule never gets saved;
 * `evalCondition` treats any unknown operator as not matching, as GrowthBook does.
 */
import { RE2JS } from 're2js'

/** A targeting condition: attribute paths (or `$and $or $nor $not`) mapped to values or operator objects. */
export type Condition = Record<string, unknown>

/** Where a condition is invalid (`$and[1].age.$gt` style, relative to the condition) and why. */
export interface ConditionError {
  path: string
  message: string
}

/** Field operators, in the order they are documented. */
export const FIELD_OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$regex',
  '$not',
  '$elemMatch',
  '$size',
  '$all',
  '$type',
] as const

/** Operators that combine whole conditions. */
export const LOGICAL_OPERATORS = ['$and', '$or', '$nor', '$not'] as const

/** Longest `$regex` pattern `validateCondition` accepts, in UTF-16 code units. */
export const MAX_REGEX_LENGTH = 1000

/** Type names `$type` accepts. */
export const CONDITION_TYPES = ['string', 'number', 'boolean', 'object', 'array', 'null'] as const

/**
 * Whether `attributes` satisfy `condition`. An empty condition matches everyone.
 *
 * Edge cases follow GrowthBook rather than MongoDB: a missing attribute reads as `null`, and `$gt`-style
 * comparisons use JavaScript's relational operators (so `"8"` is greater than `5`, and a missing attribute
 * compares like 0). One deliberate difference: paths only follow own properties, so `"constructor"` or
 * `"toString"` never reach into the prototype.
 *
 * @example
 * evalCondition({ tier: 'gold', orders: 7 }, { tier: { $in: ['gold', 'platinum'] }, orders: { $gte: 5 } }) // true
 * evalCondition({ address: { country: 'DE' } }, { 'address.country': 'FR' }) // false
 */
export function evalCondition(attributes: unknown, condition: Condition): boolean {
  for (const key in condition) {
    if (!Object.hasOwn(condition, key)) continue
    const value = condition[key]
    switch (key) {
      case '$or':
        if (!evalOr(attributes, value as Condition[])) return false
        break
      case '$nor':
        if (evalOr(attributes, value as Condition[])) return false
        break
      case '$and':
        if (!evalAnd(attributes, value as Condition[])) return false
        break
      case '$not':
        if (evalCondition(attributes, value as Condition)) return false
        break
      default:
        if (!evalConditionValue(value, getPath(attributes, key))) return false
    }
  }
  return true
}

/**
 * The first problem in a targeting condition, or `null` when it is valid: unknown operators, invalid
 * regular expressions, and operator arguments of the wrong shape (`$in` without an array, `$exists` without
 * a boolean, …). Meant for API input, so the caller can answer 400 naming the path.
 *
 * @example
 * validateCondition({ age: { $gte: 30 } })           // null
 * validateCondition({ age: { $gtt: 30 } })           // { path: 'age.$gtt', message: 'unknown operator "$gtt"; …' }
 * validateCondition({ $or: [{ ua: { $regex: '(' } }] }) // { path: '$or[0].ua.$regex', message: 'invalid regular expression: …' }
 */
export function validateCondition(condition: unknown, path = ''): ConditionError | null {
  if (!isPlainObject(condition)) return { path, message: 'a condition must be an object' }
  for (const key of Object.keys(condition)) {
    const value = condition[key]
    const at = joinKey(path, key)
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value)) return { path: at, message: `${key} expects an array of conditions` }
      for (let i = 0; i < value.length; i++) {
        const error = validateCondition(value[i], `${at}[${i}]`)
        if (error) return error
      }
    } else if (key === '$not') {
      const error = validateCondition(value, at)
      if (error) return error
    } else if (key.startsWith('$')) {
      return { path: at, message: unknownOperatorMessage(key) }
    } else {
      const error = validateValue(value, at)
      if (error) return error
    }
  }
  return null
}

function evalOr(attributes: unknown, conditions: Condition[]): boolean {
  if (!Array.isArray(conditions)) return false
  if (conditions.length === 0) return true
  for (const condition of conditions) {
    if (evalCondition(attributes, condition)) return true
  }
  return false
}

function evalAnd(attributes: unknown, conditions: Condition[]): boolean {
  if (!Array.isArray(conditions)) return false
  for (const condition of conditions) {
    if (!evalCondition(attributes, condition)) return false
  }
  return true
}

/** Value at a dot path; `null` when any step is missing or not an object. */
function getPath(attributes: unknown, path: string): unknown {
  if (path.indexOf('.') === -1) return step(attributes, path)
  let current: unknown = attributes
  for (const part of path.split('.')) {
    current = step(current, part)
    if (current === null) return null
  }
  return current
}

function step(current: unknown, key: string): unknown {
  if (current !== null && typeof current === 'object' && Object.hasOwn(current, key)) {
    return (current as Record<string, unknown>)[key]
  }
  return null
}

/** An object whose keys (at least one) all start with `$`; anything else is compared literally. */
function isOperatorObject(value: object): boolean {
  let count = 0
  for (const key in value) {
    if (key.charCodeAt(0) !== 36 /* $ */) return false
    count++
  }
  return count > 0
}

function evalConditionValue(condition: unknown, actual: unknown): boolean {
  if (typeof condition === 'string') return String(actual) === condition
  if (typeof condition === 'number') return Number(actual) === condition
  if (typeof condition === 'boolean') return actual !== null && Boolean(actual) === condition
  if (condition === null || typeof condition !== 'object') return actual === condition
  if (Array.isArray(condition) || !isOperatorObject(condition)) {
    return JSON.stringify(actual) === JSON.stringify(condition)
  }
  const operators = condition as Record<string, unknown>
  for (const operator in operators) {
    if (!evalOperator(operator, actual, operators[operator])) return false
  }
  return true
}

// Relational operators on `unknown` keep JavaScript's coercions, which is what GrowthBook specifies.
type Comparable = number

function evalOperator(operator: string, actual: unknown, expected: unknown): boolean {
  switch (operator) {
    case '$eq':
      return actual === expected
    case '$ne':
      return actual !== expected
    case '$lt':
      return (actual as Comparable) < (expected as Comparable)
    case '$lte':
      return (actual as Comparable) <= (expected as Comparable)
    case '$gt':
      return (actual as Comparable) > (expected as Comparable)
    case '$gte':
      return (actual as Comparable) >= (expected as Comparable)
    case '$exists':
      return expected ? actual != null : actual == null
    case '$in':
      return Array.isArray(expected) && isIn(actual, expected)
    case '$nin':
      return Array.isArray(expected) && !isIn(actual, expected)
    case '$not':
      return !evalConditionValue(expected, actual)
    case '$size':
      return Array.isArray(actual) && evalConditionValue(expected, actual.length)
    case '$elemMatch':
      return elemMatch(actual, expected)
    case '$all':
      return Array.isArray(expected) && isInAll(actual, expected)
    case '$regex': {
      const regex = typeof expected === 'string' ? cachedRegex(expected) : null
      return regex !== null && regex.test(String(actual))
    }
    case '$type':
      return typeName(actual) === expected
    default:
      return false
  }
}

/** Membership; for an array attribute, whether the two arrays intersect. */
function isIn(actual: unknown, expected: unknown[]): boolean {
  if (Array.isArray(actual)) {
    for (const element of actual) if (expected.includes(element)) return true
    return false
  }
  return expected.includes(actual)
}

function isInAll(actual: unknown, expected: unknown[]): boolean {
  if (!Array.isArray(actual)) return false
  for (const wanted of expected) {
    let found = false
    for (const element of actual) {
      if (evalConditionValue(wanted, element)) {
        found = true
        break
      }
    }
    if (!found) return false
  }
  return true
}

function elemMatch(actual: unknown, expected: unknown): boolean {
  if (!Array.isArray(actual) || expected === null || typeof expected !== 'object') return false
  const operators = isOperatorObject(expected)
  for (const element of actual) {
    // Like GrowthBook's SDK since 1.x (issue 24): only null elements are skipped; 0, '' and false are tested.
    if (element === null || element === undefined) continue
    if (operators ? evalConditionValue(expected, element) : evalCondition(element, expected as Condition)) {
      return true
    }
  }
  return false
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  const type = typeof value
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'object' || type === 'undefined' ? type : 'unknown'
}

const MAX_CACHED_REGEXES = 1000
const regexCache = new Map<string, RE2JS | null>()

/** Compiled pattern, or `null` when it does not compile (an invalid `$regex` matches nothing). */
function cachedRegex(pattern: string): RE2JS | null {
  let regex = regexCache.get(pattern)
  if (regex === undefined) {
    const compiled = compileRegex(pattern)
    regex = typeof compiled === 'string' ? null : compiled
    if (regexCache.size >= MAX_CACHED_REGEXES) regexCache.clear()
    regexCache.set(pattern, regex)
  }
  return regex
}

/**
 * A `$regex` pattern compiled for linear-time matching, or why it cannot be. The pattern is read as
 * GrowthBook reads it, `new RegExp(pattern)` (JavaScript syntax, no flags), so it must parse there; it is
 * then translated to RE2 syntax (`\uXXXX`, `\cX`, identity escapes such as `\-`) and compiled by RE2,
 * which refuses what cannot run in linear time: backreferences, lookahead and lookbehind, repeat counts
 * above 1000.
 */
function compileRegex(pattern: string): RE2JS | string {
  try {
    // Only checks the syntax: V8 parses here and compiles the backtracking matcher lazily, on first use.
    new RegExp(pattern)
  } catch (error) {
    return (error as Error).message
  }
  try {
    return RE2JS.compile(RE2JS.translateRegExp(pattern))
  } catch (error) {
    return `not supported by the linear-time engine (RE2: no backreferences, lookahead or lookbehind): ${(error as Error).message.replace(
      /^error parsing regexp: /,
      '',
    )}`
  }
}

function validateValue(value: unknown, path: string): ConditionError | null {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return null
  }
  if (Array.isArray(value)) return null
  if (!isPlainObject(value)) return { path, message: 'expects a JSON value or an operator object' }
  const keys = Object.keys(value)
  const operatorCount = keys.filter((key) => key.startsWith('$')).length
  if (operatorCount === 0) return null
  if (operatorCount !== keys.length) {
    return {
      path,
      message: 'mixes operators ($…) with plain keys: use only operators, or only plain keys for an exact match',
    }
  }
  for (const operator of keys) {
    const error = validateOperator(operator, value[operator], joinKey(path, operator))
    if (error) return error
  }
  return null
}

function validateOperator(operator: string, argument: unknown, path: string): ConditionError | null {
  switch (operator) {
    case '$eq':
    case '$ne':
      return null
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return typeof argument === 'number' || typeof argument === 'string' ? null : { path, message: `${operator} expects a number or a string` }
    case '$in':
    case '$nin':
      return Array.isArray(argument) ? null : { path, message: `${operator} expects an array` }
    case '$all':
      if (!Array.isArray(argument)) return { path, message: '$all expects an array' }
      for (let i = 0; i < argument.length; i++) {
        const error = validateValue(argument[i], `${path}[${i}]`)
        if (error) return error
      }
      return null
    case '$exists':
      return typeof argument === 'boolean' ? null : { path, message: '$exists expects true or false' }
    case '$regex': {
      if (typeof argument !== 'string') return { path, message: '$regex expects a string' }
      if (argument.length > MAX_REGEX_LENGTH) {
        return { path, message: `regular expression too long: ${argument.length} characters, at most ${MAX_REGEX_LENGTH}` }
      }
      const compiled = compileRegex(argument)
      return typeof compiled === 'string' ? { path, message: `invalid regular expression: ${compiled}` } : null
    }
    case '$not':
      return validateValue(argument, path)
    case '$size':
      if (typeof argument === 'number') return null
      if (isPlainObject(argument)) return validateValue(argument, path)
      return { path, message: '$size expects a number or an operator object' }
    case '$elemMatch':
      if (!isPlainObject(argument)) return { path, message: '$elemMatch expects an object' }
      return isOperatorObject(argument) ? validateValue(argument, path) : validateCondition(argument, path)
    case '$type':
      return (CONDITION_TYPES as readonly unknown[]).includes(argument) ? null : { path, message: `$type expects one of ${CONDITION_TYPES.join(', ')}` }
    default:
      return { path, message: unknownOperatorMessage(operator) }
  }
}

function unknownOperatorMessage(operator: string): string {
  if (/^\$v(eq|ne|gt|gte|lt|lte)$/.test(operator)) return `version operator "${operator}" is not supported`
  if (operator === '$inGroup' || operator === '$notInGroup') return `saved groups ("${operator}") are not supported`
  return `unknown operator "${operator}"; supported: ${[...FIELD_OPERATORS, '$and', '$or', '$nor'].join(' ')}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function joinKey(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}
