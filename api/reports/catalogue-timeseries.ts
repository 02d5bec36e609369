/**
 * Lift over time for catalogue metrics (issue 17, item 4). A customer enters a catalogue metric's series at the
 * first cut on or after the end of their window for it (exposure + endDays), and every event of that window
 * precedes the entry, so their value is final when they enter: the statistics at a cut are the sums over the
 * customers who entered by then. One query per metric (its own window decides the entry), grouped by arm and
 * entry cut, added up in order here; the point at a cut equals the report as of that cut.
 */
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { TimeseriesPoint } from '../contract/timeseries.ts'
import { compileColumns, type CompilableMetric } from '../metrics/compile.ts'
import { armRows, comparisonSettings, reportArms } from '../metrics/arm-values.ts'
import { customerWindowParams, customerWindowSql, enrollmentCutoff, wholeRange, type CustomerSlice } from './sql/customer-window.ts'
import { customerSlices, querySliced, type SliceOptions } from './customer-slices.ts'
import { armValue, compareMetric, rowOrEmpty } from './arm-comparisons.ts'
import type { ReportCatalogueMetric } from './catalogue-metrics.ts'
import { storedPropertyColumns } from '../stores/property-columns.ts'

const DAY = 86_400_000
type Row = Record<string, unknown>

/**
 * Whether a catalogue metric has a lift over time. A quantile is not a sum over customers; a time to event is
 * a survival curve (as the built-in times, which the chart leaves out too); a percentile cap is computed over the
 * customers counted at the final cut, so earlier points would not be what the report showed then.
 */
export function hasTimeseries(m: ReportCatalogueMetric): m is ReportCatalogueMetric & { def: CompilableMetric } {
  const defs = m.def.kind === 'ratio' ? [m.def.parts.numerator, m.def.parts.denominator] : [m.def]
  return m.def.kind !== 'quantile' && m.def.kind !== 'time_to_event' && !defs.some((d) => 'capping' in d && d.capping?.type === 'percentile')
}

/** The metric's per-arm statistics by entry cut `k` (1-based into {cuts}; customers not yet in the series are left out). */
const seriesSql =
  (compiled: ReturnType<typeof compileColumns>) =>
  (slice: CustomerSlice = wholeRange) => `WITH ${customerWindowSql('none', slice, compiled)},
entered AS (
  SELECT arm, arrayFirstIndex(c -> c >= exposed_ms + {entryMs:Int64}, {cuts:Array(Int64)}) AS k, ${compiled.capped.join(', ')}
  FROM customers
)
SELECT arm, k,
  ${compiled.arm.join(',\n  ')}
FROM entered
WHERE k > 0
GROUP BY arm, k
ORDER BY arm, k`

/** Adds the numbers of one row to another (every column of a catalogue metric's statistics is a sum over customers). */
function add(total: Row | undefined, row: Row): Row {
  const out: Row = { ...row }
  for (const [k, v] of Object.entries(row)) if (k !== 'arm' && k !== 'k') out[k] = Number(total?.[k] ?? 0) + Number(v)
  return out
}

/**
 * Each variant vs control at every cut for the catalogue metrics that have a series, in the order asked.
 *
 * @example
 * await catalogueTimeseries(ch, exp, catalogue.filter(hasTimeseries), cuts, asOf)
 * // [{ metric: 'second_order_60d', label: 'Second order in 60 days', format: 'percent', control: 'control', points: [...] }]
 */
export async function catalogueTimeseries(
  ch: ClickHouse,
  exp: Experiment,
  metrics: Array<ReportCatalogueMetric & { def: CompilableMetric }>,
  cuts: number[],
  asOf: number,
  opts: SliceOptions = {},
) {
  const a = exp.analysis
  const arms = reportArms(exp)
  const settings = comparisonSettings(exp)
  const control = exp.arms.find((x) => x.isControl)!.key
  const variants = exp.arms.filter((x) => !x.isControl).map((x) => x.key)
  const params = {
    ...customerWindowParams({
      experimentId: exp.id,
      asOfMs: asOf,
      attributionMs: a.attributionDays * DAY,
      ltvMs: a.ltvDays * DAY,
      lookbackMs: a.cuped.lookbackDays * DAY,
      marginRate: a.defaultMarginRate,
      enrolledUntilMs: enrollmentCutoff(exp, asOf),
      // A customer enters once their window has ended, whatever the chart's include: a value still growing would
      // otherwise be counted at a cut before its events.
      includeImmature: false,
    }),
    cuts,
  }
  const slices = await customerSlices(ch, exp.id, asOf, opts.customersPerSlice)
  const out = []
  const stored = await storedPropertyColumns(ch)
  for (const m of metrics) {
    const compiled = compileColumns([m.def], { cuped: a.cuped.enabled, stored })
    const windowEnd =
      (m.def.kind === 'ratio' ? Math.max(m.def.parts.numerator.window.endDays, m.def.parts.denominator.window.endDays) : m.def.window.endDays) * DAY
    const rows = await querySliced(ch, slices, seriesSql(compiled), { ...params, ...compiled.params, entryMs: windowEnd }, ['arm', 'k'])
    const points: TimeseriesPoint[] = []
    const running = new Map<string, Row>()
    cuts.forEach((cut, i) => {
      for (const r of rows.filter((x) => Number(x.k) === i + 1)) running.set(String(r.arm), add(running.get(String(r.arm)), r))
      const c = armRows(compiled.metrics[0], running, arms, settings)
      for (const v of variants) {
        const comparison = compareMetric(c.def, rowOrEmpty(c.rows, control), rowOrEmpty(c.rows, v), 'control', c.settings)
        points.push({
          at: new Date(cut).toISOString(),
          arm: v,
          against: 'control',
          n: rowOrEmpty(c.rows, v).n,
          value: armValue(c.def, rowOrEmpty(c.rows, v)),
          estimate: comparison?.estimate ?? null,
          ci: comparison?.ci ?? null,
          significant: comparison?.significant ?? false,
        })
      }
    })
    out.push({ metric: m.ref.key, label: m.def.name, format: m.def.format, control, points })
  }
  return out
}
