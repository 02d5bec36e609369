import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'

export interface AuditEntry {
  actor: string
  action: string
  entityType: string
  entityId: string
  before?: unknown
  after?: unknown
}

/** Appends to the audit log inside the caller's transaction, so a change and its record commit together. */
export async function recordAudit(trx: Kysely<Database>, entry: AuditEntry, at = new Date()): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      actor: entry.actor,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      before: JSON.stringify(entry.before ?? null),
      after: JSON.stringify(entry.after ?? null),
      at,
    })
    .execute()
}

export interface AuditQuery {
  entityType?: string
  entityId?: string
  limit: number
  before?: number
}

export async function listAudit(db: Kysely<Database>, q: AuditQuery) {
  let query = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(q.limit)
  if (q.entityType) query = query.where('entity_type', '=', q.entityType)
  if (q.entityId) query = query.where('entity_id', '=', q.entityId)
  if (q.before) query = query.where('id', '<', q.before)
  const rows = await query.execute()
  return rows.map((r) => ({
    id: Number(r.id),
    actor: r.actor,
    action: r.action,
    entityType: r.entity_type,
    entityId: r.entity_id,
    before: r.before,
    after: r.after,
    at: new Date(r.at).toISOString(),
  }))
}
