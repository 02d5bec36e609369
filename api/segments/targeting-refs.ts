/**
 * What a targeting condition asks of the server: `features.<name>` (a customer feature, or `rfm_group`) and
 * `segments` (the keys of the live segments the customer is in) are looked up server-side when a condition names
 * them (server-attributes.ts). Pure: which lookups a condition needs, and whether the names it uses exist.
 *
 * `segments` is a list, and GrowthBook's `evalCondition` compares a bare value with the whole list (`{ segments:
 * 'x' }` only matches a customer in exactly that one segment), so the list is tested with `$in` (in any of these),
 * `$nin` (in none), `$all` (in all) or `$elemMatch: { $eq: 'x' }`; a bare value or a whole-list operator is refused.
 */
import type { Condition, ConditionError } from '../assignment/targeting.ts'
import { ruleProblems, SEGMENT_FIELDS } from './rule.ts'
import type { StoredSegment } from './schema.ts'

/** The attribute holding the looked-up features, read as `features.<name>`. */
export const FEATURES_ATTRIBUTE = 'features'
/** The attribute holding the keys of the customer's live segments. */
export const SEGMENTS_ATTRIBUTE = 'segments'
const FEATURE_PREFIX = `${FEATURES_ATTRIBUTE}.`

/** Which server-side attributes a condition reads; all false for a condition that names neither. */
export interface ServerNeeds {
  features: boolean
  segments: boolean
  /** `features.rfm_group`: needs the RFM cut points besides the customer's features. */
  rfmGroup: boolean
}

