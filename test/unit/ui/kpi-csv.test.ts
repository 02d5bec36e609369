import { describe, expect, it } from 'vitest'
import { KPI_CSV_HEADER, kpiCsv, kpiFileName } from '../../../ui/src/lib/kpiCsv.ts'
import type { KpiMetric, KpiMetricScope } from '../../../ui/src/lib/kpiMetrics.ts'
import type { KpiGroup, KpiReport } from '../../../ui/src/lib/reports.ts'
import { kpiComparison } from './comparison-fixture.ts'

// The program overview exported for a slide or a spreadsheet: one table, the headline first, then totals, weeks and
// one row per experiment, numbers raw. No DOM.

const group = (n: number, over: Partial<KpiGroup> = {}): KpiGroup => ({
  n,
  reactivationRate: 0.2,
  revenuePerCustomer: 40,
  netValuePerCustomer: 12,
  incentiveSpend: 0,
  ...over,
})
const lift = (estimate: number, ci: [number, number]) =>
  kpiComparison(estimate, ci, { metric: 'reactivation', baselineMean: 0.2, variantMean: 0.22 }) as unknown as KpiReport['lift']['reactivation']

/** One group's value of a catalogue metric, with the sufficient statistics of a proportion. */
const arm = (arm: string, n: number, value: number | null) => ({ arm, n, value, stats: { n, sum: (value ?? 0) * n } })
/** A catalogue metric's comparison: relative unless `fallback`, then the estimate is the absolute difference. */
const metricLift = (estimate: number, ci: [number, number], over: Partial<NonNullable<KpiMetricScope['lift']>> = {}): NonNullable<KpiMetricScope['lift']> => ({
  ...lift(estimate, ci),
  metric: 'repeat_buyer',
  baseline: 'global_holdout',
  absolute: { estimate: 0.01, ci: [0.002, 0.018], pValue: 0.01, standardError: 0.004, df: null },
  cuped: null,
  against: 'holdout',
  ...over,
})
const scope = (treated: [number, number | null], holdout: [number, number | null], l: KpiMetricScope['lift']): KpiMetricScope => ({
  treated: arm('treated', ...treated),
  globalHoldout: arm('global_holdout', ...holdout),
  lift: l,
})

const METRICS: KpiMetric[] = [
  {
    key: 'repeat_buyer',
    version: 2,
    name: 'Bought twice, 30 days',
    kind: 'proportion',
    format: 'percent',
    direction: 'higher',
    unavailable: null,
    ...scope([9_000, 0.12], [480, 0.1], metricLift(0.2, [0.05, 0.35])),
    programs: [
      { experimentId: 'winback', name: 'Win-back, lapsed', ...scope([5_800, 0.13], [290, 0.1], metricLift(0.3, [-0.02, 0.62])) },
      { experimentId: 'vip', name: 'VIP 20% off', ...scope([3_900, 0.11], [0, null], null) },
    ],
  },
  {
    key: 'refund_cost',
    version: 1,
    name: 'Refunds per customer',
    kind: 'mean',
    format: 'currency',
    direction: 'lower',
    unavailable: null,
    ...scope([9_000, 1.5], [480, 0], metricLift(1.5, [0.9, 2.1], { kind: 'absolute', fallback: 'absolute' })),
    programs: [],
  },
  {
    key: 'median_order',
    version: 1,
    name: 'Median order value',
    kind: 'quantile',
    format: 'currency',
    direction: 'higher',
    unavailable: 'Quantile metrics are not in the program KPIs yet.',
    ...scope([0, null], [0, null], null),
    programs: [],
  },
]

