import type { ExperimentReport } from './reports.ts'

/**
 * The report's recommendation as the dashboard shows it (the API decides it: api/reports/recommendation.ts),
 * and the rule the decision form applies to it: going against the recommendation needs a written rationale.
 */

export type Recommendation = ExperimentReport['recommendation']
export type RecommendedAction = Recommendation['action']
export type CriterionStatus = ExperimentReport['criteria'][number]['criteria'][number]['status']

export const actionLabel: Record<RecommendedAction, string> = {
  ship: 'Ship',
  keep_running: 'Keep running',
  stop: 'Stop',
  roll_back: 'Roll back',
  investigate: 'Investigate',
}

export const actionTone: Record<RecommendedAction, 'positive' | 'negative' | 'neutral' | 'warning'> = {
  ship: 'positive',
  keep_running: 'neutral',
  stop: 'warning',
  roll_back: 'negative',
  investigate: 'warning',
}

export const criterionLabel: Record<CriterionStatus, string> = { met: 'Met', not_met: 'Not met', unknown: 'Not yet known' }

/** The arm the decision form starts with: the recommended one when the report says ship, else none. */
export function prefilledArm(rec: Pick<Recommendation, 'action' | 'arm'> | null | undefined): string {
  return rec?.action === 'ship' && rec.arm ? rec.arm : ''
}

/**
 * Why a decision needs a rationale before it is saved, or null when it does not: choosing another arm than the
 * one the report says to ship, rolling out an arm it says to roll back, or deciding while it says to keep running,
 * investigate, or stop (unless the choice is the control).
 * `rationaleNeeded({ action: 'ship', arm: 'pct15' }, 'freeship')` → "The report recommends shipping pct15; …".
 */
export function rationaleNeeded(
  rec: Pick<Recommendation, 'action' | 'arm'> | null | undefined,
  chosenArm: string,
  opts: { controlKey?: string; armName?: (key: string) => string } = {},
): string | null {
  const armName = opts.armName ?? ((k: string) => k)
  if (!rec || !chosenArm) return null
  if (rec.action === 'ship') {
    if (rec.arm === chosenArm) return null
    return `The report recommends shipping ${armName(rec.arm ?? '')}, not ${armName(chosenArm)}: write down why you decide otherwise.`
  }
  if (rec.action === 'roll_back' && rec.arm === chosenArm)
    return `The report recommends rolling ${armName(chosenArm)} back: write down why you roll it out anyway.`
  if (rec.action === 'roll_back') return null
  // Stopping without a winner means keeping the control: recording that is following the report.
  if (rec.action === 'stop' && chosenArm === opts.controlKey) return null
  return `The report recommends “${actionLabel[rec.action].toLowerCase()}”, not shipping an arm: write down why you decide now.`
}
