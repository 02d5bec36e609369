/**
 * Assignment core: pure functions from (experiment config, customer id, attributes, global holdout) to an
 * arm, GrowthBook-compatible. No I/O: the API loads configs and writes exposures around it.
 */
export { FNV_OFFSET_BASIS, fnv1a32, hash, seededHashV1, seededHashV2, type HashVersion } from './hash.ts'
export { chooseVariation, getBucketRanges, getEqualWeights, inNamespace, type BucketRange, type Namespace } from './buckets.ts'
export {
  CONDITION_TYPES,
  FIELD_OPERATORS,
  LOGICAL_OPERATORS,
  MAX_REGEX_LENGTH,
  evalCondition,
  validateCondition,
  type Condition,
  type ConditionError,
} from './targeting.ts'
export {
  GLOBAL_HOLDOUT_ARM,
  HOLDOUT_ARM,
  armShares,
  assignCompiled,
  assignCustomer,
  compileExperiment,
  type AssignableArm,
  type AssignableExperiment,
  type Assignment,
  type AssignmentReason,
  type CompiledExperiment,
  type GlobalHoldout,
} from './assign.ts'
