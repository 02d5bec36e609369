import { toCsv } from './csv.ts'
import { isSignificant, type KpiMetric, type KpiMetricScope } from './kpiMetrics.ts'
import type { KpiEstimate, KpiReport } from './reports.ts'

/**
 * The program overview as one CSV table for a slide or a spreadsheet: the headline, the period, the totals, every
 * week, every experiment and every catalogue metric chosen, one row each, told apart by `section` so a filter shows
 * one part. Raw numbers (money in currency units, lifts and rates as fractions, ROI as a fraction), empty where a
 * number does not exist.
 */

type Cell = string | number | null | undefined

export const KPI_CSV_HEADER = [
  'section',
  'id',
  'name',
  'metric',
  'treated_n',
  'holdout_n',
  'estimate',
  'lower_95',
  'upper_95',
  'incentive_spend',
  'roi',
  'roi_lower_95',
  'roi_upper_95',
  'note',
]

const ends = (e: KpiEstimate | { estimate: number | null; ci: [number, number] | null }): Cell[] => [e.estimate, e.ci?.[0], e.ci?.[1]]

/** The file name of an export: `kpiFileName(kpis, 'csv')` → "retention-program-2026-12-01.csv" (the period's end). */
export function kpiFileName(kpis: Pick<KpiReport, 'to'>, extension: 'csv' | 'png'): string {
  return `retention-program-${kpis.to.slice(0, 10)}.${extension}`
}

/**
 * `kpiCsv(kpis)` → the CSV text (RFC 4180, CRLF): a header, then `headline`, `period`, `total` (one row per
 * measure), `week` (three measures per week), `program` (one row per experiment, in the API's order) and `metric`
 * (per catalogue metric chosen, one row for the program and one per experiment; see metricNote for the note).
 */
export function kpiCsv(kpis: KpiReport): string {
  const n = [kpis.treated.n, kpis.globalHoldout.n]
  const rows: Cell[][] = [KPI_CSV_HEADER]
  const row = (section: string, id: string, name: string, metric: string, cells: Cell[], note: Cell = '') => {
    const padded = [...cells, ...Array(KPI_CSV_HEADER.length - 5 - cells.length).fill('')]
    rows.push([section, id, name, metric, ...padded, note])
  }

  row('headline', kpis.headline.outcome, kpis.headline.text, '', [])
  row(
    'period',
    `${kpis.from.slice(0, 10)}/${kpis.to.slice(0, 10)}`,
    kpis.periodLabel,
    '',
    [],
    `window ${kpis.windowDays} days; global holdout ${kpis.globalHoldoutPct}; ${kpis.maturity.immature} customers inside their window${kpis.maturity.included ? ' (counted)' : ' (not counted)'}`,
  )
  row('total', 'program', 'Retention program', 'incremental_net_value', [
    ...n,
    ...ends(kpis.incrementalNetValue),
    kpis.incentiveSpend,
    kpis.roi,
    kpis.roiCi?.[0],
    kpis.roiCi?.[1],
  ])
  row('total', 'program', 'Retention program', 'incremental_revenue', [...n, ...ends(kpis.incrementalRevenue)])
  row(
    'total',
    'program',
    'Retention program',
    'reactivation_lift',
    [...n, ...ends(kpis.lift.reactivation)],
    `treated ${kpis.treated.reactivationRate}; holdout ${kpis.globalHoldout.reactivationRate}`,
  )
  row(
    'total',
    'program',
    'Retention program',
    'revenue_per_customer_lift',
    [...n, ...ends(kpis.lift.revenuePerCustomer)],
    `treated ${kpis.treated.revenuePerCustomer}; holdout ${kpis.globalHoldout.revenuePerCustomer}`,
  )
  const annual = kpis.projectedAnnual
  row(
    'total',
    'program',
    'Retention program',
    'projected_annual_net_value',
    ['', '', ...ends(annual.netValue)],
    `${annual.treatedPerYear ?? ''} newly treated customers a year, measured over the last ${annual.basisDays} days`,
  )

  for (const w of kpis.weekly) {
    const wn = [w.treated.n, w.globalHoldout.n]
    row('week', w.week, `Week of ${w.week}`, 'incremental_net_value', [...wn, ...ends(w.incrementalNetValue), w.treated.incentiveSpend])
    row('week', w.week, `Week of ${w.week}`, 'reactivation_lift', [...wn, ...ends(w.reactivationLift)])
    row('week', w.week, `Week of ${w.week}`, 'revenue_lift', [...wn, ...ends(w.revenueLift)])
  }

  for (const p of kpis.programs) {
    row(
      'program',
      p.experimentId,
      p.name,
      'incremental_net_value',
      [p.treated.n, p.globalHoldout.n, ...ends(p.incrementalNetValue), p.incentiveSpend, ...ends(p.roi)],
      `trigger ${p.trigger ?? 'none'}; status ${p.status}; reactivation lift ${p.reactivationLift.estimate ?? ''}`,
    )
  }

  for (const m of kpis.metrics) {
    const scopes: Array<{ id: string; name: string; scope: KpiMetricScope }> = [
      { id: 'program', name: 'Retention program', scope: m },
      ...m.programs.map((p) => ({ id: p.experimentId, name: p.name, scope: p })),
    ]
    for (const { id, name, scope } of scopes) {
      const lift = m.unavailable ? null : scope.lift
      const counts = m.unavailable ? [] : [scope.treated.n, scope.globalHoldout.n]
      row('metric', id, name, `${m.key}@${m.version}`, [...counts, ...(lift ? ends(lift) : [])], metricNote(m, scope))
    }
  }
  return toCsv(rows)
}

/**
 * A catalogue metric's row note: its name, format and direction, each group's value (raw, in the metric's units),
 * whether the lift is relative or an absolute difference (and the absolute one beside a relative lift), the
 * verdict the API made, or why there are no numbers.
 */
function metricNote(m: KpiMetric, scope: KpiMetricScope): string {
  const about = `${m.name}; format ${m.format}; ${m.direction} is better`
  if (m.unavailable) return `${about}; unavailable: ${m.unavailable}`
  const groups = `treated ${scope.treated.value ?? ''}; holdout ${scope.globalHoldout.value ?? ''}`
  const c = scope.lift
  if (!c) return `${about}; ${groups}; no lift: a group has no customer with a closed window`
  if (c.notEstimable || c.estimate === null) return `${about}; ${groups}; not estimable: ${c.notEstimable?.message ?? ''}`
  const kind =
    c.fallback === 'absolute'
      ? 'lift is the absolute difference (the holdout value is 0)'
      : c.kind === 'absolute'
        ? 'lift is the absolute difference'
        : `relative lift; absolute ${c.absolute.estimate ?? ''} [${c.absolute.ci?.[0] ?? ''}, ${c.absolute.ci?.[1] ?? ''}]`
  return `${about}; ${groups}; ${kind}; ${isSignificant(c) ? 'significant' : 'not significant'} at 95%`
}
