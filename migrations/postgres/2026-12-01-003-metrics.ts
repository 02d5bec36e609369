import { sql, type Kysely } from 'kysely'

/**
 * The metric catalogue (issue 17): every version of every definition, immutable once written (a change is a new
 * version), so a report can name the version it used and reproduce it later.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('metric_definitions')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addColumn('built_in', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('archived', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('metric_definitions_pk', ['key', 'version'])
    .execute()

  // The eleven metrics reports computed before the catalogue, as read-only entries: the report code still computes
  // them (api/reports/metric-definitions.ts). Copied here rather than imported, so that this migration seeds the
  // same rows whenever it runs. Survival metrics are the catalogue's time_to_event kind.
  const builtIns: Array<[key: string, name: string, kind: string, format: string, direction: string, description: string]> = [
    ['redemption', 'Redemption rate', 'proportion', 'percent', 'higher', "redeemed this experiment's offer in the window"],
    ['reactivation', 'Reactivation rate', 'proportion', 'percent', 'higher', 'made at least one purchase in the window'],
    ['repeat_purchase', 'Repeat-purchase rate', 'proportion', 'percent', 'higher', 'made at least two purchases in the window'],
    ['revenue', 'Revenue per customer', 'mean', 'currency', 'higher', 'purchase revenue minus refunds in the window'],
    ['ltv', 'LTV per customer', 'mean', 'currency', 'higher', 'purchase revenue minus refunds over the LTV window'],
    ['orders', 'Orders per customer', 'mean', 'number', 'higher', 'purchases in the window'],
    ['aov', 'Average order value', 'ratio', 'currency', 'higher', 'purchase revenue / purchases in the window (delta method)'],
    ['incentive_cost', 'Incentive cost per customer', 'mean', 'currency', 'lower', 'sum of redemption costs in the window'],
    ['net_value', 'Net value per customer', 'mean', 'currency', 'higher', 'margin (or revenue × default margin rate) net of refunds, minus incentive cost'],
    [
      'time_to_purchase',
      'Time to first purchase',
      'time_to_event',
      'days',
      'lower',
      'days from first exposure to first purchase (Kaplan–Meier; restricted mean within the window)',
    ],
    [
      'time_to_repurchase',
      'Time to repurchase',
      'time_to_event',
      'days',
      'lower',
      'for customers who purchased in the window: days from that first purchase to the next, followed for as long as the window (Kaplan–Meier; restricted mean)',
    ],
    ['unsubscribe', 'Unsubscribe rate', 'proportion', 'percent', 'lower', 'unsubscribed in the window (guardrail)'],
  ]
  await db
    .insertInto('metric_definitions')
    .values(
      builtIns.map(([key, name, kind, format, direction, description]) => ({
        key,
        version: 1,
        definition: JSON.stringify({ key, name, description, owner: '', tags: [], kind, format, direction, builtIn: true }),
        built_in: true,
        archived: false,
        created_at: sql`now()`,
        created_by: 'system',
      })),
    )
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('metric_definitions').ifExists().execute()
}
