import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, startServer } from '../test/helpers/server-process.ts'
import { openClickHouse } from '../api/stores/clickhouse.ts'
import { openPostgres } from '../api/stores/postgres.ts'
import { migrateClickHouse, migratePostgres } from '../api/stores/migrate.ts'
import { demoPlan } from '../seed/experiments.ts'
import { compileDefinition, placeExperiments, worldChunks } from '../seed/generate.ts'
import { TruthBuilder } from '../seed/truth.ts'
import { DAY } from '../seed/world.ts'
import { seedDirect } from '../seed/writer-direct.ts'
import { seedThroughApi } from '../seed/writer-api.ts'
import { rssMiB, writeResult } from './machine.ts'

// Seconds to generate and ingest the demo world (customers, a year of history, four experiments, outcomes):
// straight into the embedded stores (--direct), and through a real server's /v1/assign/batch and /v1/events
// (npm run seed). Generation alone is timed too, so the ingest share is visible. Sizes by environment:
// SEED_BENCH_CUSTOMERS (direct, default 1M), SEED_BENCH_API_CUSTOMERS (API, default 1M), SEED_BENCH_ONLY.
const directCustomers = Number(process.env.SEED_BENCH_CUSTOMERS ?? 1_000_000)
const apiCustomers = Number(process.env.SEED_BENCH_API_CUSTOMERS ?? 1_000_000)
const only = process.env.SEED_BENCH_ONLY
const KEY = 'rl_bench_seed_key_at_least_32_characters'
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d
const tempDir = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `rl-bench-seed-${name}-`))

function generateOnly(customers: number) {
  const now = Date.now()
  const placed = placeExperiments(demoPlan, (p) => now - p.timeline.startDaysAgo * DAY)
  const compiled = new Map(placed.map((e) => [e.id, compileDefinition(e.planned)]))
  const t = performance.now()
  let events = 0
  const truth = new TruthBuilder(42, demoPlan.globalHoldout)
  for (const chunk of worldChunks({ seed: 42, customers, placed, compiled, holdout: demoPlan.globalHoldout, nowMs: now, referenceMs: now - 45 * DAY, truth }))
    events += chunk.events.length
  return { customers, events, seconds: round((performance.now() - t) / 1000, 2) }
}

async function direct(customers: number) {
  const dataDir = tempDir('direct')
  const config = { dataDir, databaseUrl: null, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } }
  const db = await openPostgres(config)
  const ch = await openClickHouse(config)
  await migratePostgres(db)
  await migrateClickHouse(ch)
  const { summary } = await seedDirect({ db, ch }, { seed: 42, customers, onWarning: () => {} })
  const [stored] = await (
    await ch.client.query({ query: 'SELECT (SELECT count() FROM exposures) AS exposures, (SELECT count() FROM events) AS events', format: 'JSONEachRow' })
  ).json<{ exposures: string; events: string }>()
  await ch.close()
  await db.destroy()
  const bytes = Number((await import('node:child_process')).execSync(`du -sb ${dataDir}`).toString().split('\t')[0])
  fs.rmSync(dataDir, { recursive: true, force: true })
  return {
    customers,
    exposures: summary.exposures,
    events: summary.events,
    storedEvents: Number(stored.events),
    seconds: round(summary.seconds),
    eventsPerSecond: Math.round(summary.events / summary.seconds),
    dataDirMb: Math.round(bytes / 2 ** 20),
  }
}

async function throughApi(customers: number) {
  const dataDir = tempDir('api')
  const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
  const pid = server.child.pid!
  let maxRss = rssMiB(pid)
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(pid))), 500)
  let last = 0
  const { summary } = await seedThroughApi(
    { url: server.base, key: KEY },
    {
      seed: 42,
      customers,
      concurrency: 4,
      onWarning: () => {},
      onProgress: (done, events) => {
        if (performance.now() - last > 15_000) {
          last = performance.now()
          console.error(`  api: ${done.toLocaleString('en-US')} customers, ${events.toLocaleString('en-US')} events`)
        }
      },
    },
  )
  clearInterval(sampler)
  await server.kill('SIGTERM')
  fs.rmSync(dataDir, { recursive: true, force: true })
  return {
    customers,
    exposures: summary.exposures,
    events: summary.events,
    seconds: round(summary.seconds),
    eventsPerSecond: Math.round(summary.events / summary.seconds),
    serverMaxRssMiB: Math.round(maxRss),
    note: 'client (generation, JSON) and server share the 2 cores; outcome windows compressed (API mode)',
  }
}

// Other work on the machine slows every figure here; the load average says how busy it was.
const result: Record<string, unknown> = { seed: 42, plan: 'demo (4 experiments, global holdout 5%)', loadAverageAtStart: os.loadavg().map((x) => round(x, 2)) }
if (only !== 'api') {
  console.log(`generating ${directCustomers.toLocaleString('en-US')} customers in memory (no store)…`)
  result.generateOnly = generateOnly(directCustomers)
  console.log(result.generateOnly)
  console.log(`seeding ${directCustomers.toLocaleString('en-US')} customers with --direct…`)
  result.direct = await direct(directCustomers)
  console.log(result.direct)
}
if (only !== 'direct') {
  console.log(`seeding ${apiCustomers.toLocaleString('en-US')} customers through the API…`)
  const api = await throughApi(apiCustomers)
  result.api = api
  if (apiCustomers < 1_000_000) {
    result.apiExtrapolatedTo1M = {
      seconds: round((api.seconds * 1_000_000) / apiCustomers),
      basis: `linear from ${apiCustomers.toLocaleString('en-US')} customers (estimate, not measured)`,
    }
  }
  console.log(result.api)
}
result.loadAverageAtEnd = os.loadavg().map((x) => round(x, 2))
writeResult('seed', result)
