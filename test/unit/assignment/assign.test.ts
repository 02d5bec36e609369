import { describe, expect, it } from 'vitest'
import { armShares, assignCompiled, assignCustomer, compileExperiment, type AssignableExperiment, type Assignment } from '../../../api/assignment/assign.ts'
import { chooseVariation, getBucketRanges, inNamespace } from '../../../api/assignment/buckets.ts'
import { hash } from '../../../api/assignment/hash.ts'
import { customerIds, globalHoldout, winbackExperiment } from './experiments.ts'

const ids = customerIds(20_000)
const isGlobalHoldout = (id: string) => hash(globalHoldout.seed, id, 2)! < globalHoldout.pct
const noGlobalHoldout = { pct: 0, seed: 'unused' }

/** The first id satisfying every predicate; the tests pick customers by the spec's own primitives. */
function findId(...predicates: ((id: string) => boolean)[]): string {
  const id = ids.find((candidate) => predicates.every((p) => p(candidate)))
  if (id === undefined) throw new Error('no customer id satisfies the predicates')
  return id
}

describe('assignCustomer', () => {
  it('gives the same customer the same arm every time, from a fresh or a compiled experiment', () => {
    const experiment = winbackExperiment()
    const compiled = compileExperiment(experiment)
    for (const id of ids.slice(0, 2000)) {
      const first = assignCustomer(experiment, id, {}, globalHoldout)
      expect(assignCustomer(structuredClone(experiment), id, {}, globalHoldout)).toEqual(first)
      expect(assignCompiled(compiled, id, {}, globalHoldout)).toEqual(first)
    }
  })

  it('answers with the arm, its offer, the exposure to log and the bucket', () => {
    const experiment = winbackExperiment()
    const id = findId(
      (c) => !isGlobalHoldout(c),
      (c) => hash(experiment.seed, c, 2)! >= 0.1 + 0.45 + 0.27,
    )
    expect(assignCustomer(experiment, id, {}, globalHoldout)).toEqual<Assignment>({
      experimentId: 'spring-winback',
      customerId: id,
      arm: 'free_shipping',
      offer: { type: 'free_shipping' },
      inExperiment: true,
      reason: null,
      exposure: { arm: 'free_shipping' },
      bucket: hash(experiment.seed, id, 2),
    })
  })

  it('puts the experiment holdout in the leading bucket range, with no offer but an exposure', () => {
    const experiment = winbackExperiment({ holdoutPct: 0.1 })
    const id = findId(
      (c) => !isGlobalHoldout(c),
      (c) => hash(experiment.seed, c, 2)! < 0.1,
    )
    expect(assignCustomer(experiment, id, {}, globalHoldout)).toMatchObject({
      arm: 'holdout',
      offer: null,
      inExperiment: true,
      reason: null,
      exposure: { arm: 'holdout' },
    })
  })

  it('has no holdout arm when holdoutPct is 0', () => {
    const experiment = winbackExperiment({ holdoutPct: 0 })
    const arms = new Set(ids.slice(0, 5000).map((id) => assignCustomer(experiment, id, {}, noGlobalHoldout).arm))
    expect([...arms].sort()).toEqual(['control', 'free_shipping', 'ten_off'])
  })

  it('computes the same arm as GrowthBook bucketing with the holdout as a leading variation', () => {
    const experiment = winbackExperiment({ holdoutPct: 0.15, coverage: 0.7 })
    const weights = [0.15, ...experiment.arms.map((a) => a.weight * 0.85)]
    const ranges = getBucketRanges(weights.length, 0.7, weights)
    const keys = ['holdout', ...experiment.arms.map((a) => a.key)]
    for (const id of ids.slice(0, 5000)) {
      const variation = chooseVariation(hash(experiment.seed, id, 2)!, ranges)
      const { arm, reason } = assignCustomer(experiment, id, {}, noGlobalHoldout)
      expect(arm).toBe(variation < 0 ? null : keys[variation])
      expect(reason).toBe(variation < 0 ? 'coverage' : null)
    }
  })
})

