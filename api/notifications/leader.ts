import { sql, type Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { isEmbeddedPostgres } from '../stores/postgres.ts'

/** The advisory lock key of the notification scheduler (any 64-bit number no other code uses). */
export const SCHEDULER_LOCK = 2_026_120_105

/**
 * Runs `work` only if this session takes the Postgres advisory lock `key` (pg_try_advisory_lock: never waits), so
 * that with several API processes on one database the scheduled work runs in one of them at a time; the others
 * skip this round. A session lock lives on one connection: on a Postgres server that is a connection held for the
 * duration (the work itself uses the pool); PGlite is a single session, so the lock is taken on it directly.
 * Returns whether the work ran.
 * @example await withAdvisoryLock(db, SCHEDULER_LOCK, () => evaluateRules(…))
 */
export async function withAdvisoryLock(db: Kysely<Database>, key: number, work: () => Promise<void>): Promise<boolean> {
  const lock = sql<{ locked: boolean }>`select pg_try_advisory_lock(${key}::bigint) as locked`
  const unlock = sql`select pg_advisory_unlock(${key}::bigint)`
  if (isEmbeddedPostgres(db)) {
    const { rows } = await lock.execute(db)
    if (!rows[0]?.locked) return false
    try {
      await work()
    } finally {
      await unlock.execute(db)
    }
    return true
  }
  return db.connection().execute(async (conn) => {
    const { rows } = await lock.execute(conn)
    if (!rows[0]?.locked) return false
    try {
      await work()
    } finally {
      await unlock.execute(conn)
    }
    return true
  })
}
