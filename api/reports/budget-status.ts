import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { KpiBudget } from '../contract/kpis.ts'

/**
 * Spend and open reservations of every running or paused experiment with a budget, for the overview: read from
 * Postgres on each call (they change with every decision and redemption, which no report cache key sees).
 */
export async function budgetStatus(db: Kysely<Database>, experiments: Experiment[]): Promise<KpiBudget[]> {
  const budgeted = experiments.filter((e) => e.budget && (e.status === 'running' || e.status === 'paused'))
  if (!budgeted.length) return []
  const ids = budgeted.map((e) => e.id)
  const [spent, open] = await Promise.all([
    db
      .selectFrom('redemptions')
      .select(['experiment_id', (eb) => eb.fn.sum<number>('cost').as('v')])
      .where('experiment_id', 'in', ids)
      .groupBy('experiment_id')
      .execute(),
    db
      .selectFrom('incentives')
      .select(['experiment_id', (eb) => eb.fn.sum<number>('reserved').as('v'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('experiment_id', 'in', ids)
      .where('status', '=', 'open')
      .groupBy('experiment_id')
      .execute(),
  ])
  return budgeted.map((e) => {
    const o = open.find((r) => r.experiment_id === e.id)
    return {
      experimentId: e.id,
      name: e.name,
      currency: e.budget!.currency,
      amount: e.budget!.amount,
      spent: Number(spent.find((r) => r.experiment_id === e.id)?.v ?? 0),
      reserved: Number(o?.v ?? 0),
      openOffers: Number(o?.n ?? 0),
    }
  })
}
