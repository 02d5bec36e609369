import fs from 'node:fs'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { serve } from '@hono/node-server'
import { ConfigError, loadConfig, type Config } from '../api/config.ts'
import { openStores } from '../api/stores/open.ts'
import { bootstrapAdminKey } from '../api/auth/keys.ts'
import { createApp } from '../api/app.ts'
import { collectWhenIdle, keepHeapTight } from '../api/memory.ts'
import { seedDemoOnFirstStart } from '../seed/demo.ts'
import { seedDecisioningDemo } from '../seed/decisioning-demo.ts'

// `npm start`: migrate, make sure an admin can get in, serve API + dashboard, flush writes on SIGTERM.
// Owner-only files: the stores hold API key hashes, customer ids and revenue. Set before anything creates a file
// (DATA_DIR, PGlite's initdb child process, chDB's parts); the worker thread and child processes share it.
process.umask(0o077)
const config = readConfig()
const { db, ch } = await openStores(config)
const { generatedKey: firstKey, warning } = await bootstrapAdminKey(db, config.adminApiKey)
if (warning) console.warn(`Warning: ${warning}`)
// First start on empty stores: seed the demo world (seed/demo.ts; SEED_DEMO=0 turns it off).
const seeded = await seedDemoOnFirstStart({ db, ch }, config)

const retention = await createApp({
  db,
  ch,
  admission: config.admission,
  auth: config.auth,
  notifications: { ...config.notifications, secretKey: notificationsKey(config) },
})
if (seeded) {
  // The demo's decision layer goes through the real decider and ingestion path, so it needs the app.
  const d = await seedDecisioningDemo(db, retention)
  console.log(
    `  cart-recovery: ${d.firings.toLocaleString('en-US')} cart-abandoned triggers decided, ${d.events.toLocaleString('en-US')} outcome events (trigger, 2 policies, a budget)`,
  )
}
retention.cache.start()
retention.decider.start()
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
  console.log(`Retention Lab is serving on ${url}`)
  console.log(
    `  dashboard: ${url}/   API docs: ${url}/docs   stores: ${config.databaseUrl ? 'Postgres server' : 'PGlite'} + ${ch.embedded ? 'chDB' : 'ClickHouse server'} (${config.dataDir})`,
  )
  if (firstKey) {
    console.log(`\n  First admin API key (shown once, store it now):\n\n    ${firstKey}\n`)
  }
})

// Past the cap Node closes a new socket at once: each open one costs a descriptor and parser memory.
server.maxConnections = limits.maxConnections
// Gives the memory of a burst of large bodies back once the server is quiet (api/memory.ts).
collectWhenIdle()

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  console.log(`${signal}: flushing pending writes…`)
  server.close()
  await retention.close()
  await ch.close()
  await db.destroy()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))

/** The configuration, or a one-line error and exit 1 when a setting cannot be used (no stack trace). */
function readConfig(): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`Cannot start: ${error.message}`)
    process.exit(1)
  }
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
