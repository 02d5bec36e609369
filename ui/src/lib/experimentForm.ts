import { ARM_COUNT } from '../../../api/contract/limits.ts'
import type { ExperimentDraft } from './api.ts'
import { isBuiltInMetric } from './metrics.ts'
import type { OfferType } from './offers.ts'
import { rowForErrorField, rowsToCondition, type TargetingRow } from './targeting.ts'

/**
 * The new-experiment form as people fill it in: shares as percentages, one control chosen by radio, targeting
 * as rows. `toDraft` turns it into the API's ExperimentCreate body. The form checks ranges itself first
 * (experimentChecks.ts); the API validates the rest, and each field its error names (`arms.1.weight`) is mapped
 * back to an input by `errorTarget`.
 */

export interface OfferForm {
  offerType: OfferType
  value: number | null
  currency: string
  unitCost: number | null
}

/** An arm's offer for one intent tier of the experiment's trigger; tiers left off get the arm's offer. */
export interface TierOfferForm extends OfferForm {
  enabled: boolean
}

export interface ArmForm extends OfferForm {
  /** Stable identity for the list while arms are added and removed. */
  uid: number
  key: string
  name: string
  weightPct: number | null
  /** By tier name; kept when the trigger changes, sent only for the chosen trigger's tiers. */
  tierOffers: Record<string, TierOfferForm>
}

export interface ExperimentForm {
  id: string
  name: string
  hypothesis: string
  arms: ArmForm[]
  controlUid: number
  holdoutPct: number | null
  coveragePct: number | null
  targeting: TargetingRow[]
  namespaceEnabled: boolean
  namespaceName: string
  namespaceStartPct: number | null
  namespaceEndPct: number | null
  /** A built-in metric key, or the key of a catalogue metric chosen in `catalogueMetrics`. */
  primaryMetric: string
  guardrails: string[]
  /** Keys of catalogue metrics reported as secondary metrics (pinned by the API to their latest version). */
  catalogueMetrics: string[]
  attributionDays: number | null
  ltvDays: number | null
  alpha: number | null
  cuped: boolean
  cupedLookbackDays: number | null
  sequential: boolean
  winsorize: boolean
  winsorizePercentile: number | null
  multipleTesting: 'holm' | 'bh' | 'none'
  mdePct: number | null
  defaultMarginRatePct: number | null
  /** Trigger key, '' for none (customers assigned through /v1/assign). */
  trigger: string
  priority: number | null
  budgetEnabled: boolean
  budgetAmount: number | null
  budgetCurrency: string
  budgetMaxCostPerConversion: number | null
}

export const MIN_ARMS = ARM_COUNT.min
export const MAX_ARMS = ARM_COUNT.max

let nextUid = 1
export function newArm(partial: Partial<ArmForm> = {}): ArmForm {
  return {
    uid: nextUid++,
    key: '',
    name: '',
    weightPct: null,
    offerType: 'percent_off',
    value: null,
    currency: 'USD',
    unitCost: null,
    tierOffers: {},
    ...partial,
  }
}

/** Turns a tier's own offer on (the first time, as a copy of the arm's offer) or off (keeping what was typed). */
export function setTierOffer(arm: ArmForm, tier: string, enabled: boolean): void {
  const existing = arm.tierOffers[tier]
  if (existing) existing.enabled = enabled
  else arm.tierOffers[tier] = { enabled, offerType: arm.offerType, value: arm.value, currency: arm.currency, unitCost: arm.unitCost }
}

/** A control and one variant, split evenly, with the API's analysis defaults. */
export function blankForm(): ExperimentForm {
  const control = newArm({ key: 'control', name: 'Control (message only)', weightPct: 50, offerType: 'none', value: 0 })
  const variant = newArm({ key: 'variant', name: 'Variant', weightPct: 50, offerType: 'percent_off', value: 15 })
  return {
    id: '',
    name: '',
    hypothesis: '',
    arms: [control, variant],
    controlUid: control.uid,
    holdoutPct: 10,
    coveragePct: 100,
    targeting: [],
    namespaceEnabled: false,
    namespaceName: '',
    namespaceStartPct: 0,
    namespaceEndPct: 100,
    primaryMetric: 'reactivation',
    guardrails: ['unsubscribe'],
    catalogueMetrics: [],
    attributionDays: 30,
    ltvDays: 90,
    alpha: 0.05,
    cuped: true,
    cupedLookbackDays: 90,
    sequential: false,
    winsorize: false,
    winsorizePercentile: 99,
    multipleTesting: 'holm',
    mdePct: 5,
    defaultMarginRatePct: 30,
    trigger: '',
    priority: 100,
    budgetEnabled: false,
    budgetAmount: null,
    budgetCurrency: 'USD',
    budgetMaxCostPerConversion: null,
  }
}

/** Weights that split 100% as evenly as two decimals allow (the last arm takes the rounding). */
export function evenWeights(count: number): number[] {
  const each = Math.floor(10_000 / count) / 100
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? +(100 - each * (count - 1)).toFixed(2) : each))
}

// A percentage becomes a share without float noise (33.33 → 0.3333, not 0.33329999999999999).
const share = (pct: number | null) => (pct === null || pct === undefined ? pct : +(pct / 100).toFixed(10)) as number
// An empty number input is sent as null so the API names the field that is missing.
const num = (x: number | null) => x as number

