/**
 * Public entry point of the stats library: sufficient statistics in, the numbers analysts decide on out.
 * Pure functions, no I/O. Conventions and references: docs/statistics.md and each function's doc comment.
 */
export type {
  AdjustmentMethod,
  CompareOptions,
  Comparison,
  CupedComparison,
  CupedStats,
  EffectKind,
  MeanStats,
  NotEstimable,
  NotEstimableCode,
  ProportionStats,
  RatioStats,
  Risk,
  TestMethod,
} from './types.ts'

export { compareMeans, compareProportions } from './compare.ts'
export { compareRatios, ratioMean, summarizeRatio } from './ratio.ts'
export { compareCuped, cupedTheta } from './cuped.ts'
export { meanOf, sampleVariance, type ArmSummary } from './moments.ts'
export { absoluteEffect, relativeEffect, type Effect } from './effect.ts'
export { fixedHorizonTest, welchSatterthwaiteDf, type IntervalTest } from './frequentist.ts'
export { confidenceSequence, confidenceSequenceMultiplier, DEFAULT_SEQUENTIAL_TUNING, sequentialRho, type SequentialTest } from './sequential.ts'
export { fiellerLift, type FiellerLift } from './fieller.ts'
export { chanceToWin, expectedLoss } from './bayesian.ts'
export { adjustPValues, applyAdjustment, familyLevels, type FamilyLevels, type FamilyMethod } from './multiple.ts'
export { guardrailTest, type GuardrailTestResult } from './guardrail.ts'
export { SRM_THRESHOLD, srmTest, type SrmResult } from './srm.ts'
export { winsorize, winsorizeCap } from './winsorize.ts'
export { minimumDetectableEffect, powerAt, sampleSizePerArm, type PlanningBaseline, type PlanningOptions, type SampleSizeResult } from './power.ts'
export { kaplanMeier, type KaplanMeierOptions, type KaplanMeierPoint, type KaplanMeierResult, type SurvivalRow, type SurvivalTransform } from './survival.ts'
export {
  comparePurchaseProbability,
  medianTimeToEvent,
  purchaseProbabilityBy,
  type MedianTimeToEvent,
  type PurchaseProbability,
  type PurchaseProbabilityComparison,
  type PurchaseProbabilityOptions,
  type TimeToEventCompareOptions,
  type TimeToEventOptions,
} from './survival.ts'
export { compareRestrictedMeans, restrictedMeanSurvival, restrictedMeanTimeToPurchase, type RestrictedMean, type RestrictedMeanComparison } from './rmst.ts'
export { compareQuantiles, quantileRankBounds, quantileStandardError, sampleQuantile, type QuantileArm, type QuantileRankStats } from './quantile.ts'
export {
  chiSquareSf,
  normalCdf,
  normalPdf,
  normalQuantile,
  normalSf,
  normalUpperQuantile,
  NORMAL_APPROXIMATION_DF,
  studentTPdf,
  studentTSf,
  studentTUpperQuantile,
  twoSidedCriticalValue,
  twoSidedPValue,
} from './distributions.ts'
export { metaAnalysis, pooledEstimate, type MetaAnalysis, type PooledEstimate, type StudyEstimate } from './meta-analysis.ts'
