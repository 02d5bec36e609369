/**
 * The one-command demo: on first start, with empty stores, `npm start` seeds the demo world in-process
 * (direct mode, real dates) before it serves, so the dashboard opens on experiments with weeks of data.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Kysely } from 'kysely'
import type { Config } from '../api/config.ts'
import type { Database } from '../api/stores/schema.ts'
import type { ClickHouse } from '../api/stores/clickhouse.ts'
import { progressBar } from '../api/progress.ts'
import { log } from '../api/observability/log.ts'
import { DEMO_CUSTOMERS } from './experiments.ts'
import { seedDirect } from './writer-direct.ts'
import type { SeedSummary } from './generate.ts'
import type { Truth } from './truth.ts'

const fmt = (n: number) => n.toLocaleString('en-US')

/** True when there are no experiments, exposures or events: nothing a demo could mix with. */
export async function storesAreEmpty(db: Kysely<Database>, ch: ClickHouse): Promise<boolean> {
  const experiments = await db
    .selectFrom('experiments')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  if (Number(experiments.n) > 0) return false
  const r = await ch.client.query({ query: 'SELECT (SELECT count() FROM exposures) + (SELECT count() FROM events) AS n', format: 'JSONEachRow' })
  const [row] = await r.json<{ n: string }>()
  return Number(row.n) === 0
}

/** Writes the planted truth as JSON (what tests and curious analysts compare reports with). */
export function writeTruth(file: string, truth: Truth) {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(truth, null, 2) + '\n')
}

/** The summary lines both the server and the CLI print after seeding. */
export function describeSeed(summary: SeedSummary, truth: Truth, truthFile: string): string[] {
  const rate = summary.seconds > 0 ? Math.round(summary.events / summary.seconds) : 0
  const lines = [
    `  ${summary.experiments.length} experiments: ${summary.experiments.join(', ')}`,
    `  ${fmt(summary.exposures)} exposures, ${fmt(summary.events)} events (${fmt(rate)} events/s)`,
  ]
  for (const e of truth.experiments) {
    const primary = e.lift.reactivation
    const arms = e.arms.filter((a) => a !== e.control && a !== 'holdout')
    lines.push(`    ${e.id}: ${fmt(e.n)} customers; true reactivation lift vs ${e.control}: ${arms.map((a) => `${a} ${pct(primary[a].vsControl)}`).join(', ')}`)
  }
  const relative = path.relative(process.cwd(), truthFile)
  lines.push(`  planted truth: ${relative.startsWith('..') ? truthFile : relative}`)
  return lines
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`)

/**
 * Called by bin/server.ts before it serves. Seeds the demo world when `config.seedDemo` is on and the stores
 * are empty; with data present it does nothing. On external stores (DATABASE_URL / CLICKHOUSE_URL) it seeds
 * only when SEED_DEMO=1 is set explicitly: a first production start must not fill a real database with a
 * made-up business.
 */
export async function seedDemoOnFirstStart(stores: { db: Kysely<Database>; ch: ClickHouse }, config: Config, env: NodeJS.ProcessEnv = process.env) {
  if (!config.seedDemo) return null
  if (!(await storesAreEmpty(stores.db, stores.ch))) return null
  const external = Boolean(config.databaseUrl || config.clickhouse.url)
  if (external && env.SEED_DEMO !== '1') {
    log.info('Stores are empty; not seeding the demo world into external databases (set SEED_DEMO=1 to do so).')
    return null
  }
  const customers = Number(env.SEED_DEMO_CUSTOMERS ?? DEMO_CUSTOMERS)
  log.info({ customers }, `Empty data directory: seeding the demo world (${fmt(customers)} customers, a year of history, four experiments)`)
  const bar = progressBar('Seeding demo', customers)
  const { summary, truth } = await seedDirect(stores, { customers, onProgress: (done, events) => bar.update(done, events), onWarning: (m) => log.warn(m) })
  bar.finish(summary.events)
  const truthFile = path.join(config.dataDir, 'truth.json')
  writeTruth(truthFile, truth)
  log.info(
    { seconds: summary.seconds, lines: describeSeed(summary, truth, truthFile).map((l) => l.trim()) },
    `Seeded the demo world in ${summary.seconds.toFixed(1)} s`,
  )
  return { summary, truth }
}
