import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openPostgres } from '../api/stores/postgres.ts'
import { openClickHouse } from '../api/stores/clickhouse.ts'
import { migrateClickHouse, migratePostgres } from '../api/stores/migrate.ts'
import { createExperiment, getExperiment, transitionExperiment } from '../api/experiments/store.ts'
import { ExperimentCreate } from '../api/experiments/schema.ts'
import { experimentReport } from '../api/reports/experiment-report.ts'
import { liftTimeseries } from '../api/reports/timeseries.ts'
import { median, writeResult } from './machine.ts'
import { MetricDefinitionInput } from '../api/metrics/schema.ts'
import { sourcesOf, type CompilableMetric, type MeanMetric } from '../api/metrics/compile.ts'
import { addPropertyColumns, propertyColumnsFilled, propertyKeysOf } from '../api/stores/property-columns.ts'
import type { ReportCatalogueMetric } from '../api/reports/catalogue-metrics.ts'
import { EVENT_COLUMNS } from '../api/stores/events-table.ts'
import { EXPOSURE_COLUMNS } from '../api/stores/exposures-table.ts'

// Report time (all metrics, 3 arms + holdout, CUPED on) at a given scale, next to a plain full scan of the same
// tables in the same run as the floor. Data are generated inside ClickHouse (INSERT … SELECT from numbers()).
// Usage: BENCH_SCALES=1000000:10000000,10000000:100000000 npx tsx bench/report.ts
const scales = (process.env.BENCH_SCALES ?? '1000000:10000000').split(',').map((s) => s.split(':').map(Number) as [number, number])
const reps = Number(process.env.BENCH_REPS ?? 3)
const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-report-'))
const db = await openPostgres({ databaseUrl: null, dataDir })
const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
await migratePostgres(db)
await migrateClickHouse(ch)
const exec = (query: string, params: Record<string, unknown> = {}) =>
  ch.client.command({ query, query_params: params, clickhouse_settings: { max_insert_threads: '2' } as never })

async function seed(customers: number, events: number, id: string) {
  const input = ExperimentCreate.parse({
    id,
    name: `Bench ${id}`,
    holdoutPct: 0.1,
    arms: [
      { key: 'control', name: 'Control', weight: 0.34, isControl: true },
      { key: 'pct15', name: '15% off', weight: 0.33, offer: { type: 'percent_off', value: 15 } },
      { key: 'freeship', name: 'Free shipping', weight: 0.33, offer: { type: 'free_shipping', value: 0 } },
    ],
  })
  await createExperiment(db, input, 'bench', new Date(T0))
  await transitionExperiment(db, id, 'start', 'bench', new Date(T0))
  const t = performance.now()
  // Exposures over 30 days; arms by hash with the configured shares (holdout 10%, arms 30.6/29.7/29.7%).
  await exec(
    `INSERT INTO exposures (${EXPOSURE_COLUMNS.join(', ')})
    SELECT {id:String}, concat('c', toString(number)),
      multiIf(h < 1000, 'holdout', h < 4060, 'control', h < 7030, 'pct15', 'freeship'),
      fromUnixTimestamp64Milli(toInt64({t0:Int64} + (number % 30) * 86400000 + cityHash64(number, 7) % 86400000), 'UTC'),
      map('tier', ['gold', 'silver', 'bronze'][1 + number % 3]), 'bench'
    FROM (SELECT number, cityHash64(number) % 10000 AS h FROM numbers({n:UInt64}))`,
    { id, t0: T0, n: customers },
  )
  // Events from 90 days before to 60 days after the exposures: purchases (log-normal revenue), refunds, redemptions.
  await exec(
    `INSERT INTO events (${EVENT_COLUMNS.join(', ')})
    SELECT concat('e', toString(number)), concat('c', toString(number % {n:UInt64})),
      multiIf(k < 70, 'purchase', k < 78, 'refund', k < 90, 'offer_redeemed', k < 92, 'unsubscribe', 'offer_opened'),
      fromUnixTimestamp64Milli(toInt64({t0:Int64} - 90 * 86400000 + cityHash64(number, 3) % (180 * 86400000)), 'UTC'),
      if(k >= 78 AND k < 92, {id:String}, ''), '',
      if(k < 78, round(exp(3 + (cityHash64(number, 5) % 1000) / 1000 * 1.5), 2), 0), NULL,
      if(k >= 78 AND k < 90, 5 + cityHash64(number, 9) % 10, 0), '',
      if(k < 70, concat('{"category":"', ['shoes', 'bags', 'hats'][1 + cityHash64(number, 11) % 3], '","items":', toString(1 + cityHash64(number, 13) % 4), '}'), '')
    FROM (SELECT number, cityHash64(number, 1) % 100 AS k FROM numbers({m:UInt64}))`,
    { id, t0: T0, n: customers, m: events },
  )
  return (performance.now() - t) / 1000
}

