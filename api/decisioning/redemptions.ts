import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { insertRedemptions, type RedemptionInput } from '../stores/ledger-tables.ts'
import type { ExperimentCache } from '../experiments/cache.ts'
import { lockAll, lockKey } from './locks.ts'
import { totalOf, type BudgetBook, type CounterDelta } from './budget.ts'
import type { IncentiveLedger } from './ledger.ts'

/** A redemption event as ingestion hands it over, before it is matched to the incentive it redeems. */
export type RedemptionEvent = Omit<RedemptionInput, 'offerType'> & { armOfferType: string | null }

interface OpenIncentive {
  id: number
  customer_id: string
  experiment_id: string
  arm: string
  offer_type: string
  reserved: number
  issued_at: Date
}

/**
 * Records redemption events in one transaction holding the customers' and experiments' locks: each new event
 * (by event id) redeems the customer's latest open incentive of its experiment issued before it, whose
 * reservation turns into the event's cost as spend; an event with no open incentive (expired, or issued
 * outside /v1/decide) is still spent. Returns the events that were new; `reached` gets the experiments whose
 * spend reached their budget.
 */
export async function recordRedemptions(
  trx: Transaction<Database>,
  deps: { db: Kysely<Database>; experiments: ExperimentCache; budgets: BudgetBook; ledger: IncentiveLedger },
  events: RedemptionEvent[],
  reached: Set<string>,
): Promise<RedemptionInput[]> {
  const customers = [...new Set(events.map((e) => e.customerId))]
  const experimentIds = [...new Set(events.map((e) => e.experimentId).filter(Boolean))]
  await lockAll(deps.db, trx, [...customers.map((c) => lockKey('customer', c)), ...experimentIds.map((e) => lockKey('budget', e))])
  const budgeted = experimentIds.filter((id) => deps.experiments.get(id)?.experiment.budget)
  const counters = await deps.budgets.load(trx, budgeted)

  const open = experimentIds.length
    ? await sql<OpenIncentive>`
        select id, customer_id, experiment_id, arm, offer_type, reserved, issued_at from incentives
        where status = 'open' and customer_id = any(${customers}::text[]) and experiment_id = any(${experimentIds}::text[])
        order by issued_at desc`.execute(trx)
    : { rows: [] as OpenIncentive[] }
  const byPair = new Map<string, OpenIncentive[]>()
  for (const i of open.rows) {
    const key = `${i.customer_id}\u0000${i.experiment_id}`
    byPair.set(key, [...(byPair.get(key) ?? []), i])
  }
  const seen = new Set<string>()
  const matched = new Map<string, OpenIncentive>()
  const rows: RedemptionInput[] = []
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (seen.has(e.eventId)) continue
    seen.add(e.eventId)
    const candidates = byPair.get(`${e.customerId}\u0000${e.experimentId}`) ?? []
    const hit = candidates.find((i) => new Date(i.issued_at).getTime() <= e.at) ?? null
    if (hit) {
      candidates.splice(candidates.indexOf(hit), 1)
      matched.set(e.eventId, hit)
    }
    rows.push({
      eventId: e.eventId,
      customerId: e.customerId,
      experimentId: e.experimentId,
      arm: hit?.arm ?? e.arm,
      offerType: hit?.offer_type ?? e.armOfferType ?? 'unknown',
      cost: e.cost,
      at: e.at,
    })
  }
  const fresh = await insertRedemptions(trx, rows)
  const added = rows.filter((r) => fresh.has(r.eventId))
  if (!added.length) return []
  deps.ledger.forget(added.map((r) => r.customerId))

  const redeeming = added.filter((r) => matched.has(r.eventId))
  const redeemed = new Set<number>()
  if (redeeming.length) {
    // `status = 'open'` again: an expiry that won the row first released its reservation already.
    const updated = await sql<{ id: number }>`
      update incentives set status = 'redeemed', resolved_at = v.at
      from unnest(${redeeming.map((r) => matched.get(r.eventId)!.id)}::int8[], ${redeeming.map((r) => new Date(r.at).toISOString())}::timestamptz[]) as v(id, at)
      where incentives.id = v.id and incentives.status = 'open'
      returning incentives.id`.execute(trx)
    for (const u of updated.rows) redeemed.add(Number(u.id))
  }
  const deltas: CounterDelta[] = []
  for (const r of added) {
    if (!counters.has(r.experimentId)) continue
    const hit = matched.get(r.eventId)
    const released = hit && redeemed.has(Number(hit.id)) ? hit : null
    deltas.push({
      experimentId: r.experimentId,
      arm: r.arm,
      spent: r.cost,
      redemptions: 1,
      ...(released ? { reserved: -Number(released.reserved), redeemed: 1 } : {}),
    })
    const arms = counters.get(r.experimentId)!
    const c = arms.get(r.arm) ?? { spent: 0, redemptions: 0, reserved: 0, redeemed: 0, expired: 0 }
    c.spent += r.cost
    if (released) c.reserved -= Number(released.reserved)
    arms.set(r.arm, c)
  }
  await deps.budgets.apply(trx, deltas)
  for (const id of budgeted) {
    const budget = deps.experiments.get(id)?.experiment.budget
    if (budget && totalOf(counters.get(id)!).spent >= budget.amount) reached.add(id)
  }
  return added
}
