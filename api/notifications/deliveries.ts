import type { Kysely } from 'kysely'
import type { z } from '@hono/zod-openapi'
import type { Database } from '../stores/schema.ts'
import type { Delivery } from './schema.ts'

export type DeliveryView = z.infer<typeof Delivery>
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())

/** The delivery log: notifications newest first, each with its attempts (status code, error, duration). */
export async function listDeliveries(db: Kysely<Database>, q: { status?: 'pending' | 'delivered' | 'dead'; limit: number }): Promise<DeliveryView[]> {
  let query = db
    .selectFrom('notification_outbox as o')
    .leftJoin('notification_destinations as d', 'd.id', 'o.destination_id')
    .select([
      'o.id',
      'o.idempotency_key',
      'o.destination_id',
      'd.name as destination_name',
      'o.source',
      'o.message',
      'o.status',
      'o.attempts',
      'o.next_attempt_at',
      'o.last_status_code',
      'o.last_error',
      'o.created_at',
      'o.delivered_at',
    ])
    .orderBy('o.id', 'desc')
    .limit(q.limit)
  if (q.status) query = query.where('o.status', '=', q.status)
  const rows = await query.execute()
  const ids = rows.map((r) => r.id)
  const attempts = ids.length ? await db.selectFrom('notification_attempts').selectAll().where('outbox_id', 'in', ids).orderBy('id').execute() : []
  return rows.map((r) => ({
    id: r.id,
    idempotencyKey: r.idempotency_key,
    destinationId: r.destination_id,
    destinationName: r.destination_name,
    source: r.source as DeliveryView['source'],
    title: String((r.message as { title?: unknown }).title ?? ''),
    status: r.status as DeliveryView['status'],
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    createdAt: iso(r.created_at)!,
    deliveredAt: iso(r.delivered_at),
    log: attempts
      .filter((a) => a.outbox_id === r.id)
      .map((a) => ({
        attempt: a.attempt,
        at: iso(a.at)!,
        outcome: a.outcome as DeliveryView['log'][number]['outcome'],
        statusCode: a.status_code,
        error: a.error,
        durationMs: a.duration_ms,
      })),
  }))
}