// Five catalogue metrics of different kinds, two of them reading properties (issue 17's benchmark): computed in
// the report's own pass, next to the same report with the built-in metrics alone.
const define = (x: object) => MetricDefinitionInput.parse(x) as CompilableMetric
const items = define({
  key: 'items',
  name: 'Items bought',
  kind: 'mean',
  source: { eventTypes: ['purchase'] },
  value: { of: 'property', path: 'items' },
  window: { endDays: 30 },
})
const purchases = define({
  key: 'purchases',
  name: 'Purchases',
  kind: 'mean',
  source: { eventTypes: ['purchase'] },
  value: { of: 'count' },
  window: { endDays: 30 },
})
const catalogue: ReportCatalogueMetric[] = [
  define({
    key: 'shoe_buyers',
    name: 'Bought shoes',
    kind: 'proportion',
    source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'category', op: 'eq', value: 'shoes' }] },
    window: { endDays: 30 },
  }),
  define({
    key: 'bags_hats_revenue',
    name: 'Bags and hats revenue',
    kind: 'mean',
    source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'category', op: 'in', values: ['bags', 'hats'] }] },
    value: { of: 'revenue' },
    window: { endDays: 30 },
    capping: { type: 'absolute', value: 500 },
  }),
  {
    ...define({ key: 'items_per_order', name: 'Items per order', kind: 'ratio', numerator: 'items', denominator: 'purchases' }),
    parts: { numerator: items as MeanMetric, denominator: purchases as MeanMetric },
  } as CompilableMetric,
  define({ key: 'back_31_60', name: 'Bought in days 31–60', kind: 'retention', source: { eventTypes: ['purchase'] }, window: { startDays: 31, endDays: 60 } }),
  define({ key: 'days_to_redeem', name: 'Days to redemption', kind: 'time_to_event', source: { eventTypes: ['offer_redeemed'] }, window: { endDays: 30 } }),
].map((def) => ({ ref: { key: def.key, version: 1 }, def }))

