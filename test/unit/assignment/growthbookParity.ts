/**
 * Seeded random experiments, customers and targeting conditions, and the GrowthBook SDK's answer for each, so
 * that `api/assignment` can be compared with `@growthbook/growthbook` case by case. Used by
 * `growthbook-parity.test.ts` (a few thousand cases) and `bench/parity.ts` (a million).
 *
 * The SDK is configured the way README "Concepts" says any GrowthBook SDK reproduces an assignment: the
 * experiment's seed, hash version 2, coverage, namespace, variations `[holdout, ...arms]` with weights
 * `[holdoutPct, ...arms × (1 − holdoutPct)]`, the targeting as `condition`. The platform's global holdout is a
 * second inline experiment with the global seed and weights `[pct, 1 − pct]`: variation 0 is held out.
 */
import { GrowthBook, GrowthBookClient, evalCondition as sdkEvalCondition, type Experiment } from '@growthbook/growthbook'
import {
  HOLDOUT_ARM,
  assignCompiled,
  compileExperiment,
  type AssignableExperiment,
  type Assignment,
  type CompiledExperiment,
  type Condition,
  type GlobalHoldout,
} from '../../../api/assignment/index.ts'

/** mulberry32: a small seeded PRNG, so a failing case can be regenerated from its seed and index. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Random = () => number
const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)]
const chance = (r: Random, p: number) => r() < p

// Characters for seeds, ids and string attributes: ASCII, Latin-1, combining marks, CJK and astral emoji
// (surrogate pairs). No line terminators and no Unicode spaces: `.` and `\s` differ there (a known difference).
const ALPHABET = [...'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_@./:', 'é', 'ü', 'ß', 'ø', 'ñ', '\u0301', '東', '京', '한', 'ж', 'Ω', '😀', '🚀', '𝔸', '👍🏽']

function randomText(r: Random, min: number, max: number): string {
  let s = ''
  const n = int(r, min, max)
  for (let i = 0; i < n; i++) s += pick(r, ALPHABET)
  return s
}

const STRINGS = [
  'gold',
  'silver',
  'platinum',
  '',
  'ana@example.com',
  'bob@test.org',
  'café',
  '東京',
  '😀',
  'a😀c',
  'aaaa',
  'aaaa!',
  'Android Mobile Browser',
  'Chrome Desktop',
  '0',
  '10',
  '7',
  'true',
  'null',
  'https://a.io/x',
  'a/b',
  'gold-tier',
  'AB',
  'DE',
  'FR',
  'Berlin',
  'A-1',
  'B-7',
]
const NUMBERS = [0, 1, -1, 2, 3, 7, 10, 60, 95, 0.5, 0.72, 1e6]
const SCALARS: readonly unknown[] = [...STRINGS, ...NUMBERS, true, false, null]
const FALSY: readonly unknown[] = [0, '', false, null]

// Patterns valid in both JavaScript and RE2 (after translation) that mean the same on the alphabet above: no
// `.`, negated class or `\W`-style class under an exact count, since astral characters are one character to
// RE2 and two to JavaScript (a known difference).
export const PARITY_PATTERNS = [
  '^gold$',
  'old',
  '@example\\.com$',
  '^[a-z]+@',
  '(Mobile|Tablet)',
  '^\\d+$',
  '\\d',
  '^\\w+$',
  '\\bgold\\b',
  'caf\\u00e9',
  'café',
  '東京',
  '😀',
  'a.*c',
  '^.+$',
  '^$',
  '',
  '^(a+)+$',
  '^(a|aa)+$',
  '[^@]+@[^@]+',
  'a{2,}',
  'a{2}',
  '^https?://',
  'a/b',
  '\\/',
  '[0-9]{2,4}',
  '(?:ab)+',
  '(?<tier>gold|silver)',
  '\\x41',
  '[A-Z]',
  '\\-',
  'null',
  'true',
  '^1',
  ',',
  '\\[object',
  'Object',
  '\\D',
  '\\W',
  '^\\S+$',
  '\\s',
  'ß|ø',
  '[éü]',
  '\\u6771',
  '^(?:[a-z0-9]+[-_.])*[a-z0-9]+@',
  'x*',
  '\\.',
  '^-?\\d+(\\.\\d+)?$',
  '\\cJ',
  '[\\]]',
  '\\$',
  'Browser$',
]

// Attribute paths a condition can name. `constructor`, `toString` and `segments.constructor` reach the
// prototype: a known difference (the SDK follows inherited properties, `evalCondition` here does not).
const PATHS = [
  'tier',
  'orders',
  'churnRisk',
  'email',
  'segments',
  'scores',
  'flags',
  'profile',
  'profile.country',
  'profile.address.city',
  'lastOrders',
  'lastOrders.0.sku',
  'lastOrders.1.amount',
  'vip',
  'referrer',
  'name',
  'missing',
  'segments.length',
  'nested.a.b',
]
export const PROTOTYPE_PATHS = ['constructor', 'toString', 'segments.constructor', 'profile.hasOwnProperty']
// Patterns that are names on Object.prototype: the SDK's regex cache is a plain object and returns the
// inherited member instead of a RegExp, so they match nothing there (a known difference).
export const PROTOTYPE_NAMED_PATTERNS = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']

function scalar(r: Random): unknown {
  return pick(r, SCALARS)
}

function randomValue(r: Random, depth = 0): unknown {
  const k = r()
  if (k < 0.6 || depth > 1) return scalar(r)
  if (k < 0.8) return Array.from({ length: int(r, 0, 3) }, () => randomValue(r, depth + 1))
  return { country: pick(r, ['DE', 'FR', 0, null]), ...(chance(r, 0.5) ? { city: pick(r, STRINGS) } : {}) }
}

/** Attributes a CRM might send, with the odd wrong type, falsy array elements and unicode strings. */
export function randomAttributes(r: Random): Record<string, unknown> {
  const a: Record<string, unknown> = {}
  const maybe = (key: string, value: () => unknown) => {
    if (chance(r, 0.85)) a[key] = chance(r, 0.08) ? randomValue(r) : value()
  }
  maybe('tier', () => pick(r, ['gold', 'silver', 'platinum', '', 'Gold']))
  maybe('orders', () => pick(r, [0, 1, 3, 7, 10, 25]))
  maybe('churnRisk', () => Math.round(r() * 100) / 100)
  maybe('email', () => (chance(r, 0.7) ? pick(r, STRINGS.slice(4, 12)) : `${randomText(r, 0, 8)}@example.com`))
  maybe('segments', () => Array.from({ length: int(r, 0, 4) }, () => pick(r, ['lapsed', 'high_value', 'newsletter', '', 'gold'])))
  maybe('scores', () => Array.from({ length: int(r, 0, 4) }, () => pick(r, [...FALSY, 1, 5, 10, -1, 'x'])))
  maybe('flags', () => Array.from({ length: int(r, 0, 3) }, () => pick(r, [...FALSY, true, 'on'])))
  maybe('profile', () => ({ country: pick(r, ['DE', 'FR', '', null]), address: chance(r, 0.8) ? { city: pick(r, ['Berlin', 'Paris', '']) } : null }))
  maybe('lastOrders', () =>
    Array.from({ length: int(r, 0, 3) }, () => (chance(r, 0.15) ? pick(r, FALSY) : { sku: pick(r, ['A-1', 'B-7', '']), amount: pick(r, [0, 42, 180]) })),
  )
  maybe('vip', () => chance(r, 0.5))
  maybe('referrer', () => (chance(r, 0.5) ? null : pick(r, ['ads', ''])))
  maybe('name', () => randomText(r, 0, 10))
  maybe('nested', () => ({ a: chance(r, 0.7) ? { b: scalar(r) } : scalar(r) }))
  return a
}

