import { describe, expect, it } from 'vitest'
import { MAX_REGEX_LENGTH, evalCondition, validateCondition, type Condition } from '../../../api/assignment/targeting.ts'
import { growthbookCases } from './growthbookCases.ts'

// GrowthBook's version operators ($veq $vne $vgt $vgte $vlt $vlte) are deliberately unsupported: their cases
// are left out of the fixture (see test/fixtures/growthbook/SOURCE.md). Every other evalCondition case is here.
describe('evalCondition (GrowthBook spec cases)', () => {
  it.each(growthbookCases.evalCondition)('%s', (_name, condition, attributes, expected) => {
    expect(evalCondition(attributes, condition)).toBe(expected)
  })
})

const customer = {
  tier: 'gold',
  recencyDays: 95,
  churnRisk: 0.72,
  orders: 7,
  channel: 'email',
  email: 'ana@example.com',
  segments: ['lapsed', 'high_value', 'newsletter'],
  lastOrders: [
    { sku: 'A-1', amount: 42 },
    { sku: 'B-7', amount: 180 },
  ],
  profile: { country: 'DE', address: { city: 'Berlin' } },
  vip: false,
  referrer: null,
}

// One row per supported operator, over the kind of attributes a CRM sends: [operator, condition, expected].
const operatorTable: [string, Condition, boolean][] = [
  ['$eq', { tier: { $eq: 'gold' } }, true],
  ['$eq', { tier: { $eq: 'silver' } }, false],
  ['$ne', { channel: { $ne: 'sms' } }, true],
  ['$ne', { channel: { $ne: 'email' } }, false],
  ['$gt', { recencyDays: { $gt: 90 } }, true],
  ['$gt', { recencyDays: { $gt: 95 } }, false],
  ['$gte', { recencyDays: { $gte: 95 } }, true],
  ['$gte', { churnRisk: { $gte: 0.8 } }, false],
  ['$lt', { orders: { $lt: 10 } }, true],
  ['$lt', { orders: { $lt: 7 } }, false],
  ['$lte', { orders: { $lte: 7 } }, true],
  ['$lte', { orders: { $lte: 6 } }, false],
  ['$in', { tier: { $in: ['gold', 'platinum'] } }, true],
  ['$in', { tier: { $in: ['bronze', 'silver'] } }, false],
  ['$in (array attribute intersects)', { segments: { $in: ['lapsed', 'at_risk'] } }, true],
  ['$nin', { channel: { $nin: ['sms', 'push'] } }, true],
  ['$nin', { channel: { $nin: ['email'] } }, false],
  ['$exists', { email: { $exists: true } }, true],
  ['$exists', { phone: { $exists: true } }, false],
  ['$exists (null counts as absent)', { referrer: { $exists: false } }, true],
  ['$regex', { email: { $regex: '@example\\.com$' } }, true],
  ['$regex', { email: { $regex: '^bob@' } }, false],
  ['$and', { $and: [{ tier: 'gold' }, { churnRisk: { $gt: 0.5 } }] }, true],
  ['$and', { $and: [{ tier: 'gold' }, { churnRisk: { $gt: 0.9 } }] }, false],
  ['$or', { $or: [{ tier: 'platinum' }, { recencyDays: { $gt: 60 } }] }, true],
  ['$or', { $or: [{ tier: 'platinum' }, { recencyDays: { $gt: 180 } }] }, false],
  ['$nor', { $nor: [{ channel: 'sms' }, { vip: true }] }, true],
  ['$nor', { $nor: [{ channel: 'email' }, { vip: true }] }, false],
  ['$not (condition)', { $not: { tier: 'bronze' } }, true],
  ['$not (field)', { tier: { $not: { $in: ['gold'] } } }, false],
  ['$elemMatch (values)', { segments: { $elemMatch: { $eq: 'high_value' } } }, true],
  ['$elemMatch (objects)', { lastOrders: { $elemMatch: { amount: { $gt: 100 }, sku: { $regex: '^B' } } } }, true],
  ['$elemMatch (objects)', { lastOrders: { $elemMatch: { amount: { $gt: 100 }, sku: 'A-1' } } }, false],
  ['$size', { segments: { $size: 3 } }, true],
  ['$size (nested operator)', { lastOrders: { $size: { $gte: 3 } } }, false],
  ['$all', { segments: { $all: ['lapsed', 'newsletter'] } }, true],
  ['$all', { segments: { $all: ['lapsed', 'vip'] } }, false],
  ['$type', { churnRisk: { $type: 'number' } }, true],
  ['$type', { referrer: { $type: 'null' } }, true],
  ['$type', { profile: { $type: 'array' } }, false],
  ['dot path', { 'profile.address.city': 'Berlin' }, true],
  ['dot path', { 'profile.country': { $in: ['FR', 'NL'] } }, false],
  ['dot path into an array index', { 'lastOrders.1.sku': 'B-7' }, true],
  ['several fields are ANDed', { tier: 'gold', channel: 'email', vip: false }, true],
  ['several operators on one field are ANDed', { recencyDays: { $gte: 60, $lt: 90 } }, false],
]

