import { restrictedMeanSurvival } from '../../stats/index.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { MetricArmStats, MetricArmValue, MetricArmValues, MetricPreview, MetricPreviewArm } from '../contract/metrics.ts'
import { enrollmentCutoff } from '../reports/sql/customer-window.ts'
import { customerSlices, querySliced, singlePass, type Slice, type SliceOptions } from '../reports/customer-slices.ts'
import { armValue, compareMetric, rowOrEmpty, survivalRows, type ComparisonSettings } from '../reports/arm-comparisons.ts'
import type { ArmStatsRow } from '../reports/sql/arm-stats.ts'
import type { MetricDefinition as ReportMetric } from '../reports/metric-definitions.ts'
import {
  compileMetrics,
  metricQueryParams,
  METRIC_SURVIVAL,
  SURVIVAL_KEY_STRIDE,
  type CompilableMetric,
  type CompiledMetric,
  type QuantileMetric,
} from './compile.ts'
import { quantileArms, quantileComparison, type QuantileArmResult } from './quantile-values.ts'
import { storedPropertyColumns } from '../stores/property-columns.ts'

const DAY = 86_400_000

export type { MetricArmStats, MetricArmValue, MetricArmValues }

export interface MetricValuesQuery {
  /** As of this instant (ms); defaults to now. */
  asOf?: number
  include?: 'immature'
}

export interface MetricValuesResult {
  experimentId: string
  asOf: string
  arms: MetricPreviewArm[]
  metrics: MetricArmValues[]
}

type Row = Record<string, unknown>
const num = (row: Row | undefined, col: string) => Number(row?.[col] ?? 0)

/**
 * Catalogue statistics in the shape of the report's rows and definitions, so a catalogue metric is valued and
 * compared by the very code that values and compares the built-in ones (relative lift with the absolute beside
 * it, the zero-baseline fallback, CUPED, sequential intervals, restricted mean time to event): a proportion reads
 * like reactivation, a mean like revenue, a ratio like AOV, a time to event like time to purchase.
 */
function asReport(m: CompiledMetric, arm: string, raw: Row | undefined): { def: ReportMetric; row: ArmStatsRow } {
  const row: ArmStatsRow = { ...rowOrEmpty(new Map(), arm), n: num(raw, `${m.id}_n`) }
  const base = { label: m.def.name, format: m.def.format, higherIsBetter: m.def.direction !== 'lower', description: m.def.description }
  const kind = m.def.kind
  if (kind === 'proportion' || kind === 'retention') {
    row.reactivation = num(raw, `${m.id}_sum`)
    return { def: { ...base, key: 'reactivation', kind: 'proportion' }, row }
  }
  if (kind === 'mean') {
    Object.assign(row, {
      revenue_sum: num(raw, `${m.id}_sum`),
      revenue_ss: num(raw, `${m.id}_ss`),
      pre_revenue_sum: num(raw, `${m.id}_pre_sum`),
      pre_revenue_ss: num(raw, `${m.id}_pre_ss`),
      revenue_pre_cross: num(raw, `${m.id}_cross`),
    })
    return { def: { ...base, key: 'revenue', kind: 'mean', ...(m.cuped ? { cupedPre: 'pre_revenue' as const } : {}) }, row }
  }
  if (kind === 'ratio') {
    Object.assign(row, {
      gross_sum: num(raw, `${m.id}_num_sum`),
      gross_ss: num(raw, `${m.id}_num_ss`),
      orders_sum: num(raw, `${m.id}_den_sum`),
      orders_ss: num(raw, `${m.id}_den_ss`),
      gross_orders_cross: num(raw, `${m.id}_cross`),
    })
    return { def: { ...base, key: 'aov', kind: 'ratio' }, row }
  }
  row.survival = survivalOf(raw, m.index)
  return { def: { ...base, key: 'time_to_purchase', kind: 'survival', survivalColumn: 'survival' }, row }
}

/** The day counts of the metric at `index` out of the shared `metric_survival` map (keys index × stride + day). */
function survivalOf(raw: Row | undefined, index: number): NonNullable<ArmStatsRow['survival']> {
  const [keys, events, censored] = (raw?.[METRIC_SURVIVAL] as [Array<number | string>, Array<number | string>, Array<number | string>] | undefined) ?? [
    [],
    [],
    [],
  ]
  const out: NonNullable<ArmStatsRow['survival']> = [[], [], []]
  keys.forEach((k, i) => {
    const day = Number(k) - index * SURVIVAL_KEY_STRIDE
    if (day < 0 || day >= SURVIVAL_KEY_STRIDE) return
    out[0].push(day)
    out[1].push(Number(events[i]))
    out[2].push(Number(censored[i]))
  })
  return out
}