export interface ParityOptions {
  /** Probability that a path is one of `PROTOTYPE_PATHS` (a known difference). */
  prototypePaths?: number
  /** Probability that a `$regex` pattern is one of `PROTOTYPE_NAMED_PATTERNS` (a known difference). */
  prototypeNamedPatterns?: number
}

function operatorCondition(r: Random, depth: number, o: Required<ParityOptions>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const count = chance(r, 0.8) ? 1 : 2
  for (let i = 0; i < count; i++) {
    const op = pick(r, [
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
      '$regex',
      '$not',
      '$elemMatch',
      '$elemMatch',
      '$size',
      '$all',
      '$type',
    ])
    switch (op) {
      case '$eq':
      case '$ne':
        out[op] = scalar(r)
        break
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        out[op] = chance(r, 0.7) ? pick(r, NUMBERS) : pick(r, STRINGS)
        break
      case '$in':
      case '$nin':
        out[op] = Array.from({ length: int(r, 0, 4) }, () => scalar(r))
        break
      case '$exists':
        out[op] = chance(r, 0.5)
        break
      case '$regex':
        out[op] = chance(r, o.prototypeNamedPatterns) ? pick(r, PROTOTYPE_NAMED_PATTERNS) : pick(r, PARITY_PATTERNS)
        break
      case '$not':
        out[op] = depth > 2 || chance(r, 0.3) ? scalar(r) : operatorCondition(r, depth + 1, o)
        break
      case '$elemMatch':
        out[op] =
          chance(r, 0.6) || depth > 2
            ? pick<Record<string, unknown>>(r, [
                { $eq: pick(r, [...FALSY, 1, 5, 'x', true]) },
                { $lt: 1 },
                { $gte: 5 },
                { $in: [0, '', false] },
                { $exists: true },
                { $exists: false },
                { $type: pick(r, ['null', 'number', 'string', 'boolean', 'object']) },
                { $ne: 0 },
                { $regex: pick(r, PARITY_PATTERNS) },
                { $not: { $eq: 0 } },
              ])
            : randomCondition(r, 3, o, ['sku', 'amount', 'a', 'country'])
        break
      case '$size':
        out[op] = chance(r, 0.7) ? int(r, 0, 4) : { [pick(r, ['$gte', '$lt', '$eq'])]: int(r, 0, 4) }
        break
      case '$all':
        out[op] = Array.from({ length: int(r, 0, 3) }, () => (chance(r, 0.8) ? scalar(r) : { $eq: scalar(r) }))
        break
      case '$type':
        out[op] = pick(r, ['string', 'number', 'boolean', 'object', 'array', 'null'])
        break
    }
  }
  return out
}

