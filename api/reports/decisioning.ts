import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { DecisioningSummary } from '../contract/decisioning.ts'

/**
 * The decision layer's side of an experiment report: customers suppressed by reason (pacing, cooldown,
 * budget) up to asOf, and incentive spend against the budget (Σ redemption costs, each event once).
 */
export async function decisioningSummary(ch: ClickHouse, db: Kysely<Database>, exp: Experiment, asOf: number): Promise<DecisioningSummary> {
  const r = await ch.client.query({
    query: `SELECT reason, uniqExact(customer_id) AS n FROM suppressions WHERE experiment_id = {exp:String} AND ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') GROUP BY reason ORDER BY reason`,
    query_params: { exp: exp.id, asOf },
    format: 'JSONEachRow',
  })
  const suppressions = Object.fromEntries((await r.json<{ reason: string; n: string }>()).map((row) => [row.reason, Number(row.n)]))
  const spend = await db
    .selectFrom('redemptions')
    .select((eb) => eb.fn.sum<number>('cost').as('spent'))
    .where('experiment_id', '=', exp.id)
    .executeTakeFirst()
  const spent = Number(spend?.spent ?? 0)
  return {
    trigger: exp.trigger,
    priority: exp.priority,
    suppressions,
    budget: exp.budget ? { ...exp.budget, spent, remaining: Math.max(0, exp.budget.amount - spent), exhaustedAt: exp.budgetExhaustedAt } : null,
    spent,
  }
}
