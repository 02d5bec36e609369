import { describe, expect, it } from 'vitest'
import { evalCondition as sdkEvalCondition } from '@growthbook/growthbook'
import { FIELD_OPERATORS, LOGICAL_OPERATORS, evalCondition, validateCondition, type Condition } from '../../../api/assignment/index.ts'
import { PARITY_PATTERNS, compareConditions, compareWithGrowthBook, randomCondition, seededRandom } from './growthbookParity.ts'

// `@growthbook/growthbook` (devDependency, 1.8.x) is the reference: every random case must give the same arm
// and the same hash bucket, or be one of the known differences listed in README "Concepts".
const sdk = (attributes: Record<string, unknown>, condition: Condition) => sdkEvalCondition(attributes, condition as Parameters<typeof sdkEvalCondition>[1])

describe('assignment parity with the GrowthBook SDK', () => {
  it('assigns 8,000 random customers to the same arm and bucket as GrowthBookClient', () => {
    const report = compareWithGrowthBook({ seed: 20261201, experiments: 400, customersPerExperiment: 20 })
    expect(report.unexplained).toEqual([])
    expect(report.comparisons).toBe(8_000)
    // Enough customers get through targeting, namespace, coverage and holdout to test the bucketing itself.
    expect(report.inExperiment).toBeGreaterThan(1_000)
  })

  it('assigns like a fresh GrowthBook instance per customer', () => {
    const report = compareWithGrowthBook({ seed: 7, experiments: 100, customersPerExperiment: 10, sdk: 'perRequest' })
    expect(report.unexplained).toEqual([])
    expect(report.agreeing).toBe(1_000)
  })

  it('evaluates 20,000 random targeting conditions as the SDK evalCondition does', () => {
    const result = compareConditions(42, 20_000, evalCondition)
    expect(result.unexplained).toEqual([])
    // Neither trivially true nor trivially false.
    expect(result.matched).toBeGreaterThan(1_000)
    expect(result.matched).toBeLessThan(19_000)
  })

  it('generates only savable conditions, with every supported operator and regex pattern', () => {
    const r = seededRandom(42)
    const seen = new Set<string>()
    for (let i = 0; i < 5_000; i++) {
      const condition = randomCondition(r)
      expect(validateCondition(condition)).toBeNull()
      JSON.stringify(condition, (key, value) => (seen.add(key), value))
      for (const match of JSON.stringify(condition).matchAll(/"\$regex":("(?:[^"\\]|\\.)*")/g)) seen.add(`regex:${JSON.parse(match[1])}`)
    }
    for (const operator of [...FIELD_OPERATORS, ...LOGICAL_OPERATORS]) expect(seen, operator).toContain(operator)
    for (const pattern of PARITY_PATTERNS) expect(seen, pattern).toContain(`regex:${pattern}`)
  })

  it('agrees on $elemMatch over falsy elements (issue 24)', () => {
    const cases: [Condition, Record<string, unknown>][] = [
      [{ scores: { $elemMatch: { $eq: 0 } } }, { scores: [0] }],
      [{ tags: { $elemMatch: { $eq: '' } } }, { tags: [''] }],
      [{ flags: { $elemMatch: { $eq: false } } }, { flags: [false] }],
      [{ flags: { $elemMatch: { $exists: false } } }, { flags: [null] }],
    ]
    for (const [condition, attributes] of cases) expect(evalCondition(attributes, condition)).toBe(sdk(attributes, condition))
    expect(evalCondition({ scores: [0] }, { scores: { $elemMatch: { $eq: 0 } } })).toBe(true)
  })
})

describe('known differences from the GrowthBook SDK (README "Concepts")', () => {
  it('does not follow attribute paths into the prototype', () => {
    const condition = { constructor: { $exists: true } }
    expect(sdk({}, condition)).toBe(true)
    expect(evalCondition({}, condition)).toBe(false)
  })

  it('matches a pattern named like an Object.prototype member, which the SDK regex cache turns into no match', () => {
    for (const pattern of ['constructor', 'toString', '__proto__']) {
      const condition = { name: { $regex: pattern } }
      expect(sdk({ name: pattern }, condition)).toBe(false)
      expect(evalCondition({ name: pattern }, condition)).toBe(true)
    }
  })

  it('refuses patterns RE2 cannot run, which the SDK runs by backtracking', () => {
    for (const pattern of ['(?<=@)example', '^(a)\\1$', '^(?!test)']) {
      const condition = { email: { $regex: pattern } }
      expect(validateCondition(condition)?.path).toBe('email.$regex')
      expect(evalCondition({ email: 'aa@example' }, condition)).toBe(false)
    }
    expect(sdk({ email: 'aa@example' }, { email: { $regex: '(?<=@)example' } })).toBe(true)
  })

  it.each<[string, string, string]>([
    ['. matches \\r, \\u2028 and \\u2029 in RE2, not in JavaScript', 'a.b', 'a\rb'],
    ['\\s is ASCII whitespace in RE2, Unicode whitespace in JavaScript', 'a\\sb', 'a\u00a0b'],
    ['an astral character is one character in RE2, two UTF-16 units in JavaScript', '^.$', '😀'],
  ])('%s', (_what, pattern, value) => {
    const condition = { v: { $regex: pattern } }
    expect(validateCondition(condition)).toBeNull()
    expect(evalCondition({ v: value }, condition)).toBe(!sdk({ v: value }, condition))
  })

  it('explains every mismatch of a random run that includes prototype paths and prototype-named patterns', () => {
    const options = { prototypePaths: 0.05, prototypeNamedPatterns: 0.1 }
    const conditions = compareConditions(3, 10_000, evalCondition, options)
    expect(conditions.unexplained).toEqual([])
    expect(conditions.known).toBeGreaterThan(0)
    const report = compareWithGrowthBook({ seed: 3, experiments: 300, customersPerExperiment: 10, options })
    expect(report.unexplained).toEqual([])
    expect(report.known['prototype path'] + report.known['prototype-named pattern']).toBeGreaterThan(0)
  })
})
