import type { Config } from '../config.ts'
import { initPgliteDir, openPostgres, restrictPgliteDir, type Db } from './postgres.ts'
import { openClickHouse, type ClickHouse } from './clickhouse.ts'
import { migrateClickHouse, migratePostgres } from './migrate.ts'

export interface OpenedStores {
  db: Db
  ch: ClickHouse
  /** Migration names applied by this call, per store. */
  migrated: { postgres: string[]; clickhouse: string[] }
}

/**
 * Opens and migrates both stores, the same way for the server and every CLI, so that whichever runs first on a
 * fresh DATA_DIR leaves owner-only files (the caller sets umask 077 first). ClickHouse first: chDB locks its
 * directory, so a second process on it fails here — before PGlite, which has no such lock, could be opened twice.
 * `openClickHouseWith` lets a caller explain that lock failure in its own words.
 */
export async function openStores(config: Config, openClickHouseWith: (config: Config) => Promise<ClickHouse> = openClickHouse): Promise<OpenedStores> {
  const ch = await openClickHouseWith(config)
  if (!config.databaseUrl) initPgliteDir(config.dataDir)
  const db = await openPostgres(config)
  const postgres = await migratePostgres(db)
  const clickhouse = await migrateClickHouse(ch)
  if (!config.databaseUrl) restrictPgliteDir(config.dataDir)
  return { db, ch, migrated: { postgres, clickhouse } }
}