function offer(o: OfferForm) {
  return {
    type: o.offerType,
    value: o.offerType === 'none' || o.offerType === 'free_shipping' ? 0 : num(o.value),
    ...(o.offerType === 'amount_off' && o.currency.trim() ? { currency: o.currency.trim().toUpperCase() } : {}),
    ...(o.unitCost !== null && o.unitCost !== undefined && o.offerType !== 'none' ? { unitCost: o.unitCost } : {}),
  }
}

/**
 * The API's ExperimentCreate body. `tiers` are the chosen trigger's intent tiers: an arm's tier offers are
 * sent for those tiers only (switching triggers keeps what was typed without sending stale tiers).
 */
export function toDraft(form: ExperimentForm, tiers: string[] = []): ExperimentDraft {
  const draft: ExperimentDraft = {
    name: form.name.trim(),
    hypothesis: form.hypothesis.trim(),
    arms: form.arms.map((arm) => {
      const byTier = form.trigger ? tiers.filter((t) => arm.tierOffers[t]?.enabled).map((t) => [t, offer(arm.tierOffers[t])] as const) : []
      return {
        key: arm.key.trim(),
        name: arm.name.trim(),
        weight: share(arm.weightPct),
        isControl: arm.uid === form.controlUid,
        offer: offer(arm),
        ...(byTier.length ? { tierOffers: Object.fromEntries(byTier) } : {}),
      }
    }),
    holdoutPct: share(form.holdoutPct),
    coverage: share(form.coveragePct),
    targeting: rowsToCondition(form.targeting),
    namespace: form.namespaceEnabled ? { name: form.namespaceName.trim(), range: [share(form.namespaceStartPct), share(form.namespaceEndPct)] } : null,
    analysis: {
      primaryMetric: form.primaryMetric,
      // A catalogue guardrail whose metric was unticked below is dropped with it.
      guardrails: form.guardrails.filter((g) => g !== form.primaryMetric && (isBuiltInMetric(g) || form.catalogueMetrics.includes(g))),
      ...(form.catalogueMetrics.length ? { catalogueMetrics: form.catalogueMetrics.map((key) => ({ key })) } : {}),
      attributionDays: num(form.attributionDays),
      ltvDays: num(form.ltvDays),
      alpha: num(form.alpha),
      cuped: { enabled: form.cuped, lookbackDays: num(form.cupedLookbackDays) },
      sequential: { enabled: form.sequential },
      winsorize: { enabled: form.winsorize, percentile: share(form.winsorizePercentile) },
      multipleTesting: form.multipleTesting,
      mde: share(form.mdePct),
      defaultMarginRate: share(form.defaultMarginRatePct),
    },
    trigger: form.trigger || null,
    priority: num(form.priority),
    budget: form.budgetEnabled
      ? {
          amount: num(form.budgetAmount),
          currency: form.budgetCurrency.trim().toUpperCase(),
          maxCostPerIncrementalConversion: form.budgetMaxCostPerConversion ?? null,
        }
      : null,
  }
  if (form.id.trim()) draft.id = form.id.trim()
  return draft
}

/** Every field path the form has an input (or a group) for, as the API names them. */
export function formFields(form: ExperimentForm): string[] {
  const offerFields = ['type', 'value', 'currency', 'unitCost']
  const arms = form.arms.flatMap((arm, i) => [
    ...['key', 'name', 'weight', ...offerFields.map((f) => `offer.${f}`), 'tierOffers'].map((f) => `arms.${i}.${f}`),
    ...Object.keys(arm.tierOffers).flatMap((tier) => [`arms.${i}.tierOffers.${tier}`, ...offerFields.map((f) => `arms.${i}.tierOffers.${tier}.${f}`)]),
  ])
  const rows = form.targeting.flatMap((_, i) => [`targeting.${i}.attribute`, `targeting.${i}.value`])
  const analysis = [
    'primaryMetric',
    'guardrails',
    'catalogueMetrics',
    'attributionDays',
    'ltvDays',
    'alpha',
    'cuped.lookbackDays',
    'sequential',
    'winsorize.percentile',
    'multipleTesting',
    'mde',
    'defaultMarginRate',
  ].map((f) => `analysis.${f}`)
  const decisioning = ['trigger', 'priority', 'budget', 'budget.amount', 'budget.currency', 'budget.maxCostPerIncrementalConversion']
  return [
    'id',
    'name',
    'hypothesis',
    'arms',
    ...arms,
    'holdoutPct',
    'coverage',
    'targeting',
    ...rows,
    'namespace',
    'namespace.name',
    'namespace.range',
    'analysis',
    ...analysis,
    ...decisioning,
  ]
}

/**
 * The form field an API error belongs to: the exact path when the form has it, else the nearest enclosing
 * group (`analysis.cuped.enabled` → `analysis`); targeting paths are mapped to builder rows.
 */
export function errorTarget(field: string | undefined, known: string[]): string | null {
  if (!field) return null
  const row = rowForErrorField(field)
  if (row) field = `targeting.${row.row}.${row.part}`
  const set = new Set(known)
  const parts = field.split('.')
  while (parts.length) {
    const candidate = parts.join('.')
    if (set.has(candidate)) return candidate
    parts.pop()
  }
  return null
}
