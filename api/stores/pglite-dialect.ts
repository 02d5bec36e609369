import { PGlite } from '@electric-sql/pglite'
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'

/**
 * A Kysely PostgresPool over one embedded PGlite instance.
 * PGlite is a single connection, so `connect()` hands it out under a mutex: a transaction opened by Kysely
 * owns the database until it releases it, and queries from other requests wait instead of interleaving.
 */
export function pglitePool(db: PGlite): PostgresPool {
  let tail: Promise<void> = Promise.resolve()
  return {
    async connect(): Promise<PostgresPoolClient> {
      let release!: () => void
      const previous = tail
      tail = new Promise<void>((resolve) => (release = resolve))
      await previous
      let released = false
      return {
        async query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
          const result = await db.query<R>(sql, parameters as unknown[])
          const command = (/^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SELECT') as PostgresQueryResult<R>['command']
          return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows }
        },
        release() {
          if (!released) {
            released = true
            release()
          }
        },
      } as PostgresPoolClient
    },
    async end() {
      await tail
      await db.close()
    },
  }
}
