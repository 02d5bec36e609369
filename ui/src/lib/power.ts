/**
 * The power panel's plan: customers per arm from the stats library's sample size (stats/power.ts, the same
 * normal-approximation formula the report's power progress uses), then the traffic that takes under the
 * design's weights, holdouts and coverage. Imported, not fetched, so the calculator never waits on the network.
 */
import { sampleSizePerArm, type PlanningBaseline } from '../../../stats/power.ts'

export type { PlanningBaseline }

export interface PlanInput {
  baseline: PlanningBaseline
  /** Relative minimum detectable effect: 0.05 detects a 5% lift over the baseline. */
  mde: number
  alpha: number
  power: number
  /** Traffic weights of the arms (control included); they need not be normalised. */
  weights: number[]
  /** Share of eligible customers held out of the experiment (0–0.5). */
  holdoutPct: number
  /** Share of eligible customers entering the experiment at all (0–1). */
  coverage: number
  /** Share of all customers in the platform-wide holdout (0–0.5). */
  globalHoldoutPct: number
  /** Eligible customers per day reaching the assignment call. */
  eligiblePerDay: number
}

export interface Plan {
  /** Bonferroni-split alpha per comparison (each variant vs control), the worst case for Holm. */
  alphaPerComparison: number
  comparisons: number
  perArm: number
  /** Customers across all arms when the smallest arm reaches `perArm`. */
  inArms: number
  /** Eligible customers that must reach assignment, holdouts and coverage included. */
  eligible: number
  days: number
}

/**
 * Everything the power panel shows, from the experiment's design and its expected traffic. Unequal weights
 * are honoured: the smallest arm sets the pace. Every field is NaN when the inputs do not define a plan.
 *
 * @example
 * planExperiment({ baseline: { kind: 'proportion', baselineRate: 0.1 }, mde: 0.1, alpha: 0.05, power: 0.8, weights: [0.5, 0.5], holdoutPct: 0, coverage: 1, globalHoldoutPct: 0, eligiblePerDay: 1000 }).perArm // 14749
 */
export function planExperiment(input: PlanInput): Plan {
  const weights = input.weights.filter((w) => Number.isFinite(w) && w > 0)
  const comparisons = Math.max(1, weights.length - 1)
  const alphaPerComparison = input.alpha / comparisons
  const perArm = sampleSizePerArm(input.baseline, { mde: input.mde, mdeKind: 'relative', alpha: alphaPerComparison, power: input.power }).perArm ?? Number.NaN
  const total = weights.reduce((s, w) => s + w, 0)
  const smallest = weights.length >= 2 ? Math.min(...weights) / total : Number.NaN
  const inArms = Math.ceil(perArm / smallest)
  const reach = input.coverage * (1 - input.holdoutPct) * (1 - input.globalHoldoutPct)
  const eligible = reach > 0 ? Math.ceil(inArms / reach) : Number.NaN
  const days = input.eligiblePerDay > 0 ? eligible / input.eligiblePerDay : Number.NaN
  return { alphaPerComparison, comparisons, perArm, inArms, eligible, days }
}
