import { armName, type Baseline, type ExperimentReport } from './reports.ts'
import { verdict, type Tone } from './significance.ts'

/** One line of the forest plot: a comparison of one arm with the baseline on one metric. */
export interface ForestRow {
  id: string
  groupKey: string
  group: string
  /** "primary" or "guardrail" beside the metric's name. */
  tag: string | null
  label: string
  estimate: number | null
  ci: [number, number] | null
  tone: Tone
  verdict: string
  /** Why there is no interval ("the baseline mean is 0…"). */
  note: string | null
}

/**
 * Every comparison against the chosen baseline (relative lift), grouped by metric in report order, the
 * primary metric first. Survival metrics have no lift and are left to the Kaplan–Meier chart.
 */
export function forestRows(report: Pick<ExperimentReport, 'arms' | 'metrics'>, against: Baseline): ForestRow[] {
  const metrics = [...report.metrics].filter((m) => m.kind !== 'survival').sort((a, b) => Number(b.isPrimary) - Number(a.isPrimary))
  const rows: ForestRow[] = []
  for (const m of metrics) {
    for (const c of m.comparisons) {
      if (c.against !== against) continue
      const v = verdict(c, m.higherIsBetter)
      // An absolute fallback (control's value is 0) is in the metric's units: it has no place on a lift axis.
      const absolute = c.fallback === 'absolute' || c.kind === 'absolute'
      rows.push({
        id: `${m.key}:${c.variant}:${c.against}`,
        groupKey: m.key,
        group: m.label,
        tag: m.isPrimary ? 'primary' : m.isGuardrail ? 'guardrail' : null,
        label: armName(report, c.variant),
        estimate: c.notEstimable || absolute ? null : c.estimate,
        ci: c.notEstimable || absolute ? null : c.ci,
        tone: v.tone,
        verdict: v.label,
        note:
          c.notEstimable?.message ??
          (c.estimate === null ? 'not enough data yet' : absolute ? 'no relative lift: an absolute difference (see the table)' : null),
      })
    }
  }
  return rows
}
