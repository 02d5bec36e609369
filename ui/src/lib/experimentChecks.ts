import { NUMBER_LIMITS, OFFER_LIMITS, TEXT_LIMITS, type Bound } from '../../../api/contract/limits.ts'
import type { ExperimentForm, OfferForm } from './experimentForm.ts'
import { OFFER_TYPES } from './offers.ts'

/**
 * The new-experiment form's own checks, run as people type and before anything is sent: required fields, lengths
 * and every number against the bounds the API enforces (api/contract/limits.ts), in the form's units ("must be at
 * most 50%" beside a holdout typed in percent). Rules across fields (weights summing to 100%, unique keys, a name
 * in use) are left to the API, whose answer the form shows beside the same inputs.
 */

/** How the form shows a number: `percent` when it is typed as a percentage of the API's share (50 for 0.5). */
export interface NumberUnit {
  percent?: boolean
  /** Appended to the bounds in messages: '%', ' days' (and `one` after a 1: ' day'). */
  suffix?: string
  one?: string
  /** What a whole number counts: "must be a whole number of days". */
  counts?: string
}

const PERCENT: NumberUnit = { percent: true, suffix: '%' }
const DAYS: NumberUnit = { suffix: ' days', one: ' day', counts: 'days' }

const missing = (x: number | null | undefined): x is null | undefined => x === null || x === undefined || Number.isNaN(x)

/**
 * What is wrong with one typed number, in plain words, or null.
 *
 * @example
 * numberProblem(80, { min: 0, max: 0.5 }, { percent: true, suffix: '%' }) // 'must be at most 50%'
 * numberProblem(2.5, { min: 1, max: 365, integer: true }, { suffix: ' days', counts: 'days' }) // 'must be a whole number of days'
 */
export function numberProblem(value: number | null | undefined, bound: Bound, unit: NumberUnit = {}, required = true): string | null {
  if (missing(value)) return required ? 'is required' : null
  if (!Number.isFinite(value)) return 'must be a number'
  // Compared as the API will see it: the same rounding as the form's toDraft.
  const x = unit.percent ? +(value / 100).toFixed(10) : value
  const show = (bound: number) => {
    const shown = unit.percent ? bound * 100 : bound
    return `${shown.toLocaleString('en-US', { maximumFractionDigits: 6 })}${(shown === 1 && unit.one) || unit.suffix || ''}`
  }
  if (bound.integer && !Number.isInteger(x)) return unit.counts ? `must be a whole number of ${unit.counts}` : 'must be a whole number'
  if (bound.minExclusive ? x <= bound.min : x < bound.min) {
    if (bound.minExclusive) return `must be more than ${show(bound.min)}`
    return bound.min === 0 ? 'must not be negative' : `must be at least ${show(bound.min)}`
  }
  if (bound.max !== undefined && (bound.maxExclusive ? x >= bound.max : x > bound.max))
    return `must be ${bound.maxExclusive ? 'less than' : 'at most'} ${show(bound.max)}`
  return null
}

/** What is wrong with a typed text, or null. */
export function textProblem(value: string, maxLength: number, required = true): string | null {
  const text = value.trim()
  if (!text) return required ? 'must not be empty' : null
  return text.length > maxLength ? `must be at most ${maxLength.toLocaleString('en-US')} characters` : null
}

const OFFER_UNITS: Partial<Record<OfferForm['offerType'], NumberUnit>> = {
  percent_off: { suffix: '%' },
  loyalty_points: { suffix: ' points', one: ' point', counts: 'points' },
  trial_extension: DAYS,
}

/** The largest value an offer of this type may have (the input's `max`): 100 for percent off. */
export const offerMax = (type: OfferForm['offerType']): number =>
  OFFER_LIMITS[type as keyof typeof OFFER_LIMITS]?.max ?? NUMBER_LIMITS['arms.*.offer.value'].max

/** An offer's value and unit cost, bounded by the offer's type as the API bounds them (150% off is refused). */
function checkOffer(at: string, offer: OfferForm, add: (field: string, message: string | null) => void) {
  if (OFFER_TYPES[offer.offerType].value) {
    const limit = OFFER_LIMITS[offer.offerType as keyof typeof OFFER_LIMITS]
    const bound: Bound = limit ? { min: 0, max: limit.max, integer: limit.integer } : NUMBER_LIMITS['arms.*.offer.value']
    add(`${at}.value`, numberProblem(offer.value, bound, OFFER_UNITS[offer.offerType]))
  }
  if (offer.offerType !== 'none') add(`${at}.unitCost`, numberProblem(offer.unitCost, NUMBER_LIMITS['arms.*.offer.unitCost'], {}, false))
}

/**
 * Every problem the form can see by itself, by field path (the inputs' paths, as the API names them). Only inputs
 * on screen are checked: the namespace when it is on, tier offers for the chosen trigger's `tiers`, and so on.
 *
 * @example
 * checkExperiment({ ...blankForm(), name: 'Win-back', holdoutPct: 80 }) // { holdoutPct: 'must be at most 50%' }
 */
