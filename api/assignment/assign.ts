/**
 * Assigning a customer to an arm: a pure function of (experiment config, customer id, attributes,
 * global holdout). The checks run in the order DESIGN.md fixes:
 * experiment running → targeting → global holdout → namespace → coverage → experiment holdout → arm.
 */
import { chooseVariation, getBucketRanges, type BucketRange, type Namespace } from './buckets.ts'
import { seededHashV1, seededHashV2 } from './hash.ts'
import { evalCondition, type Condition } from './targeting.ts'

/** Why a customer is not in an experiment. */
export type AssignmentReason = 'not_running' | 'not_eligible' | 'global_holdout' | 'namespace' | 'coverage'

export interface AssignableArm {
  key: string
  weight: number
  isControl: boolean
  offer: unknown
}

export interface AssignableExperiment {
  id: string
  seed: string
  status: 'draft' | 'running' | 'paused' | 'stopped'
  arms: AssignableArm[]
  holdoutPct: number
  coverage: number
  targeting: Record<string, unknown> | null
  namespace: { name: string; range: [number, number] } | null
}

/** The platform-wide holdout: customers kept out of every retention offer. */
export interface GlobalHoldout {
  pct: number
  seed: string
}

export interface Assignment {
  experimentId: string
  customerId: string
  /** Arm key, `'holdout'` for the experiment holdout, `null` when excluded. */
  arm: string | null
  /** The arm's offer; `null` for the holdout or when excluded. */
  offer: unknown | null
  /** True when assigned to an arm or to the experiment holdout. */
  inExperiment: boolean
  reason: AssignmentReason | null
  /** What must be logged to exposures: an arm key, `'holdout'` or `'global_holdout'`; `null` for nothing. */
  exposure: null | { arm: string }
  /**
   * The experiment's v2 hash of the customer, `hash(seed, customerId, 2)`, whenever the customer reached the
   * coverage check (assigned, outside coverage, or a global-holdout customer inside the namespace); else null.
   */
  bucket: number | null
}

/** Arm key under which the experiment holdout is assigned and logged. */
export const HOLDOUT_ARM = 'holdout'
/** Exposure arm logged for global-holdout customers who were otherwise eligible. */
export const GLOBAL_HOLDOUT_ARM = 'global_holdout'

/**
 * An experiment with everything the hot path needs precomputed. Build it once per config version and
 * recompile after any change: it copies weights, keys and ranges at compile time.
 */
export interface CompiledExperiment {
  readonly experiment: AssignableExperiment
  readonly running: boolean
  readonly targeting: Condition | null
  /** `inNamespace(customerId, experiment.namespace)`, or null when the experiment has no namespace. */
  readonly inNamespace: ((customerId: string) => boolean) | null
  /** Variation keys in bucket order: `'holdout'` first when the experiment has a holdout, then the arms. */
  readonly variationKeys: readonly string[]
  readonly variationOffers: readonly unknown[]
  /** GrowthBook-style weights, in bucket order, from which `ranges` are computed. */
  readonly weights: readonly number[]
  readonly ranges: readonly BucketRange[]
  readonly bucketOf: (customerId: string) => number
  readonly exposures: readonly Readonly<{ arm: string }>[]
}

const GLOBAL_HOLDOUT_EXPOSURE: Readonly<{ arm: string }> = Object.freeze({ arm: GLOBAL_HOLDOUT_ARM })

/**
 * Precompute an experiment for `assignCompiled`: its bucket ranges, its seeded hash and the exposure records.
 *
 * The experiment holdout is folded into GrowthBook's bucketing as an extra *leading* variation:
 * `weights = [holdoutPct, ...arms.map((a) => a.weight * (1 - holdoutPct))]` (only when `holdoutPct > 0`),
 * `ranges = getBucketRanges(weights.length, coverage, weights)`, and the customer's variation is
 * `chooseVariation(hash(seed, customerId, 2), ranges)`, -1 meaning outside coverage. Two consequences:
 * - a GrowthBook SDK configured with the same seed, hash version 2, coverage, namespace and those weights
 *   (variations `[holdout, ...arms]`) computes the same arm as the API, in any language;
 * - ramping coverage up only lengthens each range from its fixed start, so a customer already assigned never
 *   moves; ramping it down only removes customers.
 *
 * @example
 * const compiled = compileExperiment(experiment)
 * for (const id of cohort) assignCompiled(compiled, id, attributesOf(id), globalHoldout)
 */
export function compileExperiment(exp: AssignableExperiment): CompiledExperiment {
  const withHoldout = exp.holdoutPct > 0
  const armWeights = exp.arms.map((arm) => (withHoldout ? arm.weight * (1 - exp.holdoutPct) : arm.weight))
  const weights = withHoldout ? [exp.holdoutPct, ...armWeights] : armWeights
  const variationKeys = withHoldout ? [HOLDOUT_ARM, ...exp.arms.map((a) => a.key)] : exp.arms.map((a) => a.key)
  const variationOffers = withHoldout ? [null, ...exp.arms.map((a) => a.offer)] : exp.arms.map((a) => a.offer)
  const targeting = exp.targeting && Object.keys(exp.targeting).length > 0 ? exp.targeting : null
  return {
    experiment: exp,
    running: exp.status === 'running',
    targeting,
    inNamespace: exp.namespace === null ? null : namespaceFilter(exp.namespace),
    variationKeys,
    variationOffers,
    weights,
    ranges: getBucketRanges(weights.length, exp.coverage, weights),
    bucketOf: seededHashV2(exp.seed),
    exposures: variationKeys.map((arm) => Object.freeze({ arm })),
  }
}

