import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from './schema.ts'

/** One incentive issued by /v1/decide (the `incentives` table) with its budget reservation. */
export interface IssuedIncentive {
  customerId: string
  experimentId: string
  arm: string
  offerType: string
  trigger: string
  tier: string | null
  at: number
  reserved: number
  unitCost: number
  expiresAt: number
}

/** One redeemed incentive, keyed by the redemption event's id (the `redemptions` table). */
export interface RedemptionInput {
  eventId: string
  customerId: string
  experimentId: string
  arm: string
  offerType: string
  cost: number
  at: number
}

const iso = (ms: number) => new Date(ms).toISOString()

/** Inserts issued incentives in one statement (one array parameter per column). */
export async function insertIncentives(trx: Kysely<Database>, rows: IssuedIncentive[]): Promise<void> {
  if (!rows.length) return
  const col = <K extends keyof IssuedIncentive>(k: K) => rows.map((r) => r[k])
  await sql`
    insert into incentives (customer_id, experiment_id, arm, offer_type, trigger_key, tier, issued_at, reserved, unit_cost, status, expires_at)
    select c, e, a, o, t, tier, at, r, u, 'open', x from unnest(${col('customerId')}::text[], ${col('experimentId')}::text[], ${col('arm')}::text[],
      ${col('offerType')}::text[], ${col('trigger')}::text[], ${col('tier')}::text[], ${rows.map((r) => iso(r.at))}::timestamptz[],
      ${col('reserved')}::float8[], ${col('unitCost')}::float8[], ${rows.map((r) => iso(r.expiresAt))}::timestamptz[]) as v(c, e, a, o, t, tier, at, r, u, x)`.execute(
    trx,
  )
}

/**
 * Stores redemptions once per event id (the first copy wins) and returns the ids that were new, so that a
 * resent redemption is never spent twice.
 */
export async function insertRedemptions(trx: Transaction<Database>, rows: RedemptionInput[]): Promise<Set<string>> {
  const byId = new Map<string, RedemptionInput>()
  for (const r of rows) if (!byId.has(r.eventId)) byId.set(r.eventId, r)
  const list = [...byId.values()]
  if (!list.length) return new Set()
  const inserted = await sql<{ event_id: string }>`
    insert into redemptions (event_id, customer_id, experiment_id, offer_type, cost, redeemed_at, arm)
    select * from unnest(${list.map((r) => r.eventId)}::text[], ${list.map((r) => r.customerId)}::text[], ${list.map((r) => r.experimentId)}::text[],
      ${list.map((r) => r.offerType)}::text[], ${list.map((r) => r.cost)}::float8[], ${list.map((r) => iso(r.at))}::timestamptz[], ${list.map((r) => r.arm)}::text[])
    on conflict (event_id) do nothing
    returning event_id`.execute(trx)
  return new Set(inserted.rows.map((r) => r.event_id))
}