/**
 * A random targeting condition with every operator `evalCondition` supports. Valid by `validateCondition`;
 * `paths` are the attribute names to use (nested `$elemMatch` conditions use the element's own keys).
 */
export function randomCondition(r: Random, depth = 0, options: ParityOptions = {}, paths: readonly string[] = PATHS): Condition {
  const o = { prototypePaths: 0, prototypeNamedPatterns: 0, ...options }
  const condition: Condition = {}
  const fields = int(r, 1, depth > 1 ? 1 : 3)
  for (let i = 0; i < fields; i++) {
    const k = r()
    if (depth < 3 && k < 0.15) {
      const logical = pick(r, ['$and', '$or', '$nor'])
      condition[logical] = Array.from({ length: int(r, 0, 3) }, () => randomCondition(r, depth + 1, o, paths))
    } else if (depth < 3 && k < 0.2) {
      condition.$not = randomCondition(r, depth + 1, o, paths)
    } else {
      const path = chance(r, o.prototypePaths) ? pick(r, PROTOTYPE_PATHS) : pick(r, paths)
      condition[path] = chance(r, 0.25) ? randomValue(r) : operatorCondition(r, depth, o)
    }
  }
  return condition
}

/** A random experiment design: 2–10 arms, weights, experiment holdout, coverage, namespace, unicode seed. */
export function randomExperiment(r: Random, index: number, options: ParityOptions = {}): AssignableExperiment {
  const armCount = int(r, 2, 10)
  const raw = Array.from({ length: armCount }, () => (chance(r, 0.3) ? 1 : 0.05 + r()))
  const total = raw.reduce((s, w) => s + w, 0)
  const weights = raw.map((w) => w / total)
  const coverage = chance(r, 0.3) ? 1 : chance(r, 0.1) ? 0 : Math.round(r() * 1000) / 1000
  const holdoutPct = chance(r, 0.4) ? 0 : pick(r, [0.05, 0.1, 0.2, 0.5, Math.round(r() * 500) / 1000])
  let namespace: AssignableExperiment['namespace'] = null
  if (chance(r, 0.3)) {
    const a = Math.round(r() * 1000) / 1000
    const b = Math.round(r() * 1000) / 1000
    namespace = { name: randomText(r, 1, 8), range: [Math.min(a, b), Math.max(a, b)] }
  }
  return {
    id: `exp-${index}`,
    seed: randomText(r, 1, 12),
    status: chance(r, 0.95) ? 'running' : pick(r, ['draft', 'paused', 'stopped'] as const),
    arms: weights.map((weight, i) => ({ key: `arm${i}`, weight, isControl: i === 0, offer: { arm: i } })),
    holdoutPct,
    coverage,
    targeting: chance(r, 0.35) ? null : randomCondition(r, 0, options),
    namespace,
  }
}

