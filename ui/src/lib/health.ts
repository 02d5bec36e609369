import { integer } from './format.ts'
import type { ExperimentReport } from './reports.ts'

/**
 * The report's health section as the dashboard draws it: enrolment series per arm, the SRM p-value per day,
 * power progress and the maturity sentence (api/reports/health.ts computes the numbers).
 */

export type Health = ExperimentReport['health']

const dayDate = (day: string) => new Date(`${day.slice(0, 10)}T00:00:00Z`)

/** One series per arm of cumulative customers by day, in the report's arm order. */
export function enrolmentSeries(health: Pick<Health, 'enrolment'>, arms: Array<{ key: string; name: string }>, colours: Map<string, string>) {
  return arms.map((a) => ({
    arm: a.key,
    name: a.name,
    colour: colours.get(a.key) ?? '#1f4e79',
    points: health.enrolment.map((e) => ({ day: dayDate(e.day), n: e.cumulative[a.key] ?? 0 })),
  }))
}

/** The SRM p-value per day, days without customers left out. */
export function srmPoints(health: Pick<Health, 'enrolment'>): Array<{ day: Date; p: number }> {
  return health.enrolment.filter((e) => e.srmPValue !== null && Number.isFinite(e.srmPValue)).map((e) => ({ day: dayDate(e.day), p: e.srmPValue as number }))
}

/** Power progress as a share in [0, 1] for the bar, or null when the needed sample is unknown. */
export function powerShare(power: Pick<Health['power'], 'nPerArmNeeded' | 'nPerArmReached'>): number | null {
  if (power.nPerArmNeeded === null || !(power.nPerArmNeeded > 0)) return null
  return Math.max(0, Math.min(1, power.nPerArmReached / power.nPerArmNeeded))
}

/**
 * The maturity line: `maturityText({ immature: 1200, windowDays: 30, included: false })` → "1,200 customers are
 * still inside their 30-day window and are not counted yet." Null when every customer's window has ended.
 */
export function maturityText(m: Pick<Health['maturity'], 'immature' | 'windowDays' | 'included'>): string | null {
  if (!(m.immature > 0)) return null
  const who = m.immature === 1 ? '1 customer is' : `${integer(m.immature)} customers are`
  const window = `${m.windowDays}-day window`
  return m.included
    ? `${who} still inside their ${window} and counted with their outcomes so far: rates read low until their windows end.`
    : `${who} still inside their ${window} and are not counted yet.`
}
