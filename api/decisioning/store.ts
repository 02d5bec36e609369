import type { Kysely, Selectable } from 'kysely'
import type { Database, PolicyTable, TriggerTable } from '../stores/schema.ts'
import { DomainError, notFound } from '../domain-errors.ts'
import { recordAudit } from '../audit/log.ts'
import type { Policy, PolicyCreate, PolicyUpdate, Trigger } from './schema.ts'

type Db = Kysely<Database>
const iso = (d: Date | string) => new Date(d).toISOString()

const toTrigger = (r: Selectable<TriggerTable>) => ({
  key: r.key,
  name: r.name,
  description: r.description,
  tiers: r.tiers,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
})
const toPolicy = (r: Selectable<PolicyTable>): Policy => ({
  id: r.id,
  name: r.name,
  offerTypes: r.offer_types.includes('*') ? 'all' : (r.offer_types as Exclude<Policy['offerTypes'], 'all'>),
  maxIncentives: r.max_incentives,
  windowDays: r.window_days,
  cooldownDays: r.cooldown_days,
  minGapHours: r.min_gap_hours,
  quietHours: r.quiet_hours,
  enabled: r.enabled,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
})

export async function listTriggers(db: Db) {
  return (await db.selectFrom('triggers').selectAll().orderBy('key').execute()).map(toTrigger)
}

export async function getTrigger(db: Db, key: string) {
  const row = await db.selectFrom('triggers').selectAll().where('key', '=', key).executeTakeFirst()
  if (!row) throw notFound('trigger', key)
  return toTrigger(row)
}

export async function createTrigger(db: Db, input: Trigger, actor: string, now = new Date()) {
  return db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('triggers').select('key').where('key', '=', input.key).executeTakeFirst()) {
      throw new DomainError('conflict', 'already_exists', `trigger '${input.key}' already exists`, 'key')
    }
    await trx
      .insertInto('triggers')
      .values({ key: input.key, name: input.name, description: input.description, tiers: JSON.stringify(input.tiers), created_at: now, updated_at: now })
      .execute()
    const created = await getTrigger(trx, input.key)
    await recordAudit(trx, { actor, action: 'trigger.create', entityType: 'trigger', entityId: input.key, after: created }, now)
    return created
  })
}

/** Renames, re-describes or re-orders/extends tiers. A tier that an experiment's arm uses cannot be removed. */
export async function updateTrigger(db: Db, key: string, update: { name?: string; description?: string; tiers?: string[] }, actor: string, now = new Date()) {
  return db.transaction().execute(async (trx) => {
    const before = await getTrigger(trx, key)
    if (update.tiers) {
      if (new Set(update.tiers).size !== update.tiers.length) throw new DomainError('invalid', 'invalid_input', 'tiers must be unique', 'tiers')
      const removed = before.tiers.filter((t) => !update.tiers!.includes(t))
      if (removed.length) {
        const bound = await trx.selectFrom('experiments').select(['id', 'arms']).where('trigger_key', '=', key).execute()
        const users = bound.filter((e) => (e.arms as Array<{ tierOffers?: Record<string, unknown> }>).some((a) => removed.some((t) => a.tierOffers?.[t])))
        if (users.length)
          throw new DomainError(
            'conflict',
            'tier_in_use',
            `tier(s) ${removed.join(', ')} are used by experiment(s) ${users.map((u) => u.id).join(', ')}`,
            'tiers',
          )
      }
    }
    const values: Record<string, unknown> = { updated_at: now }
    if (update.name !== undefined) values.name = update.name
    if (update.description !== undefined) values.description = update.description
    if (update.tiers !== undefined) values.tiers = JSON.stringify(update.tiers)
    await trx.updateTable('triggers').set(values).where('key', '=', key).execute()
    const after = await getTrigger(trx, key)
    await recordAudit(trx, { actor, action: 'trigger.update', entityType: 'trigger', entityId: key, before, after }, now)
    return after
  })
}

export async function listPolicies(db: Db): Promise<Policy[]> {
  return (await db.selectFrom('policies').selectAll().orderBy('id').execute()).map(toPolicy)
}

async function getPolicy(db: Db, id: string): Promise<Policy> {
  const row = await db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) throw notFound('policy', id)
  return toPolicy(row)
}

const policyColumns = (p: Partial<PolicyCreate>) => {
  const v: Record<string, unknown> = {}
  if (p.name !== undefined) v.name = p.name
  if (p.offerTypes !== undefined) v.offer_types = JSON.stringify(p.offerTypes === 'all' ? ['*'] : p.offerTypes)
  if (p.maxIncentives !== undefined) v.max_incentives = p.maxIncentives
  if (p.windowDays !== undefined) v.window_days = p.windowDays
  if (p.cooldownDays !== undefined) v.cooldown_days = p.cooldownDays
  if (p.minGapHours !== undefined) v.min_gap_hours = p.minGapHours
  if (p.quietHours !== undefined) v.quiet_hours = JSON.stringify(p.quietHours)
  if (p.enabled !== undefined) v.enabled = p.enabled
  return v
}

export async function createPolicy(db: Db, input: PolicyCreate, actor: string, now = new Date()) {
  return db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('policies').select('id').where('id', '=', input.id).executeTakeFirst())
      throw new DomainError('conflict', 'already_exists', `policy '${input.id}' already exists`, 'id')
    await trx
      .insertInto('policies')
      .values({ id: input.id, ...policyColumns(input), created_at: now, updated_at: now } as never)
      .execute()
    const created = await getPolicy(trx, input.id)
    await recordAudit(trx, { actor, action: 'policy.create', entityType: 'policy', entityId: input.id, after: created }, now)
    return created
  })
}

export async function updatePolicy(db: Db, id: string, update: PolicyUpdate, actor: string, now = new Date()) {
  return db.transaction().execute(async (trx) => {
    const before = await getPolicy(trx, id)
    const merged = { ...before, ...update }
    if (merged.maxIncentives != null && merged.windowDays == null)
      throw new DomainError('invalid', 'invalid_input', 'a cap of maxIncentives needs the rolling windowDays it applies to', 'windowDays')
    await trx
      .updateTable('policies')
      .set({ ...policyColumns(update), updated_at: now })
      .where('id', '=', id)
      .execute()
    const after = await getPolicy(trx, id)
    await recordAudit(trx, { actor, action: 'policy.update', entityType: 'policy', entityId: id, before, after }, now)
    return after
  })
}

export async function deletePolicy(db: Db, id: string, actor: string, now = new Date()) {
  return db.transaction().execute(async (trx) => {
    const before = await getPolicy(trx, id)
    await trx.deleteFrom('policies').where('id', '=', id).execute()
    await recordAudit(trx, { actor, action: 'policy.delete', entityType: 'policy', entityId: id, before }, now)
  })
}