export function randomGlobalHoldout(r: Random): GlobalHoldout {
  return { pct: pick(r, [0, 0, 0.05, 0.1, 0.3]), seed: randomText(r, 1, 10) }
}

/** Attribute the SDK hashes: the customer id, under a name the random conditions never use. */
const HASH_ATTRIBUTE = '__customerId'

/** The experiment as a GrowthBook SDK runs it, per README "Concepts". Variation values are arm keys. */
export function sdkExperiment(exp: AssignableExperiment): Experiment<string> {
  const withHoldout = exp.holdoutPct > 0
  const keys = exp.arms.map((a) => a.key)
  const weights = exp.arms.map((a) => (withHoldout ? a.weight * (1 - exp.holdoutPct) : a.weight))
  return {
    key: exp.id,
    seed: exp.seed,
    hashVersion: 2,
    hashAttribute: HASH_ATTRIBUTE,
    // Our experiments have at least two arms; the SDK's type says so with a tuple.
    variations: (withHoldout ? [HOLDOUT_ARM, ...keys] : keys) as [string, string, ...string[]],
    weights: withHoldout ? [exp.holdoutPct, ...weights] : weights,
    coverage: exp.coverage,
    ...(exp.namespace ? { namespace: [exp.namespace.name, exp.namespace.range[0], exp.namespace.range[1]] as [string, number, number] } : {}),
    ...(exp.targeting && Object.keys(exp.targeting).length > 0 ? { condition: exp.targeting as Experiment<string>['condition'] } : {}),
    ...(exp.status === 'draft' ? { status: 'draft' as const } : exp.status === 'running' ? {} : { active: false }),
  }
}

/** The platform's global holdout as a GrowthBook experiment: variation 0 is the held-out share. */
export function sdkGlobalHoldout(global: GlobalHoldout): Experiment<boolean> {
  return {
    key: '__global_holdout',
    seed: global.seed,
    hashVersion: 2,
    hashAttribute: HASH_ATTRIBUTE,
    variations: [true, false],
    weights: [global.pct, 1 - global.pct],
  }
}

/** What both sides are compared on: the arm (or null when excluded) and, when assigned, the hash bucket. */
export interface Outcome {
  arm: string | null
  bucket: number | null
}

export function ourOutcome(compiled: CompiledExperiment, customerId: string, attributes: Record<string, unknown>, global: GlobalHoldout): Outcome {
  const a: Assignment = assignCompiled(compiled, customerId, attributes, global)
  return { arm: a.arm, bucket: a.inExperiment ? a.bucket : null }
}

/** A GrowthBook SDK run: one shared `GrowthBookClient`, or a fresh `GrowthBook` per customer (`perRequest`). */
export function sdkOutcome(
  client: GrowthBookClient | 'perRequest',
  experiment: Experiment<string>,
  globalHoldout: Experiment<boolean>,
  customerId: string,
  attributes: Record<string, unknown>,
): Outcome {
  const withId = { ...attributes, [HASH_ATTRIBUTE]: customerId }
  let run: <T>(e: Experiment<T>) => { inExperiment: boolean; value: T; bucket?: number }
  if (client === 'perRequest') {
    const gb = new GrowthBook({ attributes: withId })
    run = (e) => gb.run(e)
  } else {
    run = (e) => client.runInlineExperiment(e, { attributes: withId })
  }
  const result = run(experiment)
  if (!result.inExperiment) return { arm: null, bucket: null }
  // The global holdout applies to customers who pass the experiment's own checks.
  if (run(globalHoldout).value) return { arm: null, bucket: null }
  return { arm: result.value, bucket: result.bucket ?? null }
}

/** Why an outcome differs on purpose, or null when nothing in the case explains a mismatch. */
export type KnownDifference = 'prototype path' | 'prototype-named pattern'