/**
 * Assign a customer with a compiled experiment. Same result as `assignCustomer`; use this on hot paths
 * (bulk cohorts, the assignment endpoint) and recompile only when the experiment changes.
 *
 * @example
 * const compiled = compileExperiment(experiment)
 * assignCompiled(compiled, 'c-1001', { tier: 'gold' }, { pct: 0.05, seed: 'global' })
 * // → { arm: 'free_shipping', offer: { type: 'free_shipping' }, inExperiment: true, exposure: { arm: 'free_shipping' }, … }
 */
export function assignCompiled(compiled: CompiledExperiment, customerId: string, attributes: Record<string, unknown>, global: GlobalHoldout): Assignment {
  const experimentId = compiled.experiment.id
  if (!compiled.running) return excluded(experimentId, customerId, 'not_running', null, null)
  if (compiled.targeting !== null && !evalCondition(attributes, compiled.targeting)) {
    return excluded(experimentId, customerId, 'not_eligible', null, null)
  }
  const inGlobalHoldout = globalHoldoutHash(global.seed)(customerId) < global.pct
  if (compiled.inNamespace !== null && !compiled.inNamespace(customerId)) {
    return excluded(experimentId, customerId, inGlobalHoldout ? 'global_holdout' : 'namespace', null, null)
  }
  const bucket = compiled.bucketOf(customerId)
  const variation = chooseVariation(bucket, compiled.ranges)
  if (inGlobalHoldout) {
    // Only global-holdout customers who would otherwise have entered are the program's comparison group.
    return excluded(experimentId, customerId, 'global_holdout', variation < 0 ? null : GLOBAL_HOLDOUT_EXPOSURE, bucket)
  }
  if (variation < 0) return excluded(experimentId, customerId, 'coverage', null, bucket)
  return {
    experimentId,
    customerId,
    arm: compiled.variationKeys[variation],
    offer: compiled.variationOffers[variation] ?? null,
    inExperiment: true,
    reason: null,
    exposure: compiled.exposures[variation],
    bucket,
  }
}

/**
 * Which arm a customer is in, and why not when excluded. Deterministic: the same config, id and attributes
 * always give the same answer. See `compileExperiment` for how the experiment holdout and coverage map onto
 * GrowthBook's bucketing.
 *
 * @example
 * assignCustomer(experiment, 'c-1001', { tier: 'gold' }, { pct: 0.05, seed: 'global' })
 */
export function assignCustomer(exp: AssignableExperiment, customerId: string, attributes: Record<string, unknown>, global: GlobalHoldout): Assignment {
  return assignCompiled(compileExperiment(exp), customerId, attributes, global)
}

/**
 * Expected share of each arm key (and `'holdout'` when the experiment has one) among enrolled customers —
 * those assigned to an arm or to the experiment holdout. Coverage scales every range alike, so it does not
 * change shares. Computed from the weights actually bucketed, so if GrowthBook's rules fell back to equal
 * weights (weights not summing to ~1) the shares say so. The expectations for an SRM check.
 *
 * @example
 * armShares({ ...experiment, holdoutPct: 0.1, arms: [control(0.5), variant(0.5)] })
 * // { holdout: 0.1, control: 0.45, variant: 0.45 }
 */
export function armShares(exp: AssignableExperiment | CompiledExperiment): Record<string, number> {
  const compiled = 'ranges' in exp ? exp : compileExperiment(exp)
  // Full-coverage ranges have the weights GrowthBook actually uses as widths.
  const widths = getBucketRanges(compiled.weights.length, 1, compiled.weights).map(([start, end]) => end - start)
  const total = widths.reduce((sum, width) => sum + width, 0)
  const shares: Record<string, number> = {}
  compiled.variationKeys.forEach((key, i) => {
    shares[key] = total > 0 ? widths[i] / total : 0
  })
  return shares
}

function excluded(
  experimentId: string,
  customerId: string,
  reason: AssignmentReason,
  exposure: Readonly<{ arm: string }> | null,
  bucket: number | null,
): Assignment {
  return { experimentId, customerId, arm: null, offer: null, inExperiment: false, reason, exposure, bucket }
}

// The global seed rarely changes: keep the last seeded hash rather than rehashing the seed on every call.
let globalSeed: string | null = null
let globalHash: (customerId: string) => number = () => 1

function globalHoldoutHash(seed: string): (customerId: string) => number {
  if (seed !== globalSeed) {
    globalHash = seededHashV2(seed)
    globalSeed = seed
  }
  return globalHash
}

/** `inNamespace` from buckets.ts, with the namespace's hash seed fixed. */
function namespaceFilter(namespace: Namespace): (customerId: string) => boolean {
  const namespaceHash = seededHashV1(`__${namespace.name}`)
  const [start, end] = namespace.range
  return (customerId) => {
    const n = namespaceHash(customerId)
    return n >= start && n < end
  }
}
