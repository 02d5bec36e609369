import path from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../api/config.ts'
import { progressBar } from '../api/progress.ts'
import { DEMO_CUSTOMERS } from '../seed/experiments.ts'
import { openStores, wipeDataDir } from '../seed/data-dir.ts'
import { SeedError } from '../seed/generate.ts'
import { describeSeed, writeTruth } from '../seed/demo.ts'
import { seedDirect } from '../seed/writer-direct.ts'
import { seedThroughApi } from '../seed/writer-api.ts'

// Owner-only files, as for the server (bin/server.ts): the stores hold customer ids and revenue.
process.umask(0o077)

const usage = `Usage:
  npm run seed -- [--customers 50000] [--seed 42] --url http://localhost:3000 --key <admin key>
  npm run seed -- [--customers 50000] [--seed 42] --direct
  npm run demo:reset [-- --customers 50000 --seed 42]

Generates a retention business with planted effects (customers, a year of purchase history, the demo
experiments and their outcomes) and writes the planted truth to seed/truth.json (or --truth <file>).

  (default)   through a running API: creates and starts the experiments, assigns with /v1/assign/batch and
              posts events to /v1/events. The API stamps exposures with its clock, so outcome windows are
              squeezed between each assignment and the post of its events (reports count them all, but
              time-to-purchase and lift over time collapse to day 0). --key defaults to $ADMIN_API_KEY.
  --direct    straight into the stores of DATA_DIR (or DATABASE_URL / CLICKHOUSE_URL), with real dates:
              experiments started weeks ago, ~30 days of outcomes. Stop a server using the same embedded
              data directory first (chDB allows one process per directory).
  --reset     wipe DATA_DIR (after checking it is a Retention Lab data directory that no server holds) and
              rebuild the demo world in it; then npm start serves it and prints a first admin key.`

const { values: opts } = parseArgs({
  options: {
    customers: { type: 'string' },
    seed: { type: 'string' },
    direct: { type: 'boolean' },
    reset: { type: 'boolean' },
    url: { type: 'string' },
    key: { type: 'string' },
    truth: { type: 'string' },
    concurrency: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (opts.help) {
  console.log(usage)
  process.exit(0)
}

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  const n = Number(value.replace(/_/g, ''))
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min} (got ${value})`)
  return n
}
function fail(message: string): never {
  console.error(`${message}\n\n${usage}`)
  process.exit(2)
}

const customers = count('customers', opts.customers, DEMO_CUSTOMERS, 1)
const seed = count('seed', opts.seed, 42, 0)
const truthFile = path.resolve(opts.truth ?? path.join(import.meta.dirname, 'truth.json'))
const config = loadConfig()
const direct = opts.direct || opts.reset
if (opts.direct && (opts.url || opts.key)) fail('--direct writes to the data directory; --url/--key are for seeding through a running API')

// Made when seeding starts, so that opening the stores does not count in its rate.
const progress: { bar: ReturnType<typeof progressBar> | null } = { bar: null }
const onProgress = (done: number, events: number) =>
  (progress.bar ??= progressBar(direct ? 'Seeding (direct)' : 'Seeding (API)', customers)).update(done, events)
const onWarning = (m: string) => process.stderr.write(`\nwarning: ${m}\n`)

try {
  let result
  let where: string
  if (direct) {
    if (opts.reset) {
      await wipeDataDir(config)
      console.log(`Rebuilding the demo world in ${config.dataDir}…`)
    }
    const stores = await openStores(config)
    try {
      result = await seedDirect(stores, { seed, customers, onProgress, onWarning })
    } finally {
      await stores.ch.close()
      await stores.db.destroy()
    }
    where = config.databaseUrl || config.clickhouse.url ? 'into the configured databases' : `into ${config.dataDir}`
  } else {
    const url = opts.url ?? `http://localhost:${config.port}`
    const key = opts.key ?? process.env.ADMIN_API_KEY
    if (!key) fail('seeding through the API needs an admin key: --key <key> (or ADMIN_API_KEY); or use --direct')
    const concurrency = count('concurrency', opts.concurrency, 4, 1)
    result = await seedThroughApi({ url, key }, { seed, customers, concurrency, onProgress, onWarning })
    where = `through the API at ${url}`
  }
  progress.bar?.finish(result.summary.events)
  writeTruth(truthFile, result.truth)
  console.log(`Seeded ${customers.toLocaleString('en-US')} customers (seed ${seed}) ${where} in ${result.summary.seconds.toFixed(1)} s`)
  for (const line of describeSeed(result.summary, result.truth, truthFile)) console.log(line)
  if (!direct) console.log('  note: outcome windows were compressed into the seeding run (the API stamps exposures now); use --direct for real dates')
  if (opts.reset) {
    const env = config.dataDir === path.resolve('data') ? '' : `DATA_DIR=${config.dataDir} `
    console.log(`\nStart it with: ${env}npm start   (prints the dashboard URL and a first admin key)`)
  }
} catch (e) {
  process.stderr.write('\n')
  if (e instanceof SeedError) {
    console.error(e.message)
    process.exit(1)
  }
  throw e
}