function statsOf(m: CompiledMetric, row: ArmStatsRow): MetricArmStats {
  const kind = m.def.kind
  if (kind === 'proportion' || kind === 'retention') return { n: row.n, sum: row.reactivation }
  if (kind === 'mean')
    return {
      n: row.n,
      sum: row.revenue_sum,
      sumSquares: row.revenue_ss,
      ...(m.cuped ? { pre: { sum: row.pre_revenue_sum, sumSquares: row.pre_revenue_ss, crossSum: row.revenue_pre_cross } } : {}),
    }
  if (kind === 'ratio')
    return {
      n: row.n,
      numSum: row.gross_sum,
      numSumSquares: row.gross_ss,
      denSum: row.orders_sum,
      denSumSquares: row.orders_ss,
      crossSum: row.gross_orders_cross,
    }
  const survival = survivalRows(row)
  return { n: row.n, events: survival.reduce((s, r) => s + r.events, 0), survival }
}

/**
 * One catalogue metric in the report's terms: the report-shaped definition and each arm's row that the report's
 * comparison code reads (a proportion reads like reactivation …), and each arm's counted customers and value.
 */
export interface CatalogueArmRows {
  metric: CompiledMetric
  def: ReportMetric
  rows: Map<string, ArmStatsRow>
  values: MetricArmValue[]
  /** The comparison settings of this metric: the experiment's, with its own window as a time to event's horizon. */
  settings: ComparisonSettings
}

/** One compiled metric's report-shaped rows and values from per-arm rows holding its columns (its own query's or the report's). */
export function armRows(m: CompiledMetric, raw: Map<string, Row>, arms: MetricValuesResult['arms'], settings: ComparisonSettings): CatalogueArmRows {
  const windowDays = m.def.kind === 'ratio' ? undefined : m.def.window.endDays
  const byArm = new Map(arms.map((a) => [a.key, asReport(m, a.key, raw.get(a.key))]))
  const values = arms.map(({ key }) => {
    const { def, row } = byArm.get(key)!
    const value =
      def.kind === 'survival'
        ? row.n > 0
          ? restrictedMeanSurvival(survivalRows(row), windowDays!, { alpha: settings.alpha }).estimate
          : null
        : armValue(def, row)
    return { arm: key, n: row.n, value, stats: statsOf(m, row) }
  })
  const def = byArm.get(arms.find((a) => a.isControl)!.key)!.def
  return { metric: m, def, rows: new Map([...byArm].map(([k, x]) => [k, x.row])), values, settings: { ...settings, windowDays } }
}

/** Each arm's counted customers, value and statistics of one metric, and each variant against control. */
function metricValues(m: CatalogueArmRows, arms: MetricValuesResult['arms']): MetricArmValues {
  const control = arms.find((a) => a.isControl)!
  const comparisons = arms
    .filter((a) => !a.isControl && !a.isHoldout)
    .flatMap((a) => {
      const c = compareMetric(m.def, m.rows.get(control.key)!, m.rows.get(a.key)!, 'control', m.settings)
      return c ? [{ ...c, metric: m.metric.def.key }] : []
    })
  return { key: m.metric.def.key, kind: m.metric.def.kind, values: m.values, comparisons }
}

export interface CatalogueArmOptions extends SliceOptions {
  /** The report's customer slices, when it has them already (a percentile cap reads all customers at once anyway). */
  slices?: Slice[]
}

/**
 * Catalogue metrics' sufficient statistics per arm over an experiment's customers (one query, compile.ts), in the
 * report's shape: what `metricArmValues` compares with control, and what the experiment report adds to its test
 * families (vs control and vs the experiment holdout).
 *
 * @example
 * const { metrics } = await catalogueArmRows(ch, exp, [ticketsPerCustomer], { asOf })
 * compareMetric(metrics[0].def, metrics[0].rows.get('holdout')!, metrics[0].rows.get('offer')!, 'holdout', metrics[0].settings)
 */
export async function catalogueArmRows(
  ch: ClickHouse,
  exp: Experiment,
  defs: CompilableMetric[],
  q: MetricValuesQuery = {},
  now = Date.now(),
  opts: CatalogueArmOptions = {},
): Promise<{ asOf: number; arms: MetricValuesResult['arms']; metrics: CatalogueArmRows[] }> {
  const a = exp.analysis
  const asOf = q.asOf ?? now
  const compiled = compileMetrics(defs, { cuped: a.cuped.enabled, stored: await storedPropertyColumns(ch) })
  const params = {
    ...metricQueryParams({
      experimentId: exp.id,
      asOfMs: asOf,
      enrolledUntilMs: enrollmentCutoff(exp, asOf),
      includeImmature: q.include === 'immature',
      lookbackMs: a.cuped.lookbackDays * DAY,
      marginRate: a.defaultMarginRate,
    }),
    ...compiled.params,
  }
  const arms = reportArms(exp)
  const settings = comparisonSettings(exp)
  if (!defs.length) return { asOf, arms, metrics: [] }
  const slices = compiled.singlePass ? singlePass : (opts.slices ?? (await customerSlices(ch, exp.id, asOf, opts.customersPerSlice)))
  const raw = await querySliced(ch, slices, compiled.sql, params, ['arm'])
  const rows = new Map(raw.map((r) => [String(r.arm), r]))
  return { asOf, arms, metrics: compiled.metrics.map((m) => armRows(m, rows, arms, settings)) }
}

