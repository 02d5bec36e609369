import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { DecisioningSummary } from '../contract/decisioning.ts'

/**
 * The decision layer's side of an experiment report: customers suppressed by reason (pacing, cooldown,
 * budget) up to asOf, incentive spend against the budget (Σ redemption costs, each event once) and the
 * reservations of the offers still open.
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
  const open = await db
    .selectFrom('incentives')
    .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('reserved'), eb.lit(0)).as('reserved'), eb.fn.countAll<number>().as('n')])
    .where('experiment_id', '=', exp.id)
    .where('status', '=', 'open')
    .executeTakeFirst()
  const reserved = Number(open?.reserved ?? 0)
  return {
    trigger: exp.trigger,
    priority: exp.priority,
    suppressions,
    budget: exp.budget
      ? {
          ...exp.budget,
          spent,
          reserved,
          openOffers: Number(open?.n ?? 0),
          remaining: Math.max(0, exp.budget.amount - spent - reserved),
          exhaustedAt: exp.budgetExhaustedAt,
        }
      : null,
    spent,
  }
}
