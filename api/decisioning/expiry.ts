import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ExperimentCache } from '../experiments/cache.ts'
import { asLeader, lockAll, lockKey } from './locks.ts'
import type { BudgetBook, CounterDelta } from './budget.ts'

const CHUNK = 20_000

/**
 * Scheduled work: offers past their validity expire and release their reservations. Every process runs it on a
 * timer, and whichever holds the leader lock at that moment does the work (the others skip), so it runs once
 * across processes; it is idempotent (only open offers past `now` change), so a late second run finds nothing.
 * Returns how many offers expired, or null when another process was doing it.
 */
export async function expireOffers(db: Kysely<Database>, deps: { experiments: ExperimentCache; budgets: BudgetBook }, now: number): Promise<number | null> {
  let total = 0
  for (;;) {
    // One transaction per chunk: a transaction takes all its locks in one call (locks.ts), so it cannot lock more later.
    const n = await asLeader(db, 'offer-expiry', (trx) => expireChunk(db, trx, deps, new Date(now)))
    if (n === null) return total || null
    total += n
    if (n < CHUNK) return total
  }
}

async function expireChunk(
  db: Kysely<Database>,
  trx: Transaction<Database>,
  deps: { experiments: ExperimentCache; budgets: BudgetBook },
  at: Date,
): Promise<number> {
  const due = await sql<{ experiment_id: string }>`
    select distinct experiment_id from (select experiment_id from incentives where status = 'open' and expires_at <= ${at} limit ${CHUNK}) d`.execute(trx)
  const experimentIds = due.rows.map((r) => r.experiment_id)
  if (!experimentIds.length) return 0
  await lockAll(
    db,
    trx,
    experimentIds.map((e) => lockKey('budget', e)),
  )
  // Counters first: counting them from the ledger after the update would count these expiries twice.
  const budgeted = experimentIds.filter((id) => deps.experiments.get(id)?.experiment.budget)
  const counters = await deps.budgets.load(trx, budgeted)
  const expired = await sql<{ experiment_id: string; arm: string; reserved: number }>`
    update incentives set status = 'expired', resolved_at = expires_at
    where id in (select id from incentives where status = 'open' and expires_at <= ${at} and experiment_id = any(${experimentIds}::text[]) limit ${CHUNK})
    returning experiment_id, arm, reserved`.execute(trx)
  const deltas: CounterDelta[] = expired.rows
    .filter((r) => counters.has(r.experiment_id))
    .map((r) => ({ experimentId: r.experiment_id, arm: r.arm, reserved: -Number(r.reserved), expired: 1 }))
  await deps.budgets.apply(trx, deltas)
  return expired.rows.length
}