/** The arms a catalogue metric is reported on: the experiment holdout (when there is one) and the experiment's arms. */
export const reportArms = (exp: Experiment): MetricValuesResult['arms'] => [
  ...(exp.holdoutPct > 0 ? [{ key: 'holdout', name: 'Holdout (no message)', isControl: false, isHoldout: true }] : []),
  ...exp.arms.map((arm) => ({ key: arm.key, name: arm.name, isControl: arm.isControl, isHoldout: false })),
]

/** The experiment's α, sequential tuning and CUPED switch (each metric adds its own window). */
export const comparisonSettings = (exp: Experiment): ComparisonSettings => ({
  alpha: exp.analysis.alpha,
  sequentialTuning: exp.analysis.sequential.enabled ? exp.analysis.sequential.tuning : null,
  cuped: exp.analysis.cuped.enabled,
})

/**
 * Per arm and metric, the sufficient statistics of catalogue metrics over an experiment's customers (one query,
 * compile.ts) and each variant's comparison with control through the stats module, with the experiment's α,
 * CUPED and sequential settings. Customers count once their window for the metric has ended by asOf unless
 * `include: 'immature'`; the enrolment cut-off of an exhausted budget applies as in the report.
 *
 * @example
 * const { metrics } = await metricArmValues(ch, exp, [ticketsPerCustomer], { asOf: Date.parse('2026-10-01') })
 * metrics[0].values // [{ arm: 'control', n: 1204, value: 0.31, stats: { n, sum, sumSquares } }, …]
 */
export async function metricArmValues(
  ch: ClickHouse,
  exp: Experiment,
  defs: Array<CompilableMetric | QuantileMetric>,
  q: MetricValuesQuery = {},
  now = Date.now(),
  opts: SliceOptions = {},
): Promise<MetricValuesResult> {
  const compilable = defs.filter((d): d is CompilableMetric => d.kind !== 'quantile')
  const quantiles = defs.filter((d): d is QuantileMetric => d.kind === 'quantile')
  const { asOf, arms, metrics } = await catalogueArmRows(ch, exp, compilable, q, now, opts)
  const computed = new Map<CompilableMetric | QuantileMetric, MetricArmValues>(metrics.map((m) => [m.metric.def, metricValues(m, arms)]))
  for (const def of quantiles)
    computed.set(
      def,
      quantileValues(
        def,
        await quantileArms(
          ch,
          def,
          arms.map((a) => a.key),
          quantileParams(exp, asOf, q),
          exp.analysis.alpha,
        ),
        arms,
        exp.analysis.alpha,
      ),
    )
  return {
    experimentId: exp.id,
    asOf: new Date(asOf).toISOString(),
    arms,
    metrics: defs.map((d) => computed.get(d)!),
  }
}

/** The query-wide parameters of a quantile's queries (those of the compiled query). */
export function quantileParams(exp: Experiment, asOf: number, q: MetricValuesQuery) {
  return metricQueryParams({
    experimentId: exp.id,
    asOfMs: asOf,
    enrolledUntilMs: enrollmentCutoff(exp, asOf),
    includeImmature: q.include === 'immature',
    lookbackMs: exp.analysis.cuped.lookbackDays * DAY,
    marginRate: exp.analysis.defaultMarginRate,
  })
}

/** A quantile's arms and each variant vs control, unadjusted. */
function quantileValues(def: QuantileMetric, results: QuantileArmResult[], arms: MetricValuesResult['arms'], alpha: number): MetricArmValues {
  const byArm = new Map(results.map((r) => [r.arm, r]))
  const control = byArm.get(arms.find((a) => a.isControl)!.key)!
  return {
    key: def.key,
    kind: 'quantile',
    values: results.map((r) => ({ arm: r.arm, n: r.n, value: r.estimate, stats: { n: r.n, events: r.events, ci: r.ci, rank: r.rank } })),
    comparisons: arms.filter((a) => !a.isControl && !a.isHoldout).map((a) => quantileComparison(def.key, control, byArm.get(a.key)!, 'control', alpha)),
  }
}

/**
 * POST /v1/metrics/preview's answer: one draft definition's per-arm values and comparisons with control, as
 * `metricArmValues` computes them.
 *
 * @example
 * const preview = await metricPreview(ch, exp, ticketsPerCustomer, { include: 'immature' })
 * preview.metric.comparisons // [{ arm: 'offer', vs: 'control', estimate: -0.04, ci: [-0.07, -0.01], … }]
 */
export async function metricPreview(
  ch: ClickHouse,
  exp: Experiment,
  def: CompilableMetric | QuantileMetric,
  q: MetricValuesQuery = {},
  now = Date.now(),
): Promise<MetricPreview> {
  const { metrics, ...rest } = await metricArmValues(ch, exp, [def], q, now)
  return { ...rest, metric: metrics[0] }
}
