import fs from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { spawnSync } from 'node:child_process'
import type { Database } from './schema.ts'
import { openPgliteWorker, pglitePool } from './pglite-dialect.ts'

export type Db = Kysely<Database>

const embedded = new WeakSet<Db>()
const serverUrls = new WeakMap<Db, string>()

/** The connection string of a Postgres server store (for a LISTEN connection of its own); null for PGlite. */
export function databaseUrlOf(db: Db): string | null {
  return serverUrls.get(db) ?? null
}

/** Whether `db` is the embedded PGlite, which takes `COPY … FROM '/dev/blob'` with the input as the one parameter. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema: migrations call this with theirs
export function isEmbeddedPostgres(db: Kysely<any>): boolean {
  return embedded.has(db)
}

/** The control-plane store: a Postgres server when `databaseUrl` is set, else PGlite in `<dataDir>/pg`. */
export async function openPostgres(opts: { databaseUrl: string | null; dataDir: string }): Promise<Db> {
  if (opts.databaseUrl) {
    // int8/numeric come back as strings by default; our counters fit in a double.
    pg.types.setTypeParser(20, (v) => Number(v))
    pg.types.setTypeParser(1700, (v) => Number(v))
    const server = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: opts.databaseUrl, max: 10 }) }) })
    serverUrls.set(server, opts.databaseUrl)
    return server
  }
  const dir = path.join(opts.dataDir, 'pg')
  fs.mkdirSync(dir, { recursive: true })
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(await openPgliteWorker(dir)) }) })
  embedded.add(kysely)
  return kysely
}

/**
 * Creates a new PGlite data directory in a short-lived child process. Running initdb inside the server would
 * leave several hundred MB of WebAssembly memory behind for the life of the process; opening an existing
 * directory costs a fraction of that.
 */
export function initPgliteDir(dataDir: string): void {
  const dir = path.join(dataDir, 'pg')
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return
  fs.mkdirSync(dir, { recursive: true })
  const script = `const { PGlite } = await import('@electric-sql/pglite'); const db = await PGlite.create(${JSON.stringify(dir)}); await db.close()`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`could not initialise the PGlite data directory ${dir}`)
}

/**
 * Makes the PGlite data directory owner-only (directories 0700, files 0600). PGlite unpacks its initial files
 * and writes its relation-cache files (pg_internal.init) with explicit modes (0666, 0644) that the process
 * umask cannot narrow; other files it creates follow the umask, which server.ts sets to 077. Run after
 * opening and migrating, when those files exist.
 */
export function restrictPgliteDir(dataDir: string): void {
  ownerOnly(path.join(dataDir, 'pg'))
}

function ownerOnly(dir: string): void {
  fs.chmodSync(dir, 0o700)
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) ownerOnly(p)
    else if (entry.isFile()) fs.chmodSync(p, 0o600)
  }
}
