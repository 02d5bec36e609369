import { createHash } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { isEmbeddedPostgres } from '../stores/postgres.ts'

/**
 * The advisory-lock key of a customer's decisioning state or of an experiment's budget: 64 bits of a SHA-1 of
 * the kind and id (a collision only makes two unrelated ids wait for each other).
 */
export function lockKey(kind: 'customer' | 'budget' | 'leader', id: string): bigint {
  return createHash('sha1').update(`${kind}:${id}`).digest().readBigInt64BE(0)
}

/**
 * Takes transaction-scoped advisory locks on every key at once, in ascending order. Every transaction that
 * touches decisioning state takes all its locks in one such call, so two transactions always wait for each
 * other in the same order and cannot deadlock; the locks end with the transaction.
 *
 * @example await lockAll(db, trx, [lockKey('customer', 'c-1'), lockKey('budget', 'cart-recovery')])
 */
export async function lockAll(db: Kysely<Database>, trx: Kysely<Database>, keys: bigint[]): Promise<void> {
  // Embedded PGlite (`db`) is one connection that a transaction holds alone, and only one process opens its data directory.
  if (isEmbeddedPostgres(db)) return
  const sorted = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String)
  if (!sorted.length) return
  // unnest yields the array in order and the aggregate consumes rows in that order.
  await sql`select count(pg_advisory_xact_lock(k)) from unnest(${sorted}::int8[]) as k`.execute(trx)
}

/** Runs `fn` in a transaction if no other process holds `name`'s leader lock at that moment; else returns null. */
export async function asLeader<T>(db: Kysely<Database>, name: string, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T | null> {
  return db.transaction().execute(async (trx) => {
    const r = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${String(lockKey('leader', name))}::int8) as ok`.execute(trx)
    return r.rows[0]?.ok ? fn(trx) : null
  })
}