export function checkExperiment(form: ExperimentForm, tiers: string[] = []): Record<string, string> {
  const problems: Record<string, string> = {}
  const add = (field: string, message: string | null) => {
    if (message && !problems[field]) problems[field] = message
  }
  add('name', textProblem(form.name, TEXT_LIMITS.name))
  add('hypothesis', textProblem(form.hypothesis, TEXT_LIMITS.hypothesis, false))
  form.arms.forEach((arm, i) => {
    add(`arms.${i}.key`, textProblem(arm.key, TEXT_LIMITS['arms.*.key']))
    add(`arms.${i}.name`, textProblem(arm.name, TEXT_LIMITS['arms.*.name']))
    add(`arms.${i}.weight`, numberProblem(arm.weightPct, NUMBER_LIMITS['arms.*.weight'], PERCENT))
    checkOffer(`arms.${i}.offer`, arm, add)
    if (form.trigger) for (const tier of tiers) if (arm.tierOffers[tier]?.enabled) checkOffer(`arms.${i}.tierOffers.${tier}`, arm.tierOffers[tier], add)
  })
  add('holdoutPct', numberProblem(form.holdoutPct, NUMBER_LIMITS.holdoutPct, PERCENT))
  add('coverage', numberProblem(form.coveragePct, NUMBER_LIMITS.coverage, PERCENT))
  if (form.namespaceEnabled) {
    add('namespace.name', textProblem(form.namespaceName, TEXT_LIMITS['namespace.name']))
    const start = numberProblem(form.namespaceStartPct, NUMBER_LIMITS['namespace.range.*'], PERCENT)
    const end = numberProblem(form.namespaceEndPct, NUMBER_LIMITS['namespace.range.*'], PERCENT)
    add(
      'namespace.range',
      start
        ? `start ${start}`
        : end
          ? `end ${end}`
          : (form.namespaceStartPct as number) < (form.namespaceEndPct as number)
            ? null
            : 'must start below where it ends',
    )
  }
  add('analysis.attributionDays', numberProblem(form.attributionDays, NUMBER_LIMITS['analysis.attributionDays'], DAYS))
  add('analysis.ltvDays', numberProblem(form.ltvDays, NUMBER_LIMITS['analysis.ltvDays'], DAYS))
  add('analysis.alpha', numberProblem(form.alpha, NUMBER_LIMITS['analysis.alpha']))
  add('analysis.defaultMarginRate', numberProblem(form.defaultMarginRatePct, NUMBER_LIMITS['analysis.defaultMarginRate'], PERCENT))
  if (form.cuped) add('analysis.cuped.lookbackDays', numberProblem(form.cupedLookbackDays, NUMBER_LIMITS['analysis.cuped.lookbackDays'], DAYS))
  if (form.winsorize)
    add(
      'analysis.winsorize.percentile',
      numberProblem(form.winsorizePercentile, NUMBER_LIMITS['analysis.winsorize.percentile'], { percent: true, suffix: 'th' }),
    )
  add('analysis.mde', numberProblem(form.mdePct, NUMBER_LIMITS['analysis.mde'], PERCENT))
  add('priority', numberProblem(form.priority, NUMBER_LIMITS.priority))
  if (form.budgetEnabled) {
    add('budget.amount', numberProblem(form.budgetAmount, NUMBER_LIMITS['budget.amount']))
    add(
      'budget.maxCostPerIncrementalConversion',
      numberProblem(form.budgetMaxCostPerConversion, NUMBER_LIMITS['budget.maxCostPerIncrementalConversion'], {}, false),
    )
  }
  return problems
}

const LABELS: Record<string, string> = {
  id: 'ID',
  name: 'Name',
  hypothesis: 'Hypothesis',
  arms: 'Arms',
  holdoutPct: 'Experiment holdout',
  coverage: 'Coverage',
  targeting: 'Targeting',
  namespace: 'Namespace',
  'namespace.name': 'Namespace',
  'namespace.range': 'Namespace range',
  analysis: 'Analysis',
  'analysis.primaryMetric': 'Primary metric',
  'analysis.guardrails': 'Guardrails',
  'analysis.catalogueMetrics': 'Catalogue metrics',
  'analysis.attributionDays': 'Attribution window',
  'analysis.ltvDays': 'LTV window',
  'analysis.alpha': 'Significance level α',
  'analysis.cuped.lookbackDays': 'CUPED lookback',
  'analysis.sequential': 'Sequential testing',
  'analysis.winsorize.percentile': 'Winsorize percentile',
  'analysis.multipleTesting': 'Multiple-testing correction',
  'analysis.mde': 'Minimum detectable effect',
  'analysis.defaultMarginRate': 'Default margin',
  trigger: 'Trigger',
  priority: 'Priority',
  budget: 'Budget',
  'budget.amount': 'Budget',
  'budget.currency': 'Budget currency',
  'budget.maxCostPerIncrementalConversion': 'Max cost per incremental conversion',
}
const ARM_PARTS: Record<string, string> = {
  key: 'key',
  name: 'name',
  weight: 'weight',
  'offer.type': 'offer',
  'offer.value': 'offer value',
  'offer.currency': 'currency',
  'offer.unitCost': 'unit cost',
  tierOffers: 'tier offers',
}

/**
 * A field path as the form labels it, for the error summary: `arms.1.offer.value` → "Arm 2 offer value".
 *
 * @example
 * fieldLabel('arms.1.tierOffers.low.value') // 'Arm 2 offer value for low intent'
 */
export function fieldLabel(field: string): string {
  if (LABELS[field]) return LABELS[field]
  const arm = /^arms\.(\d+)\.(.+)$/.exec(field)
  if (arm) {
    const tier = /^tierOffers\.([^.]+)(?:\.(type|value|unitCost))?$/.exec(arm[2])
    if (tier) return `Arm ${+arm[1] + 1} ${tier[2] ? ARM_PARTS[`offer.${tier[2]}`] : 'offer'} for ${tier[1]} intent`
    return `Arm ${+arm[1] + 1} ${ARM_PARTS[arm[2]] ?? arm[2]}`
  }
  const row = /^targeting\.(\d+)\.(attribute|value)$/.exec(field)
  if (row) return `Condition ${+row[1] + 1} ${row[2]}`
  return field
}
