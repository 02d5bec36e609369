import { sql, type Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { recordAudit } from '../audit/log.ts'
import { emptyCounters, type ArmCounters } from './reservation.ts'

type Trx = Kysely<Database>

/** A change to one arm's counters. */
export type CounterDelta = { experimentId: string; arm: string } & Partial<ArmCounters>

/** One experiment's counters by arm, as read under its budget lock. */
export type BudgetCounters = Map<string, ArmCounters>

export const totalOf = (arms: BudgetCounters) => {
  let spent = 0
  let reserved = 0
  for (const c of arms.values()) {
    spent += c.spent
    reserved += c.reserved
  }
  return { spent, reserved }
}

/**
 * Budget counters in Postgres (`budget_arms`): spend and open reservations per experiment and arm, plus the
 * redeemed and expired counts behind each arm's redemption-rate estimate. They change only inside transactions
 * that hold the experiment's budget lock (locks.ts), so every process sees and enforces the same totals.
 * `spent()`/`reserved()` answer this process's latest view (for the metrics gauges), not a fresh read.
 */
export class BudgetBook {
  private seen = new Map<string, { spent: number; reserved: number }>()

  constructor(private readonly db: Kysely<Database>) {}

  spent(experimentId: string): number {
    return this.seen.get(experimentId)?.spent ?? 0
  }

  reserved(experimentId: string): number {
    return this.seen.get(experimentId)?.reserved ?? 0
  }

  /** Re-reads every experiment's totals (other processes change them too). */
  async refreshTotals(): Promise<void> {
    const rows = await this.db
      .selectFrom('budget_arms')
      .select(['experiment_id', (eb) => eb.fn.sum<number>('spent').as('spent'), (eb) => eb.fn.sum<number>('reserved').as('reserved')])
      .groupBy('experiment_id')
      .execute()
    this.seen = new Map(rows.map((r) => [r.experiment_id, { spent: Number(r.spent), reserved: Number(r.reserved) }]))
  }

  /**
   * The counters of these experiments, counted from the ledger the first time (an experiment that has just been
   * given a budget). Call holding their budget locks.
   */
  async load(trx: Trx, experimentIds: string[]): Promise<Map<string, BudgetCounters>> {
    const out = new Map<string, BudgetCounters>()
    if (!experimentIds.length) return out
    let rows = await trx.selectFrom('budget_arms').selectAll().where('experiment_id', 'in', experimentIds).execute()
    const missing = experimentIds.filter((id) => !rows.some((r) => r.experiment_id === id && r.arm === ''))
    if (missing.length) {
      await sql`
        insert into budget_arms (experiment_id, arm, spent, redemptions, reserved, redeemed, expired)
        select experiment_id, arm, sum(spent), sum(n), sum(reserved), sum(redeemed), sum(expired) from (
          select experiment_id, arm, cost as spent, 1 as n, 0::float8 as reserved, 0 as redeemed, 0 as expired
            from redemptions where experiment_id = any(${missing}::text[])
          union all
          select experiment_id, arm, 0, 0, case when status = 'open' then reserved else 0 end, (status = 'redeemed')::int, (status = 'expired')::int
            from incentives where experiment_id = any(${missing}::text[])
          union all
          select e, '', 0, 0, 0, 0, 0 from unnest(${missing}::text[]) as e
        ) x group by experiment_id, arm
        on conflict (experiment_id, arm) do nothing`.execute(trx)
      rows = await trx.selectFrom('budget_arms').selectAll().where('experiment_id', 'in', experimentIds).execute()
    }
    for (const id of experimentIds) out.set(id, new Map())
    for (const r of rows)
      out.get(r.experiment_id)!.set(r.arm, {
        spent: Number(r.spent),
        redemptions: Number(r.redemptions),
        reserved: Number(r.reserved),
        redeemed: Number(r.redeemed),
        expired: Number(r.expired),
      })
    for (const [id, arms] of out) this.seen.set(id, totalOf(arms))
    return out
  }

  /** Adds the deltas to the stored counters (one statement). Call holding the experiments' budget locks, after `load`. */
  async apply(trx: Trx, deltas: CounterDelta[]): Promise<void> {
    const merged = new Map<string, CounterDelta & ArmCounters>()
    for (const d of deltas) {
      const key = `${d.experimentId}\u0000${d.arm}`
      const m = merged.get(key) ?? { ...emptyCounters(), experimentId: d.experimentId, arm: d.arm }
      m.spent += d.spent ?? 0
      m.redemptions += d.redemptions ?? 0
      m.reserved += d.reserved ?? 0
      m.redeemed += d.redeemed ?? 0
      m.expired += d.expired ?? 0
      merged.set(key, m)
    }
    const list = [...merged.values()]
    if (!list.length) return
    const col = <K extends keyof ArmCounters>(k: K) => list.map((d) => d[k])
    await sql`
      insert into budget_arms as b (experiment_id, arm, spent, redemptions, reserved, redeemed, expired)
      select * from unnest(${list.map((d) => d.experimentId)}::text[], ${list.map((d) => d.arm)}::text[], ${col('spent')}::float8[],
        ${col('redemptions')}::int[], ${col('reserved')}::float8[], ${col('redeemed')}::int[], ${col('expired')}::int[])
      on conflict (experiment_id, arm) do update set spent = b.spent + excluded.spent, redemptions = b.redemptions + excluded.redemptions,
        reserved = greatest(0, b.reserved + excluded.reserved), redeemed = b.redeemed + excluded.redeemed, expired = b.expired + excluded.expired`.execute(trx)
    for (const d of list) {
      const t = this.seen.get(d.experimentId) ?? { spent: 0, reserved: 0 }
      this.seen.set(d.experimentId, { spent: t.spent + d.spent, reserved: Math.max(0, t.reserved + d.reserved) })
    }
  }

  /**
   * Marks an experiment's budget as reached the first time spend plus reservations reach it (audited): the
   * report compares only customers enrolled before then, since incentive arms pause while control goes on.
   * Returns whether it was marked just now.
   */
  async markReached(trx: Trx, experimentId: string, totals: { spent: number; reserved: number }, at: Date): Promise<boolean> {
    const r = await trx
      .updateTable('experiments')
      .set({ budget_exhausted_at: at, updated_at: at })
      .where('id', '=', experimentId)
      .where('budget_exhausted_at', 'is', null)
      .executeTakeFirst()
    if (!Number(r.numUpdatedRows)) return false
    await recordAudit(
      trx,
      {
        actor: 'system',
        action: 'experiment.budget_exhausted',
        entityType: 'experiment',
        entityId: experimentId,
        after: { spent: totals.spent, reserved: totals.reserved },
      },
      at,
    )
    return true
  }
}
