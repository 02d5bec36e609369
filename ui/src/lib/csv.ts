import type { ExperimentReport } from './reports.ts'
import { verdict } from './significance.ts'

/**
 * The metrics table as CSV for a spreadsheet: one row per metric × arm × baseline, raw numbers (shares as
 * fractions, lifts as fractions) so nothing is lost to rounding; empty cells where a number does not exist.
 */

type Cell = string | number | boolean | null | undefined

/** RFC 4180: quote a field when it holds a comma, a quote or a line break; double the quotes inside. */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'number' && !Number.isFinite(value)) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function toCsv(rows: Cell[][]): string {
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n'
}

export const REPORT_CSV_HEADER = [
  'metric_key',
  'metric',
  'arm_key',
  'arm',
  'n',
  'value',
  'baseline',
  'relative_lift',
  'relative_lift_lower',
  'relative_lift_upper',
  'absolute_difference',
  'absolute_lower',
  'absolute_upper',
  'p_value',
  'adjusted_p_value',
  'adjustment',
  'chance_to_win',
  'significant',
  'verdict',
]

export function reportCsv(report: Pick<ExperimentReport, 'arms' | 'metrics'>): string {
  const rows: Cell[][] = [REPORT_CSV_HEADER]
  for (const m of report.metrics) {
    for (const arm of report.arms) {
      const v = m.values.find((x) => x.arm === arm.key)
      const survival = m.survival?.find((s) => s.arm === arm.key)
      const value = m.kind === 'survival' ? survival?.median : v?.value
      const base = [m.key, m.label, arm.key, arm.name, v?.n ?? survival?.n ?? arm.n, value]
      const comparisons = m.comparisons.filter((c) => c.variant === arm.key)
      if (!comparisons.length) rows.push([...base, '', '', '', '', '', '', '', '', '', '', '', '', ''])
      for (const c of comparisons) {
        rows.push([
          ...base,
          c.against,
          c.estimate,
          c.ci?.[0],
          c.ci?.[1],
          c.absolute.estimate,
          c.absolute.ci?.[0],
          c.absolute.ci?.[1],
          c.pValue,
          c.adjustedPValue,
          c.adjustment ?? 'none',
          c.chanceToWin,
          c.significant,
          verdict(c, m.higherIsBetter).label,
        ])
      }
    }
  }
  return toCsv(rows)
}
