/**
 * Catalogue metrics in the program KPIs (`GET /v1/kpis?metrics=`, docs/metrics.md → In the program KPIs): each
 * metric's treated customers against the global holdout, for the program and each experiment, over the KPI windows.
 */
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { KpiMetric, KpiMetricScope } from '../contract/kpis.ts'
import type { MetricPreviewArm } from '../contract/metrics.ts'
import { kpiMetricsSqlFor, type KpiSegmentFilter } from './sql/kpis.ts'
import { compileColumns, sourcesOf, type CompilableMetric, type CompiledMetric } from '../metrics/compile.ts'
import { armRows } from '../metrics/arm-values.ts'
import { compareMetric } from './arm-comparisons.ts'
import type { ReportCatalogueMetric } from './catalogue-metrics.ts'
import { storedPropertyColumns } from '../stores/property-columns.ts'

const DAY = 86_400_000
type Row = Record<string, string | number>

/** The KPIs' two groups in the shape of an experiment's arms: the global holdout is the baseline. */
const GROUPS: MetricPreviewArm[] = [
  { key: 'global_holdout', name: 'Global holdout', isControl: true, isHoldout: false },
  { key: 'treated', name: 'Treated', isControl: false, isHoldout: false },
]

const QUANTILE_UNAVAILABLE = 'Quantile metrics are not in the program KPIs yet: their interval is computed per experiment (see the experiment report).'

/** The longest window any of the metrics reads, in ms from first exposure (a ratio's parts included). */
const reachMs = (defs: CompilableMetric[]) => Math.max(...sourcesOf(defs).map((d) => d.window.endDays)) * DAY

/**
 * The catalogue metrics asked for, treated vs global holdout in the program (scope 0) and in each experiment: one
 * pass over the KPI windows (sql/kpis.ts) whose per-group statistics are valued and compared by the code that does
 * it for an experiment's arms (metrics/arm-values.ts, reports/arm-comparisons.ts), at the KPIs' α, without CUPED
 * or sequential intervals, as the other KPIs.
 */
export async function programMetrics(
  ch: ClickHouse,
  scope: { ids: string[]; experiments: Experiment[]; alpha: number; metrics: ReportCatalogueMetric[] },
  /** The KPI query's bound parameters, the segment's included. */
  params: Record<string, unknown>,
  segment?: KpiSegmentFilter,
): Promise<KpiMetric[]> {
  const { ids, experiments, alpha, metrics } = scope
  const compilable = metrics.flatMap((m) => (m.def.kind === 'quantile' ? [] : [m.def]))
  const byScope = new Map<number, Map<string, Row>>()
  const compiled = new Map<CompilableMetric, CompiledMetric>()
  if (compilable.length) {
    const c = compileColumns(compilable, { cuped: false, capPartition: 'scope', stored: await storedPropertyColumns(ch) })
    const query = kpiMetricsSqlFor(c, segment)
    const rows = await (
      await ch.client.query({ query, query_params: { ...params, ...c.params, metricsReachMs: reachMs(compilable) }, format: 'JSONEachRow' })
    ).json<Row>()
    for (const row of rows) {
      const scope = Number(row.scope)
      if (!byScope.has(scope)) byScope.set(scope, new Map())
      byScope.get(scope)!.set(String(row.arm), row)
    }
    for (const m of c.metrics) compiled.set(m.def, m)
  }
  const settings = { alpha, sequentialTuning: null, cuped: false }
  const scopeOf = (m: CompiledMetric, scope: number): KpiMetricScope => {
    const r = armRows(m, byScope.get(scope) ?? new Map(), GROUPS, settings)
    const [globalHoldout, treated] = r.values
    const c = globalHoldout.n > 0 && treated.n > 0 ? compareMetric(r.def, r.rows.get('global_holdout')!, r.rows.get('treated')!, 'holdout', r.settings) : null
    return { treated, globalHoldout, lift: c && { ...c, metric: m.def.key } }
  }
  const names = new Map(experiments.map((e) => [e.id, e.name]))
  const scopes = [...byScope.keys()].filter((s) => s > 0).sort((a, b) => a - b)
  return metrics.map(({ ref, def }) => {
    const about = { key: ref.key, version: ref.version, name: def.name, kind: def.kind, format: def.format, direction: def.direction }
    const m = def.kind === 'quantile' ? undefined : compiled.get(def)
    if (!m) {
      const empty = (arm: string) => ({ arm, n: 0, value: null, stats: { n: 0, events: 0, ci: null, rank: null } })
      return { ...about, unavailable: QUANTILE_UNAVAILABLE, treated: empty('treated'), globalHoldout: empty('global_holdout'), lift: null, programs: [] }
    }
    return {
      ...about,
      unavailable: null,
      ...scopeOf(m, 0),
      programs: scopes.map((s) => ({ experimentId: ids[s - 1], name: names.get(ids[s - 1]) ?? ids[s - 1], ...scopeOf(m, s) })),
    }
  })
}
