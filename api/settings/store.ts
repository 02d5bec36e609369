import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { DomainError } from '../domain-errors.ts'
import { recordAudit } from '../audit/log.ts'
import type { Settings } from './schema.ts'

export const defaultSettings: Settings = { globalHoldoutPct: 0.05, globalHoldoutSeed: 'global-holdout' }

export async function getSettings(db: Kysely<Database>): Promise<Settings> {
  const rows = await db.selectFrom('settings').select(['key', 'value']).execute()
  const stored = Object.fromEntries(rows.map((r) => [r.key, r.value]))
  return { ...defaultSettings, ...stored } as Settings
}

/**
 * Changes the global holdout. Refused while any experiment is running or paused: moving the holdout boundary
 * mid-flight would move customers between treated and held out and break every comparison.
 */
export async function updateSettings(db: Kysely<Database>, update: Partial<Settings>, actor: string, now = new Date()): Promise<Settings> {
  return db.transaction().execute(async (trx) => {
    const before = await getSettings(trx)
    const changed = Object.entries(update).filter(([k, v]) => v !== undefined && before[k as keyof Settings] !== v)
    if (!changed.length) return before
    const active = await trx.selectFrom('experiments').select('id').where('status', 'in', ['running', 'paused']).execute()
    if (active.length) {
      throw new DomainError(
        'conflict',
        'experiments_active',
        `the global holdout cannot change while experiments are active (${active.map((a) => a.id).join(', ')})`,
        changed[0][0],
      )
    }
    for (const [key, value] of changed) {
      await trx
        .insertInto('settings')
        .values({ key, value: JSON.stringify(value), updated_at: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value), updated_at: now }))
        .execute()
    }
    const after = await getSettings(trx)
    await recordAudit(trx, { actor, action: 'settings.update', entityType: 'settings', entityId: 'global', before, after }, now)
    return after
  })
}
