import fs from 'node:fs'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { serve } from '@hono/node-server'
import { ConfigError, loadConfig, type Config } from '../api/config.ts'
import { openStores } from '../api/stores/open.ts'
import { describeStoreStartupError } from '../api/stores/startup-errors.ts'
import { bootstrapAdminKey } from '../api/auth/keys.ts'
import { createApp } from '../api/app.ts'
import { collectWhenIdle, keepHeapTight } from '../api/memory.ts'
import { seedDemoOnFirstStart } from '../seed/demo.ts'
import { seedDecisioningDemo } from '../seed/decisioning-demo.ts'
import { createLogger, errorFields, log } from '../api/observability/log.ts'
import { createMetrics } from '../api/observability/metrics.ts'
import { listMetrics } from '../api/metrics/store.ts'
import { addPropertyColumns, logPropertyColumns, propertyKeysOf } from '../api/stores/property-columns.ts'

// `npm start`: migrate, make sure an admin can get in, serve API + dashboard, flush writes on SIGTERM.
// Owner-only files: the stores hold API key hashes, customer ids and revenue. Set before anything creates a file
// (DATA_DIR, PGlite's initdb child process, chDB's parts); the worker thread and child processes share it.
process.umask(0o077)
const config = readConfig()
log.level = config.logLevel
const { db, ch } = await openStores(config).catch(cannotOpenStores)
const { generatedKey: firstKey, warning } = await bootstrapAdminKey(db, config.adminApiKey)
if (warning) log.warn(`Warning: ${warning}`)
// First start on empty stores: seed the demo world (seed/demo.ts; SEED_DEMO=0 turns it off).
const seeded = await seedDemoOnFirstStart({ db, ch }, config)

const retention = await createApp({
  db,
  ch,
  admission: config.admission,
  auth: config.auth,
  metrics: createMetrics(),
  metricsScrapeKey: config.metricsScrapeKey,
  accessLog: true,
  featureRefresh: config.featureRefresh,
  maxPropertyColumns: config.maxPropertyColumns,
  notifications: { ...config.notifications, secretKey: notificationsKey(config) },
})
if (seeded) {
  // The demo's decision layer goes through the real decider and ingestion path, so it needs the app.
  const d = await seedDecisioningDemo(db, retention)
  log.info(
    { firings: d.firings, events: d.events },
    `cart-recovery: ${d.firings.toLocaleString('en-US')} cart-abandoned triggers decided, ${d.events.toLocaleString('en-US')} outcome events (trigger, 2 policies, a budget)`,
  )
}
// Metrics saved before their keys could have columns (or while PROPERTY_COLUMNS was lower) get them now, in the
// background: until then their keys are read from the properties map, with the same numbers.
if (config.maxPropertyColumns > 0) {
  void listMetrics(db)
    .then((ms) =>
      addPropertyColumns(
        ch,
        ms.flatMap((m) => (m.builtIn || m.archived ? [] : propertyKeysOf(m))),
        config.maxPropertyColumns,
      ),
    )
    .then((result) => logPropertyColumns(result, config.maxPropertyColumns, {}, 'property columns added for saved metrics'))
    .catch((e) => log.warn(errorFields(e), 'could not add the catalogue property columns; their keys are read from the map'))
}
retention.cache.start(config.configPollMs)
retention.decider.start(config.configPollMs)
retention.notifications.start()

// Bounds the memory a burst of large bodies takes (api/memory.ts).
keepHeapTight()

const limits = config.http
const serverOptions = {
  // A client trickling its headers or body holds a socket and, once admitted, a request slot; these end it
  // (408) instead of leaving it to the OS (the issue measured slow bodies cut only after 308 s).
  requestTimeout: limits.requestTimeoutMs,
  headersTimeout: limits.headersTimeoutMs,
  keepAliveTimeout: limits.keepAliveTimeoutMs,
  // Node checks those two timeouts only every connectionsCheckingInterval (30 s by default), so a 30 s
  // timeout could take a minute to fire; a tenth of the shorter one keeps the cut close to the setting.
  connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headersTimeoutMs / 10)),
}
const server = serve({ fetch: retention.app.fetch, port: config.port, serverOptions }, (info) => {
  const url = `http://localhost:${info.port}`
  const stores = `${config.databaseUrl ? 'Postgres server' : 'PGlite'} + ${ch.embedded ? 'chDB' : 'ClickHouse server'}`
  log.info(
    { port: info.port, stores, dataDir: config.dataDir, metrics: config.metricsScrapeKey ? '/metrics' : 'off' },
    `Retention Lab is serving on ${url} (dashboard ${url}/, API docs ${url}/docs)`,
  )
  if (firstKey) showFirstKey(firstKey)
})

// Past the cap Node closes a new socket at once: each open one costs a descriptor and parser memory.
server.maxConnections = limits.maxConnections
// Gives the memory of a burst of large bodies back once the server is quiet (api/memory.ts).
collectWhenIdle()

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  log.info({ signal }, `${signal}: flushing pending writes`)
  server.close()
  await retention.close()
  await ch.close()
  await db.destroy()
  log.info({ signal }, 'stopped: pending writes flushed, stores closed')
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))

/** A store that cannot be opened for a known reason (a refused login, nothing listening): one line naming the setting, exit 1. */
function cannotOpenStores(error: unknown): never {
  const problem = describeStoreStartupError(error, config)
  if (!problem) throw error
  createLogger({ destination: 2 }).fatal(`Cannot start: ${problem}`)
  process.exit(1)
}

/** The configuration, or a one-line error and exit 1 when a setting cannot be used (no stack trace). */
function readConfig(): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    // stderr, as before the logger existed: a start that fails is read by a person or a supervisor.
    createLogger({ destination: 2 }).fatal(`Cannot start: ${error.message}`)
    process.exit(1)
  }
}

/**
 * The generated first admin key is a secret, so it never goes into the log stream: it is written to an
 * owner-only file in DATA_DIR (umask 077), whose path is logged, and shown on the terminal when a person is
 * watching one.
 */
function showFirstKey(key: string) {
  const file = path.join(config.dataDir, 'first-admin-key')
  try {
    fs.mkdirSync(config.dataDir, { recursive: true })
    fs.writeFileSync(file, `${key}\n`, { mode: 0o600 })
    log.warn({ file }, `First admin API key generated and written to ${file} (owner-only): store it, then delete the file`)
  } catch (error) {
    log.error({ file, ...errorFields(error) }, 'could not write the first admin API key; revoke it and set ADMIN_API_KEY')
  }
  if (process.stdout.isTTY) process.stdout.write(`\n  First admin API key (shown once, store it now):\n\n    ${key}\n\n`)
}

/**
 * The key that encrypts destination secrets: NOTIFICATIONS_SECRET_KEY, else a random one kept in the data directory
 * (owner-only) so that a restart can still read them. Several processes on one database need the same key: set the
 * variable, or share the data directory.
 */
function notificationsKey(c: Config): string {
  if (c.notifications.secretKey) return c.notifications.secretKey
  const file = path.join(c.dataDir, 'notifications.key')
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' })
  return fs.readFileSync(file, 'utf8').trim()
}
