import crypto from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { DomainError } from '../domain-errors.ts'
import { recordAudit } from '../audit/log.ts'
import type { Role } from './schema.ts'

/** What each role may do. `read` covers every GET except key listing. */
export type Permission = 'read' | 'edit' | 'ingest' | 'admin'
const grants: Record<Role, Permission[]> = {
  admin: ['read', 'edit', 'ingest', 'admin'],
  editor: ['read', 'edit'],
  ingest: ['ingest'],
  viewer: ['read'],
}
export const can = (role: Role, permission: Permission) => grants[role].includes(permission)

/**
 * Keys are 32 random bytes, so a plain SHA-256 is a sufficient one-way hash (no dictionary to attack) and
 * keeps per-request verification cheap; only the hash and an 8-character prefix are stored.
 */
export const hashKey = (key: string) => crypto.createHash('sha256').update(key).digest('hex')
export const generateKey = () => `rl_${crypto.randomBytes(32).toString('base64url')}`

export interface KeyIdentity {
  id: string
  /**
   * How the audit log (actor), notes (author) and records (created_by) name the caller: the key id, then the
   * key's name, e.g. `key_1a2b3c4d5e6f (ops laptop)`. A name alone is free text that any admin can give a new key.
   */
  name: string
  role: Role
}

/** The caller's name as recorded: key id and key name (see KeyIdentity.name). */
export const actorName = (key: { id: string; name: string }) => `${key.id} (${key.name})`

export async function findKey(db: Kysely<Database>, key: string): Promise<KeyIdentity | null> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'role'])
    .where('key_hash', '=', hashKey(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return row ? { id: row.id, name: actorName(row), role: row.role as Role } : null
}

export async function createKey(db: Kysely<Database>, input: { name: string; role: Role; key?: string }, actor: string, now = new Date()) {
  const key = input.key ?? generateKey()
  const id = `key_${crypto.randomBytes(6).toString('hex')}`
  return db.transaction().execute(async (trx) => {
    const row = {
      id,
      name: input.name,
      role: input.role,
      key_hash: hashKey(key),
      prefix: key.slice(0, 8),
      created_by: actor,
      created_at: now,
      revoked_at: null,
    }
    await trx.insertInto('api_keys').values(row).execute()
    const summary = { id, name: input.name, role: input.role, prefix: row.prefix, createdAt: now.toISOString(), revokedAt: null }
    await recordAudit(trx, { actor, action: 'key.create', entityType: 'api_key', entityId: id, after: summary }, now)
    return { ...summary, key }
  })
}

export async function listKeys(db: Kysely<Database>) {
  const rows = await db.selectFrom('api_keys').select(['id', 'name', 'role', 'prefix', 'created_at', 'revoked_at']).orderBy('created_at', 'asc').execute()
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role as Role,
    prefix: r.prefix,
    createdAt: new Date(r.created_at).toISOString(),
    revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
  }))
}

export async function revokeKey(db: Kysely<Database>, id: string, actor: string, now = new Date()) {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('api_keys').select(['id', 'revoked_at']).where('id', '=', id).executeTakeFirst()
    if (!row) throw new DomainError('not_found', 'not_found', `API key '${id}' does not exist`)
    if (!row.revoked_at) {
      await trx.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).execute()
      await recordAudit(trx, { actor, action: 'key.revoke', entityType: 'api_key', entityId: id }, now)
    }
  })
}

/** What start-up did about admin access: the generated first key to print once, or a warning to print. */
export interface AdminBootstrap {
  generatedKey: string | null
  warning: string | null
}

/**
 * Makes sure an admin can get in: ADMIN_API_KEY is registered if it is not yet; without it, the first start
 * (no active admin key at all) generates one and returns it so the caller prints it once. A revoked
 * ADMIN_API_KEY stays revoked (revoking it is how an operator locks a leaked key out): the server still starts
 * and the caller prints the warning.
 */
export async function bootstrapAdminKey(db: Kysely<Database>, adminApiKey: string | null): Promise<AdminBootstrap> {
  if (adminApiKey) {
    const row = await db.selectFrom('api_keys').select(['id', 'revoked_at']).where('key_hash', '=', hashKey(adminApiKey)).executeTakeFirst()
    if (!row) await createKey(db, { name: 'ADMIN_API_KEY', role: 'admin', key: adminApiKey }, 'system')
    else if (row.revoked_at) {
      return {
        generatedKey: null,
        warning: `ADMIN_API_KEY is the revoked key ${row.id}: it stays revoked and will not authenticate; set a new ADMIN_API_KEY or sign in with another admin key`,
      }
    }
    return { generatedKey: null, warning: null }
  }
  const admin = await db.selectFrom('api_keys').select('id').where('role', '=', 'admin').where('revoked_at', 'is', null).executeTakeFirst()
  if (admin) return { generatedKey: null, warning: null }
  return { generatedKey: (await createKey(db, { name: 'first admin', role: 'admin' }, 'system')).key, warning: null }
}
