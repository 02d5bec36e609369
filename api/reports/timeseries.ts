import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment, MetricKey } from '../experiments/schema.ts'
import type { LiftTimeseries, TimeseriesPoint } from '../contract/timeseries.ts'
import { customerWindowParams, enrollmentCutoff } from './sql/customer-window.ts'
import { timeseriesDeltasSql } from './sql/timeseries.ts'
import { customerSlices, querySliced, type SliceOptions } from './customer-slices.ts'
import { parseArmStats, type ArmStatsRow } from './sql/arm-stats.ts'
import { metricByKey } from './metric-definitions.ts'
import { armValue, compareMetric, rowOrEmpty } from './arm-comparisons.ts'
import { catalogueTimeseries, hasTimeseries } from './catalogue-timeseries.ts'
import type { ReportCatalogueMetric } from './catalogue-metrics.ts'

const DAY = 86_400_000

function addStats(a: ArmStatsRow, b: ArmStatsRow): ArmStatsRow {
  const out = { ...a }
  for (const key of Object.keys(b) as (keyof ArmStatsRow)[]) if (typeof b[key] === 'number') (out[key] as number) = (a[key] as number) + (b[key] as number)
  return out
}

/**
 * Cumulative lift over time: at up to `points` cut times from the start to asOf (daily when the experiment is
 * younger than that), each variant vs control with the interval the report would have shown then. Like the
 * report, a cut counts only customers whose window had ended by then (unless immature ones are included). The
 * last point equals the report's unadjusted comparison as of asOf.
 */
export async function liftTimeseries(
  ch: ClickHouse,
  exp: Experiment,
  q: { metrics?: string[]; asOf?: number; points: number; window?: number; include?: 'immature' },
  now = Date.now(),
  opts: SliceOptions & { catalogue?: ReportCatalogueMetric[] } = {},
): Promise<LiftTimeseries> {
  const a = exp.analysis
  const asOf = q.asOf ?? now
  const start = exp.startedAt ? Date.parse(exp.startedAt) : asOf
  const days = Math.max(1, Math.ceil((asOf - start) / DAY))
  const step = Math.max(1, Math.ceil(days / q.points))
  const cuts: number[] = []
  for (let d = step; d < days; d += step) cuts.push(start + d * DAY)
  cuts.push(asOf)
  const params = {
    ...customerWindowParams({
      experimentId: exp.id,
      asOfMs: asOf,
      attributionMs: (q.window ?? a.attributionDays) * DAY,
      ltvMs: a.ltvDays * DAY,
      lookbackMs: a.cuped.lookbackDays * DAY,
      marginRate: a.defaultMarginRate,
      enrolledUntilMs: enrollmentCutoff(exp, asOf),
      includeImmature: q.include === 'immature',
    }),
    cuts,
  }
  const rows = await querySliced(ch, await customerSlices(ch, exp.id, asOf, opts.customersPerSlice), timeseriesDeltasSql, params, ['arm', 'k'])
  const deltas = rows.map((row) => ({ k: Number(row.k), stats: parseArmStats(row) }))
  // Statistics at cut i are the running sums of the changes at cuts 1..i, per arm.
  const byCut = new Map<number, Map<string, ArmStatsRow>>(cuts.map((cut) => [cut, new Map()]))
  const arms = [...new Set(deltas.map((d) => d.stats.arm))]
  for (const arm of arms) {
    const changes = new Map(deltas.filter((d) => d.stats.arm === arm).map((d) => [d.k, d.stats]))
    let running: ArmStatsRow | null = null
    cuts.forEach((cut, i) => {
      const change = changes.get(i + 1)
      if (change) running = running ? addStats(running, change) : { ...change }
      if (running) byCut.get(cut)!.set(arm, { ...running })
    })
  }
  const control = exp.arms.find((x) => x.isControl)!.key
  const variants = exp.arms.filter((x) => !x.isControl).map((x) => x.key)
  const asked = q.metrics?.length ? q.metrics : [a.primaryMetric]
  // Catalogue metrics have their own windows and series (catalogue-timeseries.ts); quantiles, times to event and
  // percentile caps have none.
  const catalogue = (opts.catalogue ?? []).filter((m) => asked.includes(m.ref.key)).filter(hasTimeseries)
  const catalogueSeries = catalogue.length ? await catalogueTimeseries(ch, exp, catalogue, cuts, asOf, opts) : []
  const metrics = asked.filter((m): m is MetricKey => metricByKey.has(m as MetricKey) && metricByKey.get(m as MetricKey)!.kind !== 'survival')
  const settings = { alpha: a.alpha, sequentialTuning: a.sequential.enabled ? a.sequential.tuning : null, cuped: a.cuped.enabled }
  return {
    experimentId: exp.id,
    asOf: new Date(asOf).toISOString(),
    stepDays: step,
    sequential: a.sequential.enabled,
    series: [...metrics.map((key) => builtInSeries(key)), ...catalogueSeries].sort((x, y) => asked.indexOf(x.metric) - asked.indexOf(y.metric)),
  }

  function builtInSeries(key: MetricKey) {
    const def = metricByKey.get(key)!
    const points: TimeseriesPoint[] = []
    for (const cut of cuts) {
      const stats = byCut.get(cut) ?? new Map()
      for (const v of variants) {
        const c = compareMetric(def, rowOrEmpty(stats, control), rowOrEmpty(stats, v), 'control', settings)
        points.push({
          at: new Date(cut).toISOString(),
          arm: v,
          against: 'control',
          n: rowOrEmpty(stats, v).n,
          value: armValue(def, rowOrEmpty(stats, v)),
          estimate: c?.estimate ?? null,
          ci: c?.ci ?? null,
          significant: c?.significant ?? false,
        })
      }
    }
    return { metric: key, label: def.label, format: def.format, control, points }
  }
}