/** The known difference a condition exercises (see README "Concepts"), if any. */
export function knownDifferenceIn(condition: unknown): KnownDifference | null {
  const text = JSON.stringify(condition ?? null)
  for (const path of PROTOTYPE_PATHS) if (text.includes(`"${path}":`)) return 'prototype path'
  for (const p of PROTOTYPE_NAMED_PATTERNS) if (text.includes(`"$regex":"${p}"`)) return 'prototype-named pattern'
  return null
}

export interface ParityReport {
  comparisons: number
  experiments: number
  agreeing: number
  /** Mismatches explained by a known difference, by kind. */
  known: Record<KnownDifference, number>
  /** Mismatches nothing explains: must be empty. The first few, with what reproduces them. */
  unexplained: { seed: number; experiment: AssignableExperiment; customerId: string; attributes: Record<string, unknown>; ours: Outcome; sdk: Outcome }[]
  unexplainedCount: number
  /** How many assignments passed targeting, were in the experiment, and fell in the global holdout. */
  inExperiment: number
}

/**
 * Compare `api/assignment` with the GrowthBook SDK on `experiments × customersPerExperiment` random cases.
 *
 * @example
 * const report = compareWithGrowthBook({ seed: 1, experiments: 200, customersPerExperiment: 25 })
 * report.unexplainedCount // 0
 */
export function compareWithGrowthBook(opts: {
  seed: number
  experiments: number
  customersPerExperiment: number
  sdk?: 'client' | 'perRequest'
  options?: ParityOptions
}): ParityReport {
  const r = seededRandom(opts.seed)
  const client = opts.sdk === 'perRequest' ? 'perRequest' : new GrowthBookClient({})
  const report: ParityReport = {
    comparisons: 0,
    experiments: opts.experiments,
    agreeing: 0,
    known: { 'prototype path': 0, 'prototype-named pattern': 0 },
    unexplained: [],
    unexplainedCount: 0,
    inExperiment: 0,
  }
  for (let e = 0; e < opts.experiments; e++) {
    const exp = randomExperiment(r, e, opts.options)
    const global = randomGlobalHoldout(r)
    const compiled = compileExperiment(exp)
    const sdkExp = sdkExperiment(exp)
    const sdkGlobal = sdkGlobalHoldout(global)
    const known = knownDifferenceIn(exp.targeting)
    for (let c = 0; c < opts.customersPerExperiment; c++) {
      const customerId = randomText(r, 1, 16)
      const attributes = randomAttributes(r)
      const ours = ourOutcome(compiled, customerId, attributes, global)
      const sdk = sdkOutcome(client, sdkExp, sdkGlobal, customerId, attributes)
      report.comparisons++
      if (ours.arm !== null) report.inExperiment++
      if (ours.arm === sdk.arm && ours.bucket === sdk.bucket) {
        report.agreeing++
      } else if (known) {
        report.known[known]++
      } else {
        report.unexplainedCount++
        if (report.unexplained.length < 5) report.unexplained.push({ seed: opts.seed, experiment: exp, customerId, attributes, ours, sdk })
      }
    }
  }
  return report
}

/**
 * Compare `evalCondition` with the SDK's on random conditions alone (targeting decides most outcomes, so this
 * checks it more often than whole assignments can). Returns the unexplained disagreements.
 */
export function compareConditions(
  seed: number,
  count: number,
  ours: (attributes: Record<string, unknown>, condition: Condition) => boolean,
  options: ParityOptions = {},
): {
  checks: number
  matched: number
  known: number
  unexplained: { condition: Condition; attributes: Record<string, unknown>; ours: boolean; sdk: boolean }[]
} {
  const r = seededRandom(seed)
  const out = {
    checks: 0,
    matched: 0,
    known: 0,
    unexplained: [] as { condition: Condition; attributes: Record<string, unknown>; ours: boolean; sdk: boolean }[],
  }
  for (let i = 0; i < count; i++) {
    const condition = randomCondition(r, 0, options)
    const attributes = randomAttributes(r)
    const a = ours(attributes, condition)
    const b = sdkEvalCondition(attributes, condition as Parameters<typeof sdkEvalCondition>[1])
    out.checks++
    if (a) out.matched++
    if (a === b) continue
    if (knownDifferenceIn(condition)) out.known++
    else out.unexplained.push({ condition, attributes, ours: a, sdk: b })
  }
  return out
}
