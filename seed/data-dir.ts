/**
 * The embedded data directory as the seed CLI sees it: whether another process (a server) holds it, whether
 * a directory is really ours before it is wiped, and opening the stores with an answer a user can act on.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Config } from '../api/config.ts'
import { openClickHouse, type ClickHouse } from '../api/stores/clickhouse.ts'
import type { Db } from '../api/stores/postgres.ts'
import { SeedError } from './generate.ts'
import { openStores as openStoresAnd } from '../api/stores/open.ts'

export class DataDirError extends SeedError {}

/**
 * What a Retention Lab data directory holds: PGlite in pg/, chDB in ch/, the planted truth of a demo, and the
 * first admin key the server wrote when it generated one (bin/server.ts).
 */
const OURS = new Set(['pg', 'ch', 'truth.json', 'first-admin-key'])

/**
 * Throws unless `dir` is missing, empty, or looks like a Retention Lab data directory (only pg/, ch/ and
 * truth.json, with PGlite's PG_VERSION or chDB's status file inside) — the check before deleting anything.
 */
export function assertRetentionLabDataDir(dir: string) {
  if (!fs.existsSync(dir)) return
  if (!fs.statSync(dir).isDirectory()) throw new DataDirError(`${dir} is not a directory`)
  const entries = fs.readdirSync(dir)
  if (!entries.length) return
  const foreign = entries.filter((e) => !OURS.has(e))
  const marked = fs.existsSync(path.join(dir, 'pg', 'PG_VERSION')) || fs.existsSync(path.join(dir, 'ch', 'status'))
  if (foreign.length || !marked) {
    throw new DataDirError(
      `${dir} does not look like a Retention Lab data directory (${foreign.length ? `it also holds: ${foreign.slice(0, 5).join(', ')}` : 'no pg/PG_VERSION or ch/status inside'}); not deleting it. Point DATA_DIR at the directory npm start uses.`,
    )
  }
}

/** The process that holds chDB's lock on `<dataDir>/ch`, from the status file ClickHouse writes there. */
function holderPid(dataDir: string): string | null {
  try {
    return /PID:\s*(\d+)/.exec(fs.readFileSync(path.join(dataDir, 'ch', 'status'), 'utf8'))?.[1] ?? null
  } catch {
    return null
  }
}

/** Opens and migrates the configured stores (api/stores/open.ts), explaining a data directory held by a server. */
export async function openStores(config: Config): Promise<{ db: Db; ch: ClickHouse }> {
  const { db, ch } = await openStoresAnd(config, openClickHouseOrExplain)
  return { db, ch }
}

async function openClickHouseOrExplain(config: Config): Promise<ClickHouse> {
  let ch: ClickHouse
  try {
    ch = await openClickHouse(config)
    await ch.client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json())
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    if (!config.clickhouse.url && /lock|Failed to create connection/i.test(message)) {
      const pid = holderPid(config.dataDir)
      throw new DataDirError(
        `Another process${pid ? ` (pid ${pid})` : ''} has the data directory ${config.dataDir} open — probably a running server (npm start).\n` +
          `chDB allows one process per data directory: stop that server first, or seed through it instead:\n` +
          `  npm run seed -- --url http://localhost:${config.port} --key <admin key>`,
      )
    }
    throw new DataDirError(`could not open ClickHouse (${config.clickhouse.url ?? path.join(config.dataDir, 'ch')}): ${message}`)
  }
  return ch
}

/** Deletes an embedded data directory after checking it is ours and that no server holds it. */
export async function wipeDataDir(config: Config) {
  if (config.databaseUrl || config.clickhouse.url) {
    throw new DataDirError('demo:reset only rebuilds an embedded data directory; unset DATABASE_URL and CLICKHOUSE_URL (it never wipes a server)')
  }
  const dir = config.dataDir
  assertRetentionLabDataDir(dir)
  if (fs.existsSync(path.join(dir, 'ch'))) {
    // Opening chDB proves no other process holds the directory; close it again before deleting.
    const ch = await openClickHouseOrExplain(config)
    await ch.close()
  }
  fs.rmSync(dir, { recursive: true, force: true })
}