// Experiments evaluated by GrowthBook's own SDK in its spec (packages/sdk-js/test/cases.json at commit
// 021bf498, see test/fixtures/growthbook/SOURCE.md), re-expressed as our experiments.
describe('agreement with GrowthBook SDK results', () => {
  const arms = (weights: number[]) => weights.map((weight, i) => ({ key: `v${i}`, weight, isControl: i === 0, offer: null }))
  const gb = (overrides: Partial<AssignableExperiment>): AssignableExperiment => winbackExperiment({ holdoutPct: 0, coverage: 1, ...overrides })

  it.each<[string, AssignableExperiment, string, Record<string, unknown>, string, number]>([
    // feature › "creates experiments properly": ranges [[0, 0.1], [0.1, 1]], namespace ["pricing", 0, 1]
    [
      'creates experiments properly',
      gb({ seed: 'feature', arms: arms([0.1, 0.9]), targeting: { premium: true }, namespace: { name: 'pricing', range: [0, 1] } }),
      '123',
      { premium: true },
      'v1',
      0.5231,
    ],
    // stickyBucket › "performs evaluation without sticky bucket" (hashed on deviceId "d123")
    [
      'performs evaluation without sticky bucket',
      gb({ seed: 'feature-exp', arms: arms([0.3334, 0.3333, 0.3333]), targeting: { country: 'USA' } }),
      'd123',
      { country: 'USA' },
      'v1',
      0.6468,
    ],
    // stickyBucket › "disables sticky bucketing when disabled by experiment"
    ['disables sticky bucketing when disabled by experiment', gb({ seed: 'feature-exp', arms: arms([0.3334, 0.3333, 0.3333]) }), 'i123', {}, 'v2', 0.9943],
    // feature › "Support passthrough variations" (second rule, seed = key "experiment")
    ['Support passthrough variations', gb({ seed: 'experiment', arms: arms([0.5, 0.5]) }), '1', {}, 'v0', 0.4413],
    // feature › "Support holdout groups" (ranges [[0, 0.99], [0.99, 1]], seed = key "holdout")
    ['Support holdout groups', gb({ seed: 'holdout', arms: arms([0.99, 0.01]) }), '1', {}, 'v0', 0.8043],
  ])('%s', (_name, experiment, id, attributes, arm, bucket) => {
    const assignment = assignCustomer(experiment, id, attributes, noGlobalHoldout)
    expect(assignment.arm).toBe(arm)
    expect(assignment.bucket).toBe(bucket)
  })

  // run › "Uses seed with weights/coverage": seed "foo", weights [0.5, 0.5], coverage 0.99, id "1" → variation 1
  it('Uses seed with weights/coverage', () => {
    const experiment = gb({ seed: 'foo', arms: arms([0.5, 0.5]), coverage: 0.99 })
    expect(assignCustomer(experiment, '1', {}, noGlobalHoldout)).toMatchObject({ arm: 'v1', inExperiment: true })
  })
})

