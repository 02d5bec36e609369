import type { Policy, PolicyChange, PolicyInput } from './api.ts'
import type { OfferType } from './offers.ts'

/**
 * The policy editor's form: empty number inputs mean "no limit" (null), offer types are either every
 * incentive or a chosen list, quiet hours are optional. `toPolicyCreate`/`toPolicyUpdate` build the API's
 * bodies; the API validates (negative caps, a cap without its window) and names the field.
 */
export interface PolicyForm {
  id: string
  name: string
  allTypes: boolean
  offerTypes: OfferType[]
  maxIncentives: number | null
  windowDays: number | null
  cooldownDays: number | null
  minGapHours: number | null
  quietHours: boolean
  quietStart: number | null
  quietEnd: number | null
  enabled: boolean
}

/** The incentive types a policy can cap (a message without an incentive is never capped). */
export const INCENTIVE_TYPES: OfferType[] = ['percent_off', 'amount_off', 'free_shipping', 'loyalty_points', 'trial_extension', 'custom']

export function blankPolicyForm(): PolicyForm {
  return {
    id: '',
    name: '',
    allTypes: true,
    offerTypes: [],
    maxIncentives: 1,
    windowDays: 30,
    cooldownDays: null,
    minGapHours: null,
    quietHours: false,
    quietStart: 22,
    quietEnd: 8,
    enabled: true,
  }
}

export function policyToForm(p: Policy): PolicyForm {
  return {
    id: p.id,
    name: p.name,
    allTypes: p.offerTypes === 'all',
    offerTypes: p.offerTypes === 'all' ? [] : [...p.offerTypes],
    maxIncentives: p.maxIncentives,
    windowDays: p.windowDays,
    cooldownDays: p.cooldownDays,
    minGapHours: p.minGapHours,
    quietHours: !!p.quietHours,
    quietStart: p.quietHours?.startHour ?? 22,
    quietEnd: p.quietHours?.endHour ?? 8,
    enabled: p.enabled,
  }
}

// An empty input (null, undefined or NaN) is "no limit".
const limit = (x: number | null | undefined) => (typeof x === 'number' && !Number.isNaN(x) ? x : null)

function fields(f: PolicyForm) {
  return {
    name: f.name.trim(),
    offerTypes: f.allTypes ? ('all' as const) : (f.offerTypes as Exclude<PolicyInput['offerTypes'], 'all' | undefined>),
    maxIncentives: limit(f.maxIncentives),
    windowDays: limit(f.windowDays),
    cooldownDays: limit(f.cooldownDays),
    minGapHours: limit(f.minGapHours),
    quietHours: f.quietHours ? { startHour: f.quietStart as number, endHour: f.quietEnd as number } : null,
    enabled: f.enabled,
  }
}

export function toPolicyCreate(f: PolicyForm): PolicyInput {
  return { id: f.id.trim(), ...fields(f) }
}

export function toPolicyUpdate(f: PolicyForm): PolicyChange {
  return fields(f)
}

/** The form's input for an API error field, in a form whose ids start with `scope`: `quietHours.startHour` → `policy.quietHours`. */
export function policyErrorTarget(field: string | undefined, scope = 'policy'): string | null {
  if (!field) return null
  const top = field.split('.')[0]
  return ['id', 'name', 'offerTypes', 'maxIncentives', 'windowDays', 'cooldownDays', 'minGapHours', 'quietHours', 'enabled'].includes(top)
    ? `${scope}.${top}`
    : null
}

/** A policy in words: "at most 1 incentive per 30 days · 7-day cooldown after a redemption". */
export function describePolicy(p: Pick<Policy, 'maxIncentives' | 'windowDays' | 'cooldownDays' | 'minGapHours' | 'quietHours'>): string {
  const parts: string[] = []
  if (p.maxIncentives !== null && p.windowDays !== null)
    parts.push(`at most ${p.maxIncentives} incentive${p.maxIncentives === 1 ? '' : 's'} per ${p.windowDays} day${p.windowDays === 1 ? '' : 's'}`)
  if (p.cooldownDays !== null) parts.push(`${p.cooldownDays}-day cooldown after a redemption`)
  if (p.minGapHours !== null) parts.push(`${p.minGapHours} h between incentives`)
  if (p.quietHours) parts.push(`quiet ${String(p.quietHours.startHour).padStart(2, '0')}:00–${String(p.quietHours.endHour).padStart(2, '0')}:00 UTC`)
  return parts.length ? parts.join(' · ') : 'no limits'
}
