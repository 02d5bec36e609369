import { describe, expect, it } from 'vitest'
import { evalCondition, validateCondition } from '../../../api/assignment/targeting.ts'
import { serverNeeds, targetingProblem, type SegmentKeys } from '../../../api/segments/targeting-refs.ts'

const keys: SegmentKeys = new Map([
  ['lapsed_regulars', { archived: false }],
  ['champions', { archived: false }],
  ['retired', { archived: true }],
])

describe('serverNeeds', () => {
  it.each([
    [{ cartValue: { $gte: 20 } }, { features: false, segments: false, rfmGroup: false }],
    [{ segments: { $in: ['champions'] } }, { features: false, segments: true, rfmGroup: false }],
    [{ 'features.lapse_stage': 'lapsed' }, { features: true, segments: false, rfmGroup: false }],
    [{ $or: [{ tier: 'gold' }, { $not: { 'features.rfm_group': 'champions' } }] }, { features: true, segments: false, rfmGroup: true }],
    [{ $and: [{ segments: { $nin: ['champions'] } }, { 'features.orders_90d': 0 }] }, { features: true, segments: true, rfmGroup: false }],
    // A path inside $elemMatch is relative to an element of some caller attribute, not to the customer.
    [{ orders: { $elemMatch: { segments: 1 } } }, { features: false, segments: false, rfmGroup: false }],
  ])('%j needs %j', (condition, needs) => {
    expect(serverNeeds(condition)).toEqual(needs)
  })
})

describe('targetingProblem', () => {
  it.each([
    [{ 'features.lapse_stage': { $in: ['lapsed', 'dormant'] }, segments: { $all: ['champions', 'lapsed_regulars'] } }],
    [{ segments: { $elemMatch: { $eq: 'champions' } } }],
    [{ $nor: [{ segments: { $nin: ['champions'] } }, { segments: { $size: 0 } }] }],
    [{ 'features.rfm_group': 'at_risk', 'features.recency_days': { $exists: true, $lte: 30 } }],
    [{ cartValue: { $gte: 20 }, 'address.country': 'DE' }],
  ])('accepts %j', (condition) => {
    expect(validateCondition(condition)).toBeNull()
    expect(targetingProblem(condition, keys)).toBeNull()
  })

  it.each([
    [{ 'features.nope': 1 }, 'features.nope', /unknown feature "nope"/],
    [{ features: { $exists: true } }, 'features', /features\.<name>/],
    [{ 'features.orders_90d': { $gte: 'two' } }, 'features.orders_90d.$gte', /must be a number/],
    [{ 'features.lapse_stage': { $regex: '^l' } }, 'features.lapse_stage.$regex', /unsupported operator/],
    [{ $or: [{ 'features.rfm_group': { $in: ['champions', 'whales'] } }] }, '$or[0].features.rfm_group.$in[1]', /must be one of/],
    [{ segments: 'champions' }, 'segments', /a bare value compares the whole list/],
    [{ segments: ['champions'] }, 'segments', /\$in/],
    [{ segments: { $eq: 'champions' } }, 'segments.$eq', /\$eq would compare the whole list/],
    [{ segments: { $in: [] } }, 'segments.$in', /non-empty/],
    [{ segments: { $in: ['champions', 7] } }, 'segments.$in[1]', /a string/],
    [{ segments: { $in: ['champions', 'nope'] } }, 'segments.$in[1]', /unknown segment "nope"; live segments: lapsed_regulars, champions$/],
    [{ $not: { segments: { $not: { $all: ['retired'] } } } }, '$not.segments.$not.$all[0]', /segment "retired" is archived/],
    [{ segments: { $elemMatch: { $regex: 'champ' } } }, 'segments.$elemMatch.$regex', /\$eq, \$ne, \$in or \$nin/],
  ])('refuses %j at %s', (condition, path, message) => {
    expect(validateCondition(condition)).toBeNull()
    const problem = targetingProblem(condition, keys)
    expect(problem?.path).toBe(path)
    expect(problem?.message).toMatch(message)
  })
})

describe('the segments idioms under evalCondition', () => {
  const customer = { segments: ['lapsed_regulars', 'champions'] }
  it('matches membership with $in, $all, $nin and $elemMatch', () => {
    expect(evalCondition(customer, { segments: { $in: ['champions', 'other'] } })).toBe(true)
    expect(evalCondition(customer, { segments: { $all: ['champions', 'lapsed_regulars'] } })).toBe(true)
    expect(evalCondition(customer, { segments: { $all: ['champions', 'other'] } })).toBe(false)
    expect(evalCondition(customer, { segments: { $nin: ['other'] } })).toBe(true)
    expect(evalCondition(customer, { segments: { $nin: ['champions'] } })).toBe(false)
    expect(evalCondition(customer, { segments: { $elemMatch: { $eq: 'champions' } } })).toBe(true)
    expect(evalCondition({ segments: [] }, { segments: { $in: ['champions'] } })).toBe(false)
  })

  it('compares a bare value with the whole list, which is why targetingProblem refuses it', () => {
    expect(evalCondition(customer, { segments: 'champions' })).toBe(false)
    expect(evalCondition({ segments: ['champions'] }, { segments: 'champions' })).toBe(true)
  })
})