const results = []
for (const [customers, events] of scales) {
  const id = `bench-${customers}`
  console.log(`\n${customers.toLocaleString()} customers / ${events.toLocaleString()} events: generating…`)
  const generateSeconds = await seed(customers, events, id)
  await exec('OPTIMIZE TABLE events FINAL')
  console.log(`  generated in ${generateSeconds.toFixed(1)} s`)
  const exp = await getExperiment(db, id)
  const asOf = T0 + 60 * DAY
  // The catalogue read through the properties map, before its keys have columns of their own (the earlier design).
  const mapTimes: number[] = []
  for (let r = 0; r < reps; r++) {
    const t = performance.now()
    await experimentReport(ch, exp, { asOf }, asOf, { catalogue })
    mapTimes.push((performance.now() - t) / 1000)
  }
  // What saving the metrics does (routes/metrics.ts): each property key gets its column, filled in the background.
  let t = performance.now()
  const { added } = await addPropertyColumns(
    ch,
    catalogue.flatMap((m) => sourcesOf([m.def as CompilableMetric]).flatMap(propertyKeysOf)),
  )
  const addSeconds = (performance.now() - t) / 1000
  while (!(await propertyColumnsFilled(ch))) await new Promise((r) => setTimeout(r, 50))
  const fillSeconds = (performance.now() - t) / 1000
  console.log(`  columns for ${added.join(', ')}: added in ${addSeconds.toFixed(2)} s, stored events filled after ${fillSeconds.toFixed(1)} s`)
  const scanTimes: number[] = []
  const reportTimes: number[] = []
  const catalogueTimes: number[] = []
  const plainCatalogueTimes: number[] = []
  for (let r = 0; r < reps; r++) {
    t = performance.now()
    // The floor: read every column the report reads, once, with no join or grouping by customer.
    await (
      await ch.client.query({ query: `SELECT count(), sum(revenue), sum(cost), uniqCombined(customer_id), max(ts) FROM events FINAL`, format: 'JSONEachRow' })
    ).json()
    await (
      await ch.client.query({
        query: `SELECT count(), uniqCombined(customer_id), max(ts) FROM exposures WHERE experiment_id = {id:String}`,
        query_params: { id },
        format: 'JSONEachRow',
      })
    ).json()
    scanTimes.push((performance.now() - t) / 1000)
    t = performance.now()
    const report = await experimentReport(ch, exp, { asOf }, asOf)
    reportTimes.push((performance.now() - t) / 1000)
    if (r === 0)
      console.log(`  report: ${report.totalCustomers.toLocaleString()} customers, ${report.metrics.length} metrics, SRM p = ${report.srm?.pValue?.toFixed(3)}`)
    t = performance.now()
    const withCatalogue = await experimentReport(ch, exp, { asOf }, asOf, { catalogue })
    catalogueTimes.push((performance.now() - t) / 1000)
    if (r === 0) console.log(`  with ${catalogue.length} catalogue metrics: ${withCatalogue.metrics.length} metrics`)
    // The two that read no properties: what a catalogue metric costs without JSON parsing.
    t = performance.now()
    await experimentReport(ch, exp, { asOf }, asOf, { catalogue: catalogue.slice(3) })
    plainCatalogueTimes.push((performance.now() - t) / 1000)
  }
  // The breakdown and the 30-point timeseries are measured once (BENCH_EXTRAS=0 skips them at large scale).
  let timeseriesSeconds = NaN
  let breakdownSeconds = NaN
  if (process.env.BENCH_EXTRAS !== '0') {
    let t = performance.now()
    await liftTimeseries(ch, exp, { asOf, points: 30 }, asOf)
    timeseriesSeconds = (performance.now() - t) / 1000
    t = performance.now()
    await experimentReport(ch, exp, { asOf, dimension: 'tier' }, asOf)
    breakdownSeconds = (performance.now() - t) / 1000
  }
  const row = {
    customers,
    events,
    generateSeconds: +generateSeconds.toFixed(1),
    fullScanSeconds: +median(scanTimes).toFixed(3),
    reportSeconds: +median(reportTimes).toFixed(3),
    ratioToScan: +(median(reportTimes) / median(scanTimes)).toFixed(2),
    reportWithCatalogueSeconds: +median(catalogueTimes).toFixed(3),
    catalogueRatio: +(median(catalogueTimes) / median(reportTimes)).toFixed(2),
    reportWithCatalogueThroughMapSeconds: +median(mapTimes).toFixed(3),
    throughMapRatio: +(median(mapTimes) / median(reportTimes)).toFixed(2),
    propertyColumnsAddSeconds: +addSeconds.toFixed(2),
    propertyColumnsFillSeconds: +fillSeconds.toFixed(1),
    reportWithTwoCatalogueMetricsWithoutPropertiesSeconds: +median(plainCatalogueTimes).toFixed(3),
    withoutPropertiesRatio: +(median(plainCatalogueTimes) / median(reportTimes)).toFixed(2),
    reportWithBreakdownSeconds: Number.isNaN(breakdownSeconds) ? null : +breakdownSeconds.toFixed(3),
    timeseries30PointsSeconds: Number.isNaN(timeseriesSeconds) ? null : +timeseriesSeconds.toFixed(3),
  }
  console.log(
    `  full scan ${row.fullScanSeconds} s · report ${row.reportSeconds} s (median of ${reps}) · ${row.ratioToScan}× the scan · with ${catalogue.length} catalogue metrics ${row.reportWithCatalogueSeconds} s (${row.catalogueRatio}×; through the map ${row.reportWithCatalogueThroughMapSeconds} s, ${row.throughMapRatio}×), with the 2 reading no properties ${row.reportWithTwoCatalogueMetricsWithoutPropertiesSeconds} s (${row.withoutPropertiesRatio}×) · with a breakdown ${row.reportWithBreakdownSeconds} s · 30-point timeseries ${row.timeseries30PointsSeconds} s`,
  )
  results.push(row)
}
writeResult(process.env.BENCH_NAME ?? 'report', { reps, results })
await ch.close()
await db.destroy()
fs.rmSync(dataDir, { recursive: true, force: true })
