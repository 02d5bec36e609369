import { sql, type Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { NotificationMessage } from './message.ts'
import type { SendResult } from './transports.ts'

export type OutboxSource = 'alert' | 'digest' | 'test'

export interface OutboxRow {
  id: number
  idempotency_key: string
  destination_id: string
  source: string
  message: NotificationMessage
  attempts: number
  created_at: Date
}

/**
 * Queues one notification for one destination. The idempotency key names the notification (an alert's rule,
 * subject and state change; a digest's period), so enqueueing it again — a second scheduler, a retried
 * tick — adds nothing. Returns whether a row was added.
 * @example await enqueue(db, { idempotencyKey: 'alert:rule_1:win-back:srm:2026-12-01T10:00:00Z:dst_1', destinationId: 'dst_1', source: 'alert', message })
 */
export async function enqueue(
  db: Kysely<Database>,
  n: { idempotencyKey: string; destinationId: string; source: OutboxSource; message: NotificationMessage },
  now = new Date(),
): Promise<boolean> {
  const r = await db
    .insertInto('notification_outbox')
    .values({
      idempotency_key: n.idempotencyKey,
      destination_id: n.destinationId,
      source: n.source,
      message: JSON.stringify(n.message),
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst()
  return !!r
}

/**
 * Claims up to `limit` due notifications for `leaseMs`: other workers (other processes) skip them until the lease
 * passes, so a worker that dies mid-delivery only delays its claims, and SKIP LOCKED keeps two claims from
 * taking the same row.
 */
export async function claimDue(db: Kysely<Database>, now: Date, leaseMs: number, limit = 20): Promise<OutboxRow[]> {
  const rows = await db
    .updateTable('notification_outbox')
    .set({ locked_until: new Date(now.getTime() + leaseMs) })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('notification_outbox')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['id', 'idempotency_key', 'destination_id', 'source', 'message', 'attempts', 'created_at'])
    .execute()
  return rows.map((r) => ({ ...r, message: r.message as unknown as NotificationMessage })).sort((a, b) => a.id - b.id)
}

/**
 * The wait before retry number `attempt` (1 = the first retry): base × 2^(attempt−1), capped, with "equal jitter"
 * (half fixed, half random) so that receivers coming back from an outage are not hit by every sender at once.
 * @example backoffDelay(3, 30_000, 3_600_000, () => 0.5) // 90_000: 120 s halved, plus a quarter of it
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/**
 * Records one attempt in the delivery log and moves the notification on: delivered, due again after a backoff, or
 * dead-lettered after `maxAttempts` tries.
 */
export async function recordAttempt(
  db: Kysely<Database>,
  row: OutboxRow,
  result: SendResult,
  policy: { maxAttempts: number; backoffBaseMs: number; backoffMaxMs: number; random: () => number },
  at: Date,
  durationMs: number,
): Promise<'delivered' | 'retry' | 'dead'> {
  const attempt = row.attempts + 1
  const outcome = result.ok ? 'delivered' : attempt >= policy.maxAttempts ? 'dead' : 'retry'
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('notification_attempts')
      .values({ outbox_id: row.id, attempt, at, outcome, status_code: result.statusCode, error: result.error, duration_ms: Math.round(durationMs) })
      .execute()
    await trx
      .updateTable('notification_outbox')
      .set({
        attempts: attempt,
        status: outcome === 'retry' ? 'pending' : outcome,
        next_attempt_at: outcome === 'retry' ? new Date(at.getTime() + backoffDelay(attempt, policy.backoffBaseMs, policy.backoffMaxMs, policy.random)) : at,
        locked_until: null,
        last_status_code: result.statusCode,
        last_error: result.error,
        delivered_at: result.ok ? at : null,
      })
      .where('id', '=', row.id)
      .execute()
  })
  return outcome
}

/** Notifications whose next try is due at or before `at` (how many a "run due deliveries now" would send). */
export async function countDue(db: Kysely<Database>, at: Date): Promise<number> {
  const r = await db
    .selectFrom('notification_outbox')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', at)
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

/** Claims one notification by id (a "send test" delivers its own row at once); null when another worker holds it. */
export async function claimOne(db: Kysely<Database>, id: number, now: Date, leaseMs: number): Promise<OutboxRow | null> {
  const r = await db
    .updateTable('notification_outbox')
    .set({ locked_until: new Date(now.getTime() + leaseMs) })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<=', now)]))
    .returning(['id', 'idempotency_key', 'destination_id', 'source', 'message', 'attempts', 'created_at'])
    .executeTakeFirst()
  return r ? { ...r, message: r.message as unknown as NotificationMessage } : null
}
