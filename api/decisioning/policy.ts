import type { Policy } from './schema.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

export interface LedgerEntry {
  offerType: string
  at: number
  /** The experiment that issued the incentive (incentives only). */
  experimentId?: string
}

/** What the pacing rules need to know about one customer: recent incentives issued and redemptions. */
export interface CustomerLedger {
  incentives: LedgerEntry[]
  redemptions: LedgerEntry[]
}

export type PolicyVerdict = 'pacing' | 'cooldown' | null

const inScope = (policy: Pick<Policy, 'offerTypes'>, type: string) => policy.offerTypes === 'all' || policy.offerTypes.includes(type as never)

/**
 * Whether pacing and fatigue policies keep a customer out of an experiment that could issue `offerTypes`.
 * It depends on the experiment's offer types, never on the arm the customer would get, so suppressing is the
 * same for every arm and cannot bias a comparison. A policy applies when it caps one of those types.
 *
 * - cooldown: a redemption of a capped type less than `cooldownDays` ago;
 * - pacing: `maxIncentives` capped incentives already issued in the last `windowDays`, or one less than
 *   `minGapHours` ago, or the current UTC hour inside `quietHours`.
 */
export function policyVerdict(policies: Policy[], offerTypes: ReadonlySet<string>, ledger: CustomerLedger, now: number): PolicyVerdict {
  if (!offerTypes.size) return null
  let verdict: PolicyVerdict = null
  for (const p of policies) {
    if (!p.enabled || ![...offerTypes].some((t) => inScope(p, t))) continue
    if (p.cooldownDays != null && ledger.redemptions.some((r) => inScope(p, r.offerType) && now - r.at < p.cooldownDays! * DAY)) return 'cooldown'
    const capped = ledger.incentives.filter((i) => inScope(p, i.offerType))
    if (p.maxIncentives != null && p.windowDays != null && capped.filter((i) => now - i.at < p.windowDays! * DAY).length >= p.maxIncentives) verdict = 'pacing'
    if (p.minGapHours != null && capped.some((i) => now - i.at < p.minGapHours! * HOUR)) verdict = 'pacing'
    if (p.quietHours) {
      const hour = new Date(now).getUTCHours()
      const { startHour: s, endHour: e } = p.quietHours
      if (s < e ? hour >= s && hour < e : hour >= s || hour < e) verdict = 'pacing'
    }
  }
  return verdict
}

/** How far back the ledger must reach for these policies (bounded so memory stays bounded). */
export function ledgerHorizonMs(policies: Policy[]): number {
  let days = 1
  for (const p of policies) days = Math.max(days, p.windowDays ?? 0, p.cooldownDays ?? 0, (p.minGapHours ?? 0) / 24)
  return Math.min(days, 400) * DAY
}