describe('order of checks: running → targeting → global holdout → namespace → coverage → holdout → arm', () => {
  const namespace = { name: 'winback', range: [0, 0.5] as [number, number] }
  const inNs = (id: string) => inNamespace(id, namespace)
  const bucket = (experiment: AssignableExperiment) => (id: string) => hash(experiment.seed, id, 2)!

  it.each(['draft', 'paused', 'stopped'] as const)('says not_running for a %s experiment, even to a global-holdout customer', (status) => {
    const experiment = winbackExperiment({ status, targeting: { tier: 'gold' } })
    const id = findId(isGlobalHoldout)
    expect(assignCustomer(experiment, id, { tier: 'bronze' }, globalHoldout)).toEqual<Assignment>({
      experimentId: experiment.id,
      customerId: id,
      arm: null,
      offer: null,
      inExperiment: false,
      reason: 'not_running',
      exposure: null,
      bucket: null,
    })
  })

  it('says not_eligible when targeting fails, even to a global-holdout customer', () => {
    const experiment = winbackExperiment({ targeting: { tier: { $in: ['gold', 'platinum'] } } })
    const id = findId(isGlobalHoldout)
    expect(assignCustomer(experiment, id, { tier: 'bronze' }, globalHoldout)).toMatchObject({
      arm: null,
      reason: 'not_eligible',
      exposure: null,
      bucket: null,
    })
    expect(assignCustomer(experiment, id, { tier: 'gold' }, globalHoldout).reason).toBe('global_holdout')
  })

  it('treats a null or empty targeting condition as everyone eligible', () => {
    const id = findId((c) => !isGlobalHoldout(c))
    expect(assignCustomer(winbackExperiment({ targeting: null }), id, {}, globalHoldout).inExperiment).toBe(true)
    expect(assignCustomer(winbackExperiment({ targeting: {} }), id, {}, globalHoldout).inExperiment).toBe(true)
  })

  it('says global_holdout before namespace, and logs no exposure for a customer outside the namespace', () => {
    const experiment = winbackExperiment({ namespace })
    const id = findId(isGlobalHoldout, (c) => !inNs(c))
    expect(assignCustomer(experiment, id, {}, globalHoldout)).toMatchObject({
      arm: null,
      inExperiment: false,
      reason: 'global_holdout',
      exposure: null,
      bucket: null,
    })
  })

  it('logs a global_holdout exposure for a global-holdout customer who would otherwise have entered', () => {
    const experiment = winbackExperiment({ namespace, coverage: 0.5 })
    const ranges = compileExperiment(experiment).ranges
    const id = findId(isGlobalHoldout, inNs, (c) => chooseVariation(bucket(experiment)(c), ranges) >= 0)
    expect(assignCustomer(experiment, id, {}, globalHoldout)).toEqual<Assignment>({
      experimentId: experiment.id,
      customerId: id,
      arm: null,
      offer: null,
      inExperiment: false,
      reason: 'global_holdout',
      exposure: { arm: 'global_holdout' },
      bucket: hash(experiment.seed, id, 2),
    })
  })

  it('logs nothing for a global-holdout customer who would have been outside coverage', () => {
    const experiment = winbackExperiment({ namespace, coverage: 0.5 })
    const ranges = compileExperiment(experiment).ranges
    const id = findId(isGlobalHoldout, inNs, (c) => chooseVariation(bucket(experiment)(c), ranges) < 0)
    expect(assignCustomer(experiment, id, {}, globalHoldout)).toMatchObject({
      arm: null,
      reason: 'global_holdout',
      exposure: null,
    })
  })

  it('says namespace for a customer outside the namespace range', () => {
    const experiment = winbackExperiment({ namespace })
    const id = findId(
      (c) => !isGlobalHoldout(c),
      (c) => !inNs(c),
    )
    expect(assignCustomer(experiment, id, {}, globalHoldout)).toMatchObject({
      arm: null,
      inExperiment: false,
      reason: 'namespace',
      exposure: null,
      bucket: null,
    })
  })

  it('says coverage for a customer in the namespace but outside coverage, with the bucket that decided it', () => {
    const experiment = winbackExperiment({ namespace, coverage: 0.3 })
    const ranges = compileExperiment(experiment).ranges
    const id = findId(
      (c) => !isGlobalHoldout(c),
      inNs,
      (c) => chooseVariation(bucket(experiment)(c), ranges) < 0,
    )
    expect(assignCustomer(experiment, id, {}, globalHoldout)).toEqual<Assignment>({
      experimentId: experiment.id,
      customerId: id,
      arm: null,
      offer: null,
      inExperiment: false,
      reason: 'coverage',
      exposure: null,
      bucket: hash(experiment.seed, id, 2),
    })
  })

  it('excludes everyone by coverage at coverage 0', () => {
    const experiment = winbackExperiment({ coverage: 0 })
    const reasons = new Set(ids.slice(0, 2000).map((id) => assignCustomer(experiment, id, {}, noGlobalHoldout).reason))
    expect([...reasons]).toEqual(['coverage'])
  })

  it('keeps nobody in the global holdout at 0% and everybody at 100%', () => {
    const experiment = winbackExperiment()
    const sample = ids.slice(0, 2000)
    expect(sample.some((id) => assignCustomer(experiment, id, {}, { pct: 0, seed: 'g' }).reason === 'global_holdout')).toBe(false)
    expect(sample.every((id) => assignCustomer(experiment, id, {}, { pct: 1, seed: 'g' }).reason === 'global_holdout')).toBe(true)
  })
})

describe('armShares', () => {
  it('splits enrolled customers between the experiment holdout and the arms by weight', () => {
    const shares = armShares(winbackExperiment({ holdoutPct: 0.1 }))
    expect(Object.keys(shares)).toEqual(['holdout', 'control', 'ten_off', 'free_shipping'])
    expect(shares.holdout).toBeCloseTo(0.1, 12)
    expect(shares.control).toBeCloseTo(0.45, 12)
    expect(shares.ten_off).toBeCloseTo(0.27, 12)
    expect(shares.free_shipping).toBeCloseTo(0.18, 12)
  })

  it('has no holdout share without an experiment holdout, and does not depend on coverage', () => {
    const full = armShares(winbackExperiment({ holdoutPct: 0, coverage: 1 }))
    expect(full).toEqual(armShares(winbackExperiment({ holdoutPct: 0, coverage: 0.2 })))
    expect(Object.keys(full)).toEqual(['control', 'ten_off', 'free_shipping'])
    expect(full.control).toBeCloseTo(0.5, 12)
  })

  it('reports equal shares when weights do not sum to 1, because that is how GrowthBook buckets them', () => {
    const experiment = winbackExperiment({
      holdoutPct: 0,
      arms: winbackExperiment().arms.map((arm) => ({ ...arm, weight: 0.5 })),
    })
    for (const share of Object.values(armShares(experiment))) expect(share).toBeCloseTo(1 / 3, 12)
  })

  it('accepts a compiled experiment', () => {
    const experiment = winbackExperiment()
    expect(armShares(compileExperiment(experiment))).toEqual(armShares(experiment))
  })
})