const KPIS: KpiReport = {
  from: '2026-09-02T00:00:00.000Z',
  to: '2026-12-01T00:00:00.000Z',
  periodLabel: 'the last 90 days',
  windowDays: 30,
  globalHoldoutPct: 0.05,
  maturity: { immature: 120, included: false },
  headline: { outcome: 'lost', text: 'The retention program lost −$33.9K (95% CI −$76.4K to −$1.2K), "after" $12.0K of incentives.' },
  treated: group(9_500, { incentiveSpend: 12_000 }),
  globalHoldout: group(500),
  lift: { reactivation: lift(0.1, [0.02, 0.18]), revenuePerCustomer: lift(-0.02, [-0.1, 0.06]) },
  incrementalRevenue: { estimate: 4_000, ci: [-9_000, 17_000] },
  incrementalNetValue: { estimate: -33_900, ci: [-76_400, -1_200] },
  incentiveSpend: 12_000,
  roi: -2.825,
  roiCi: [-6.37, -0.1],
  projectedAnnual: { netValue: { estimate: -137_000, ci: [-310_000, -5_000] }, treatedPerYear: 38_000, basisDays: 28 },
  weekly: [
    {
      week: '2026-09-07',
      treated: group(1_000, { incentiveSpend: 1_300 }),
      globalHoldout: group(50),
      reactivationLift: { estimate: 0.1, ci: [-0.2, 0.4] },
      revenueLift: { estimate: null, ci: null },
      incrementalNetValue: { estimate: -3_000, ci: [-9_000, 3_000] },
    },
  ],
  programs: [
    {
      experimentId: 'winback',
      name: 'Win-back, lapsed',
      trigger: 'lapsed_30d',
      status: 'running',
      treated: group(6_000),
      globalHoldout: group(300),
      incrementalNetValue: { estimate: 2_000, ci: [-4_000, 8_000] },
      reactivationLift: { estimate: 0.2, ci: [0.05, 0.35] },
      incentiveSpend: 5_000,
      roi: { estimate: 0.4, ci: [-0.8, 1.6] },
    },
    {
      experimentId: 'vip',
      name: 'VIP 20% off',
      trigger: null,
      status: 'stopped',
      treated: group(4_000),
      globalHoldout: group(200),
      incrementalNetValue: { estimate: -36_000, ci: [-70_000, -2_000] },
      reactivationLift: { estimate: 0.05, ci: [-0.1, 0.2] },
      incentiveSpend: 7_000,
      roi: { estimate: -5.1, ci: [-10, -0.3] },
    },
  ],
  metrics: METRICS,
  experiments: { running: 1, paused: 0, stopped: 1, draft: 0, decisions: [] },
}