describe('evalCondition', () => {
  it.each(operatorTable)('%s: %j → %s', (_operator, condition, expected) => {
    expect(evalCondition(customer, condition)).toBe(expected)
  })

  // GitHub issue 24: the GrowthBook SDK skips only null elements; 0, '' and false are array members like any other.
  it.each<[Condition, Record<string, unknown>, boolean]>([
    [{ scores: { $elemMatch: { $eq: 0 } } }, { scores: [0] }, true],
    [{ scores: { $elemMatch: { $lt: 1 } } }, { scores: [5, 0] }, true],
    [{ tags: { $elemMatch: { $eq: '' } } }, { tags: ['a', ''] }, true],
    [{ flags: { $elemMatch: { $eq: false } } }, { flags: [false] }, true],
    [{ flags: { $elemMatch: { $exists: false } } }, { flags: [null] }, false],
    [{ flags: { $elemMatch: { $type: 'null' } } }, { flags: [null, 1] }, false],
  ])('$elemMatch tests falsy elements and skips only null: %j on %j → %s', (condition, attributes, expected) => {
    expect(evalCondition(attributes, condition)).toBe(expected)
  })

  it('matches everyone with an empty condition', () => {
    expect(evalCondition({}, {})).toBe(true)
  })

  it('does not follow paths into the prototype', () => {
    expect(evalCondition({}, { constructor: { $exists: true } })).toBe(false)
    expect(evalCondition({ a: {} }, { 'a.toString': { $exists: true } })).toBe(false)
  })

  it('treats an unknown operator as not matching', () => {
    expect(evalCondition(customer, { tier: { $veq: '1.0.0' } })).toBe(false)
  })
})

describe('validateCondition', () => {
  it('accepts every operator it evaluates', () => {
    for (const [, condition] of operatorTable) expect(validateCondition(condition)).toBeNull()
  })

  it('accepts the GrowthBook cases except the ones that exercise invalid input', () => {
    const rejected = growthbookCases.evalCondition.filter(([, condition]) => validateCondition(condition) !== null).map(([name]) => name)
    expect(rejected).toEqual([
      // `$groups` is GrowthBook-internal: a top-level `$` key that is no operator reads there as an attribute
      // name. We reject it, because here it is almost always a misspelt operator.
      '$groups - match',
      '$groups - no match',
      '$in - not array',
      '$nin - not array',
      'unknown operator - pass',
      '$regex invalid - pass',
      '$regex invalid - fail',
    ])
  })

  it.each<[string, unknown, { path: string; message: RegExp }]>([
    ['an unknown field operator', { age: { $gtt: 30 } }, { path: 'age.$gtt', message: /unknown operator "\$gtt"/ }],
    ['an unknown top-level operator', { $xor: [] }, { path: '$xor', message: /unknown operator "\$xor"/ }],
    ['an invalid regex', { email: { $regex: '([a-z]+' } }, { path: 'email.$regex', message: /invalid regular expression/ }],
    ['a non-string regex', { email: { $regex: 5 } }, { path: 'email.$regex', message: /expects a string/ }],
    [
      'a deeply nested problem',
      { $or: [{ tier: 'gold' }, { $and: [{ 'profile.country': { $inn: ['DE'] } }] }] },
      { path: '$or[1].$and[0].profile.country.$inn', message: /unknown operator/ },
    ],
    ['a version operator', { appVersion: { $vgt: '2.0.0' } }, { path: 'appVersion.$vgt', message: /version operator "\$vgt" is not supported/ }],
    ['a saved group', { id: { $inGroup: 'vips' } }, { path: 'id.$inGroup', message: /saved groups/ }],
    ['$in without an array', { tier: { $in: 'gold' } }, { path: 'tier.$in', message: /expects an array/ }],
    ['$all without an array', { segments: { $all: 'lapsed' } }, { path: 'segments.$all', message: /expects an array/ }],
    ['$exists without a boolean', { email: { $exists: 1 } }, { path: 'email.$exists', message: /true or false/ }],
    ['$gt with an object', { orders: { $gt: { n: 1 } } }, { path: 'orders.$gt', message: /number or a string/ }],
    ['$type with an unknown type', { a: { $type: 'date' } }, { path: 'a.$type', message: /\$type expects one of/ }],
    ['$size with a string', { a: { $size: 'three' } }, { path: 'a.$size', message: /\$size expects/ }],
    [
      '$elemMatch with a bad inner condition',
      { lastOrders: { $elemMatch: { amount: { $between: [1, 2] } } } },
      { path: 'lastOrders.$elemMatch.amount.$between', message: /unknown operator/ },
    ],
    ['$not with a bad inner regex', { email: { $not: { $regex: '[' } } }, { path: 'email.$not.$regex', message: /invalid regular expression/ }],
    ['$and without an array', { $and: { tier: 'gold' } }, { path: '$and', message: /expects an array/ }],
    ['$or with a non-object entry', { $or: ['gold'] }, { path: '$or[0]', message: /must be an object/ }],
    ['operators mixed with plain keys', { orders: { $gt: 1, lt: 5 } }, { path: 'orders', message: /mixes operators/ }],
    ['a condition that is not an object', ['tier', 'gold'], { path: '', message: /must be an object/ }],
    ['a null condition', null, { path: '', message: /must be an object/ }],
  ])('rejects %s, naming the path', (_what, condition, expected) => {
    const error = validateCondition(condition)
    expect(error).not.toBeNull()
    expect(error!.path).toBe(expected.path)
    expect(error!.message).toMatch(expected.message)
  })
})

