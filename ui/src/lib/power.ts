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

/** The calculator input that keeps the panel from a number, and why, in words for the panel. */
export interface PlanGap {
  input: 'baseline' | 'sd' | 'mde' | 'alpha' | 'power' | 'arms' | 'reach' | 'traffic' | null
  message: string
}

const pct = (share: number) => `${+(share * 100).toFixed(2)}%`

function whyNoSampleSize(input: PlanInput): PlanGap | null {
  const { baseline, mde, alpha, power } = input
  if (baseline.kind === 'proportion') {
    const rate = baseline.baselineRate
    if (!Number.isFinite(rate)) return { input: 'baseline', message: 'Enter the baseline rate: the share of the control arm you expect to convert.' }
    if (rate <= 0)
      return {
        input: 'baseline',
        message:
          'Needs a baseline above 0%: a relative lift on a 0% rate is still 0%, so no sample can detect it. Enter the rate you expect in the control arm.',
      }
    if (rate >= 1) return { input: 'baseline', message: 'Needs a baseline below 100%: a rate already at 100% cannot rise.' }
  } else {
    if (!Number.isFinite(baseline.mean)) return { input: 'baseline', message: 'Enter the baseline mean: what you expect per customer in the control arm.' }
    if (baseline.mean === 0) return { input: 'baseline', message: 'Needs a baseline mean other than 0: the effect is a share of it, and a share of 0 is 0.' }
    if (!(Number.isFinite(baseline.sd) && baseline.sd > 0))
      return { input: 'sd', message: 'Needs a standard deviation above 0: how much the metric varies from customer to customer.' }
  }
  if (!Number.isFinite(mde)) return { input: 'mde', message: 'Enter the minimum detectable effect: the smallest lift worth detecting.' }
  if (mde <= 0) return { input: 'mde', message: 'Needs a minimum detectable effect above 0%.' }
  if (baseline.kind === 'proportion' && baseline.baselineRate * (1 + mde) >= 1) {
    return { input: 'mde', message: `A ${pct(mde)} lift on a ${pct(baseline.baselineRate)} baseline passes 100%: choose a smaller effect or a lower baseline.` }
  }
  if (!(alpha > 0 && alpha < 1)) return { input: 'alpha', message: 'Needs a significance level α above 0 (under Metrics and analysis).' }
  if (!(power > 0 && power < 1)) return { input: 'power', message: 'Needs a power above 0% and below 100% (80% is usual).' }
  return null
}

function whyNoDuration(input: PlanInput): PlanGap | null {
  if (input.weights.filter((w) => Number.isFinite(w) && w > 0).length < 2)
    return { input: 'arms', message: 'Needs at least two arms with a weight above 0% to say how many customers the arms take.' }
  if (!Number.isFinite(input.coverage) || !Number.isFinite(input.holdoutPct))
    return { input: 'reach', message: 'Enter the coverage and the experiment holdout to see how long it takes.' }
  if (!(input.coverage * (1 - input.holdoutPct) * (1 - input.globalHoldoutPct) > 0))
    return { input: 'reach', message: 'No customer reaches an arm at 0% coverage: raise the coverage to see how long it takes.' }
  if (!Number.isFinite(input.eligiblePerDay)) return { input: 'traffic', message: 'Enter the eligible customers per day to see how long it takes.' }
  if (input.eligiblePerDay <= 0) return { input: 'traffic', message: 'Needs eligible customers per day above 0 to say how long it takes.' }
  return null
}

/**
 * Why the panel shows no sample size, or no duration, for these inputs (null when it has the number): the first
 * missing or impossible input, named so the panel can mark it, instead of a bare "—".
 *
 * @example
 * explainPlan({ baseline: { kind: 'proportion', baselineRate: 0 }, mde: 0.05, alpha: 0.05, power: 0.8, weights: [50, 50], holdoutPct: 0.1, coverage: 1, globalHoldoutPct: 0, eligiblePerDay: 2000 }).sampleSize?.message
 * // 'Needs a baseline above 0%: a relative lift on a 0% rate is still 0%, …'
 */
export function explainPlan(input: PlanInput, plan: Plan = planExperiment(input)): { sampleSize: PlanGap | null; duration: PlanGap | null } {
  if (!Number.isFinite(plan.perArm))
    return { sampleSize: whyNoSampleSize(input) ?? { input: null, message: 'Cannot size the test with these inputs.' }, duration: null }
  if (!Number.isFinite(plan.days))
    return { sampleSize: null, duration: whyNoDuration(input) ?? { input: null, message: 'Cannot say how long the test takes with these inputs.' } }
  return { sampleSize: null, duration: null }
}