export const NO_NEEDS: Readonly<ServerNeeds> = Object.freeze({ features: false, segments: false, rfmGroup: false })

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`)

/** Calls `visit` for each attribute test of a condition, through `$and $or $nor $not` (not inside `$elemMatch`). */
function forEachTest(condition: unknown, path: string, visit: (key: string, test: unknown, parent: string) => ConditionError | null): ConditionError | null {
  if (!isObject(condition)) return null
  for (const [key, value] of Object.entries(condition)) {
    const at = join(path, key)
    let problem: ConditionError | null = null
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (Array.isArray(value)) for (let i = 0; i < value.length && !problem; i++) problem = forEachTest(value[i], `${at}[${i}]`, visit)
    } else if (key === '$not') problem = forEachTest(value, at, visit)
    else if (!key.startsWith('$')) problem = visit(key, value, path)
    if (problem) return problem
  }
  return null
}

/**
 * The server-side attributes a condition reads.
 *
 * @example
 * serverNeeds({ segments: { $in: ['lapsed_regulars'] }, cartValue: { $gte: 20 } }) // { features: false, segments: true, rfmGroup: false }
 * serverNeeds({ 'features.rfm_group': 'champions' }) // { features: true, segments: false, rfmGroup: true }
 */
export function serverNeeds(condition: Condition | null): ServerNeeds {
  if (!condition) return NO_NEEDS
  const needs = { features: false, segments: false, rfmGroup: false }
  forEachTest(condition, '', (key) => {
    if (key === SEGMENTS_ATTRIBUTE) needs.segments = true
    else if (key === FEATURES_ATTRIBUTE || key.startsWith(FEATURE_PREFIX)) {
      needs.features = true
      if (key === `${FEATURE_PREFIX}rfm_group`) needs.rfmGroup = true
    }
    return null
  })
  return needs.features || needs.segments ? needs : NO_NEEDS
}

/** Whether any of these segments' rules reads `rfm_group` (membership then needs the RFM cut points). */
export function segmentsReadRfmGroup(segments: readonly StoredSegment[]): boolean {
  return segments.some((s) => forEachTest(s.rule, '', (key) => (key === 'rfm_group' ? { path: key, message: '' } : null)) !== null)
}

/** What `targetingProblem` checks segment keys against: every key ever saved, with whether it is archived. */
export type SegmentKeys = ReadonlyMap<string, { archived: boolean }>

/**
 * The first problem with the server-side attributes of a condition that `validateCondition` accepted, or null.
 * A feature must be one a segment rule may name, tested as a rule tests it (a category against its values, a
 * number against numbers); a segment key must name a live segment. Paths are relative to the condition.
 *
 * @example
 * targetingProblem({ 'features.nope': 1 }, keys) // { path: 'features.nope', message: 'unknown feature "nope"; features: recency_days, …' }
 * targetingProblem({ segments: { $in: ['gone'] } }, keys) // { path: 'segments.$in[0]', message: 'unknown segment "gone"; …' }
 */
export function targetingProblem(condition: Condition, segments: SegmentKeys): ConditionError | null {
  return forEachTest(condition, '', (key, test, parent) => {
    const at = join(parent, key)
    if (key === SEGMENTS_ATTRIBUTE) return segmentsTestProblem(test, at, segments)
    if (key === FEATURES_ATTRIBUTE) return { path: at, message: `name one feature at a time: features.<name> (${featureList()})` }
    if (!key.startsWith(FEATURE_PREFIX)) return null
    const name = key.slice(FEATURE_PREFIX.length)
    if (!Object.hasOwn(SEGMENT_FIELDS, name)) return { path: at, message: `unknown feature ${JSON.stringify(name)}; features: ${featureList()}` }
    const [problem] = ruleProblems({ [name]: test })
    return problem ? { path: join(parent, `${FEATURE_PREFIX}${problem.path}`), message: problem.message } : null
  })
}

const featureList = () => Object.keys(SEGMENT_FIELDS).join(', ')

const LIST_OPERATORS = new Set(['$in', '$nin', '$all'])
const WHOLE_LIST = `segments is a list of segment keys: test it with $in (in any), $nin (in none), $all (in all) or $elemMatch, e.g. { "$in": ["lapsed_regulars"] }`

function segmentsTestProblem(test: unknown, path: string, segments: SegmentKeys): ConditionError | null {
  if (!isObject(test) || Object.keys(test).length === 0) return { path, message: `${WHOLE_LIST}; a bare value compares the whole list` }
  for (const [op, arg] of Object.entries(test)) {
    const at = join(path, op)
    let problem: ConditionError | null
    if (LIST_OPERATORS.has(op)) problem = keysProblem(arg, at, segments)
    else if (op === '$elemMatch') problem = elementProblem(arg, at, segments)
    else if (op === '$not') problem = segmentsTestProblem(arg, at, segments)
    else if (op === '$size' || op === '$exists') problem = null
    else problem = { path: at, message: `${WHOLE_LIST}; ${op} would compare the whole list` }
    if (problem) return problem
  }
  return null
}

/** `$elemMatch` over segment keys: each element is a key, compared with `$eq $ne $in $nin`. */
function elementProblem(test: unknown, path: string, segments: SegmentKeys): ConditionError | null {
  if (!isObject(test)) return { path, message: '$elemMatch expects an operator object such as { "$eq": "lapsed_regulars" }' }
  for (const [op, arg] of Object.entries(test)) {
    const at = join(path, op)
    let problem: ConditionError | null
    if (op === '$eq' || op === '$ne') problem = keyProblem(arg, at, segments)
    else if (op === '$in' || op === '$nin') problem = keysProblem(arg, at, segments)
    else problem = { path: at, message: 'each element is a segment key: compare it with $eq, $ne, $in or $nin' }
    if (problem) return problem
  }
  return null
}

function keysProblem(keys: unknown, path: string, segments: SegmentKeys): ConditionError | null {
  if (!Array.isArray(keys) || keys.length === 0) return { path, message: 'expects a non-empty list of segment keys' }
  for (let i = 0; i < keys.length; i++) {
    const problem = keyProblem(keys[i], `${path}[${i}]`, segments)
    if (problem) return problem
  }
  return null
}

function keyProblem(key: unknown, path: string, segments: SegmentKeys): ConditionError | null {
  if (typeof key !== 'string') return { path, message: 'must be a segment key (a string)' }
  const segment = segments.get(key)
  const quoted = JSON.stringify(key.length > 64 ? `${key.slice(0, 61)}…` : key)
  if (!segment) {
    const live = [...segments].filter(([, s]) => !s.archived).map(([k]) => k)
    const listed = live.length ? `live segments: ${live.slice(0, 20).join(', ')}${live.length > 20 ? ', …' : ''}` : 'no segment is defined yet'
    return { path, message: `unknown segment ${quoted}; ${listed}` }
  }
  if (segment.archived) return { path, message: `segment ${quoted} is archived and matches nobody` }
  return null
}