describe('$regex on a linear-time engine', () => {
  it('answers a catastrophic-backtracking pattern on a 16 KB attribute without hanging', () => {
    const email = 'a'.repeat(16 * 1024) + '!'
    expect(evalCondition({ email }, { email: { $regex: '^(a+)+$' } })).toBe(false)
    expect(evalCondition({ email: 'a'.repeat(16 * 1024) }, { email: { $regex: '^(a+)+$' } })).toBe(true)
  })

  it.each<[string, string, string, boolean]>([
    ['a \\uXXXX escape', '^caf\\u00e9$', 'café', true],
    ['a \\cX control escape', 'a\\cJb', 'a\nb', true],
    ['an identity escape', '^a\\-b\\/c$', 'a-b/c', true],
    ['a named group', '^(?<user>[a-z]+)@', 'ana@example.com', true],
    ['\\d and \\w classes', '^\\w+-\\d{3}$', 'sku-042', true],
    ['an alternation', '(Mobile|Tablet)', 'Chrome Desktop Browser', false],
    ['$ at the end of the input only', '^a$', 'a\nb', false],
  ])('reads JavaScript syntax: %s', (_what, pattern, value, expected) => {
    expect(validateCondition({ v: { $regex: pattern } })).toBeNull()
    expect(evalCondition({ v: value }, { v: { $regex: pattern } })).toBe(expected)
    expect(new RegExp(pattern).test(value)).toBe(expected)
  })

  it.each<[string, string]>([
    ['a backreference', '^(a)\\1$'],
    ['a lookahead', '^(?=.*@)'],
    ['a negative lookahead', '^(?!test)'],
    ['a lookbehind', '(?<=@)example'],
    ['a negative lookbehind', '(?<!no-)reply'],
  ])('refuses %s, which RE2 cannot run, naming the path', (_what, pattern) => {
    const error = validateCondition({ $or: [{ email: { $regex: pattern } }] })
    expect(error).toEqual({ path: '$or[0].email.$regex', message: expect.stringMatching(/not supported by the linear-time engine/) })
    // Saved some other way, it matches nothing, like an invalid pattern.
    expect(evalCondition({ email: 'aa@example.com' }, { email: { $regex: pattern } })).toBe(false)
  })

  it('refuses RE2-only syntax that GrowthBook SDKs would not compile', () => {
    expect(validateCondition({ v: { $regex: '(?i)gold' } })).toEqual({
      path: 'v.$regex',
      message: expect.stringMatching(/invalid regular expression/),
    })
    expect(evalCondition({ v: 'gold' }, { v: { $regex: '(?i)gold' } })).toBe(false)
  })

  it(`refuses a pattern longer than ${MAX_REGEX_LENGTH} characters`, () => {
    expect(validateCondition({ v: { $regex: 'a'.repeat(MAX_REGEX_LENGTH) } })).toBeNull()
    expect(validateCondition({ v: { $regex: 'a'.repeat(MAX_REGEX_LENGTH + 1) } })).toEqual({
      path: 'v.$regex',
      message: `regular expression too long: ${MAX_REGEX_LENGTH + 1} characters, at most ${MAX_REGEX_LENGTH}`,
    })
  })
})
