/**
 * Is the test healthy and far enough along to decide? Enrolment per arm over time, the SRM check as it stood
 * each day, how many customers are still inside their window, and power progress: customers with a complete
 * window per arm against the number needed to detect the minimum worthwhile lift (docs/statistics.md →
 * Health and power progress).
 */
import { sampleSizePerArm, srmTest, type PlanningBaseline } from '../../stats/index.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { Health, PowerProgress } from '../contract/health.ts'

const DAY = 86_400_000

export interface EnrolmentRow {
  arm: string
  day: string
  enrolled: number
  immature: number
}

export interface HealthInput {
  exp: Experiment
  rows: EnrolmentRow[]
  /** Arms in the report order with their configured shares (holdout included). */
  arms: Array<{ key: string; expectedShare: number; isHoldout: boolean }>
  asOf: number
  /** Last instant customers could enrol (the budget cut-off, else asOf). */
  enrolledUntil: number
  windowDays: number
  includeImmature: boolean
  /** The control's observed primary-metric baseline, for the sample size; null when it cannot be planned. */
  baseline: PlanningBaseline | null
}

/**
 * Days until `needed` customers per arm have a complete window, from the daily enrolment of the smallest arm:
 * if enough are enrolled, the day the needed-th one enrolled plus the window, less the days since; otherwise the
 * days to enrol the rest at the observed rate, plus the window for the last of them to complete it.
 */
export function daysUntilSample(
  needed: number,
  dailyEnrolment: Array<{ dayStartMs: number; enrolled: number }>,
  ratePerDay: number | null,
  asOf: number,
  windowDays: number,
): number | null {
  let cumulative = 0
  for (const d of dailyEnrolment) {
    cumulative += d.enrolled
    if (cumulative >= needed) return Math.max(0, Math.ceil((d.dayStartMs + DAY + windowDays * DAY - asOf) / DAY))
  }
  if (!ratePerDay || !(ratePerDay > 0)) return null
  return Math.ceil((needed - cumulative) / ratePerDay) + windowDays
}

export function testHealth(input: HealthInput): Health {
  const { exp, rows, arms, asOf, windowDays } = input
  const a = exp.analysis
  const armKeys = arms.map((x) => x.key)
  const byDay = new Map<string, EnrolmentRow[]>()
  for (const r of rows) byDay.set(r.day, [...(byDay.get(r.day) ?? []), r])
  const running: Record<string, number> = Object.fromEntries(armKeys.map((k) => [k, 0]))
  const enrolment = [...byDay.keys()].sort().map((day) => {
    for (const r of byDay.get(day)!) if (r.arm in running) running[r.arm] += r.enrolled
    const counts = armKeys.map((k) => running[k])
    const total = counts.reduce((s, n) => s + n, 0)
    return {
      day,
      cumulative: { ...running },
      srmPValue:
        total > 0
          ? srmTest(
              counts,
              arms.map((x) => x.expectedShare),
            ).pValue
          : null,
    }
  })
  const byArm = armKeys.map((arm) => {
    const mine = rows.filter((r) => r.arm === arm)
    return { arm, enrolled: mine.reduce((s, r) => s + r.enrolled, 0), immature: mine.reduce((s, r) => s + r.immature, 0) }
  })
  // The decision compares control and variants; the smallest of them sets the pace.
  const compared = byArm.filter((x) => !arms.find((y) => y.key === x.arm)?.isHoldout)
  const smallest = compared.reduce((m, x) => (x.enrolled < m.enrolled ? x : m), compared[0] ?? { arm: '', enrolled: 0, immature: 0 })
  const start = exp.startedAt ? Date.parse(exp.startedAt) : null
  const daysRunning = start === null ? null : Math.max(0, (asOf - start) / DAY)
  const enrollingDays = start === null ? null : Math.max(0, (input.enrolledUntil - start) / DAY)
  const enrolmentPerArmPerDay = enrollingDays && enrollingDays > 0 ? smallest.enrolled / enrollingDays : null
  const plannedEnd = a.successCriteria?.plannedEndDate ? Date.parse(`${a.successCriteria.plannedEndDate}T00:00:00Z`) : null
  const plannedDays = plannedEnd !== null && start !== null ? Math.max(0, Math.round((plannedEnd - start) / DAY)) : null

  const minimumLift = a.successCriteria?.minimumLift ?? a.mde
  const reached = smallest.enrolled - (input.includeImmature ? 0 : smallest.immature)
  let nPerArmNeeded: number | null = null
  let basis: PowerProgress['basis'] = null
  let reason: string | null = null
  if (a.successCriteria?.plannedSampleSizePerArm) {
    nPerArmNeeded = a.successCriteria.plannedSampleSizePerArm
    basis = 'planned'
  } else if (input.baseline) {
    const variants = exp.arms.length - 1
    // Sized for the decision family: Holm/Bonferroni over the variants is planned at α / variants.
    const alpha = a.families.decision === 'holm' || a.families.decision === 'bonferroni' ? a.alpha / variants : a.alpha
    const plan = sampleSizePerArm(input.baseline, { mde: minimumLift, mdeKind: 'relative', alpha, power: 0.8, arms: exp.arms.length })
    nPerArmNeeded = plan.perArm
    basis = plan.perArm === null ? null : 'computed'
    reason = plan.notEstimable?.message ?? null
  } else {
    reason = 'the control has no baseline yet (no customer with a complete window, or a value of 0)'
  }
  const smallestDaily = rows
    .filter((r) => r.arm === smallest.arm)
    .map((r) => ({ dayStartMs: Date.parse(`${r.day}T00:00:00Z`), enrolled: r.enrolled }))
    .sort((x, y) => x.dayStartMs - y.dayStartMs)
  const daysNeeded =
    nPerArmNeeded === null
      ? null
      : reached >= nPerArmNeeded
        ? 0
        : daysUntilSample(nPerArmNeeded, smallestDaily, exp.status === 'running' ? enrolmentPerArmPerDay : null, asOf, input.includeImmature ? 0 : windowDays)

  const enrolled = byArm.reduce((s, x) => s + x.enrolled, 0)
  const immature = byArm.reduce((s, x) => s + x.immature, 0)
  return {
    maturity: { windowDays, included: input.includeImmature, enrolled, immature, byArm },
    enrolment,
    daysRunning: daysRunning === null ? null : Math.round(daysRunning * 10) / 10,
    plannedDays,
    enrolmentPerArmPerDay,
    power: {
      metric: a.primaryMetric,
      minimumLift,
      nPerArmNeeded,
      basis,
      nPerArmReached: reached,
      nPerArmEnrolled: smallest.enrolled,
      progress: nPerArmNeeded ? Math.min(1, reached / nPerArmNeeded) : null,
      reason,
    },
    daysNeeded,
  }
}
