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
  /** Leave API key prefixes in before/after (admins only: they can list keys anyway). */
  withKeyPrefixes?: boolean
}

/**
 * An API key's prefix is the first 8 characters of the secret (of a chosen ADMIN_API_KEY too), so only admins
 * may read it; everyone else identifies a key by its id.
 */
function withoutKeyPrefix(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !('prefix' in value)) return value
  const { prefix: _prefix, ...rest } = value as Record<string, unknown>
  return rest
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
    before: q.withKeyPrefixes || r.entity_type !== 'api_key' ? r.before : withoutKeyPrefix(r.before),
    after: q.withKeyPrefixes || r.entity_type !== 'api_key' ? r.after : withoutKeyPrefix(r.after),
    at: new Date(r.at).toISOString(),
  }))
}