/** A minimal RFC 4180 reader for the test: fields, quotes and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  for (const line of text.trimEnd().split('\r\n')) {
    const cells: string[] = []
    let cell = ''
    let quoted = false
    for (let i = 0; i < line.length; i++) {
      const c = line[i]
      if (quoted && c === '"' && line[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = !quoted
      else if (c === ',' && !quoted) {
        cells.push(cell)
        cell = ''
      } else cell += c
    }
    rows.push([...cells, cell])
  }
  return rows
}

describe('the overview as CSV', () => {
  const rows = parseCsv(kpiCsv(KPIS))
  const column = (name: string) => KPI_CSV_HEADER.indexOf(name)

  it('has one header and the same number of cells in every row', () => {
    expect(rows[0]).toEqual(KPI_CSV_HEADER)
    for (const r of rows) expect(r).toHaveLength(KPI_CSV_HEADER.length)
  })

  it('starts with the headline sentence, quoted where it holds commas and quotes', () => {
    expect(rows[1].slice(0, 3)).toEqual(['headline', 'lost', KPIS.headline.text])
  })

  it('carries the totals with their intervals and ROI', () => {
    const net = rows.find((r) => r[0] === 'total' && r[3] === 'incremental_net_value')!
    expect(net.slice(column('treated_n'), column('roi_upper_95') + 1).map(Number)).toEqual([9_500, 500, -33_900, -76_400, -1_200, 12_000, -2.825, -6.37, -0.1])
    const annual = rows.find((r) => r[3] === 'projected_annual_net_value')!
    expect(annual[column('estimate')]).toBe('-137000')
    expect(annual[column('note')]).toContain('38000 newly treated customers a year, measured over the last 28 days')
  })

  it('has three rows per week and exactly one per program, in the API’s order', () => {
    expect(rows.filter((r) => r[0] === 'week')).toHaveLength(3 * KPIS.weekly.length)
    const programs = rows.filter((r) => r[0] === 'program')
    expect(programs.map((r) => r[1])).toEqual(['winback', 'vip'])
    expect(programs[1][column('note')]).toContain('trigger none')
    expect(programs[0][column('lower_95')]).toBe('-4000')
    // A missing number is an empty cell, never "null".
    expect(rows.find((r) => r[0] === 'week' && r[3] === 'revenue_lift')![column('estimate')]).toBe('')
  })

  it('has one row per catalogue metric and scope, the program first, in the API’s order', () => {
    const metrics = rows.filter((r) => r[0] === 'metric')
    expect(metrics.map((r) => [r[column('metric')], r[column('id')], r[column('name')]])).toEqual([
      ['repeat_buyer@2', 'program', 'Retention program'],
      ['repeat_buyer@2', 'winback', 'Win-back, lapsed'],
      ['repeat_buyer@2', 'vip', 'VIP 20% off'],
      ['refund_cost@1', 'program', 'Retention program'],
      ['median_order@1', 'program', 'Retention program'],
    ])
  })

  it('carries each scope’s customers and lift with its interval, and the group values, the kind of lift and the verdict in the note', () => {
    const metric = (key: string, id: string) => rows.find((r) => r[0] === 'metric' && r[column('metric')] === key && r[column('id')] === id)!
    const numbers = (r: string[]) => r.slice(column('treated_n'), column('upper_95') + 1)
    expect(numbers(metric('repeat_buyer@2', 'program'))).toEqual(['9000', '480', '0.2', '0.05', '0.35'])
    expect(metric('repeat_buyer@2', 'program')[column('note')]).toBe(
      'Bought twice, 30 days; format percent; higher is better; treated 0.12; holdout 0.1; relative lift; absolute 0.01 [0.002, 0.018]; significant at 95%',
    )
    expect(numbers(metric('repeat_buyer@2', 'winback'))).toEqual(['5800', '290', '0.3', '-0.02', '0.62'])
    expect(metric('repeat_buyer@2', 'winback')[column('note')]).toContain('not significant at 95%')
    // A group without customers: the counts stay, the lift is empty and the note says why.
    expect(numbers(metric('repeat_buyer@2', 'vip'))).toEqual(['3900', '0', '', '', ''])
    expect(metric('repeat_buyer@2', 'vip')[column('note')]).toContain('holdout ; no lift: a group has no customer with a closed window')
    // The holdout's value is 0: the lift is the absolute difference, in the metric's units.
    expect(numbers(metric('refund_cost@1', 'program'))).toEqual(['9000', '480', '1.5', '0.9', '2.1'])
    expect(metric('refund_cost@1', 'program')[column('note')]).toContain(
      'lower is better; treated 1.5; holdout 0; lift is the absolute difference (the holdout value is 0)',
    )
  })

  it('writes a metric the KPIs cannot compute as one row with its reason and no numbers', () => {
    const quantile = rows.filter((r) => r[0] === 'metric' && r[column('metric')] === 'median_order@1')
    expect(quantile).toHaveLength(1)
    expect(quantile[0].slice(column('treated_n'), column('roi_upper_95') + 1).every((x) => x === '')).toBe(true)
    expect(quantile[0][column('note')]).toBe(
      'Median order value; format currency; higher is better; unavailable: Quantile metrics are not in the program KPIs yet.',
    )
  })

  it('names files by the end of the period', () => {
    expect(kpiFileName(KPIS, 'csv')).toBe('retention-program-2026-12-01.csv')
    expect(kpiFileName(KPIS, 'png')).toBe('retention-program-2026-12-01.png')
  })
})
