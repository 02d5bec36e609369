import { sql, type Kysely } from 'kysely'

/** Triggers, pacing/fatigue policies, the incentive ledger and experiment budgets (issue: offer decisioning). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('triggers')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('tiers', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('offer_types', 'jsonb', (c) => c.notNull())
    .addColumn('max_incentives', 'integer')
    .addColumn('window_days', 'double precision')
    .addColumn('cooldown_days', 'double precision')
    .addColumn('min_gap_hours', 'double precision')
    .addColumn('quiet_hours', 'jsonb')
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()

  // Every incentive issued by /v1/decide: the pacing ledger, durable before the answer.
  await db.schema
    .createTable('incentives')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('experiment_id', 'text', (c) => c.notNull())
    .addColumn('arm', 'text', (c) => c.notNull())
    .addColumn('offer_type', 'text', (c) => c.notNull())
    .addColumn('trigger_key', 'text', (c) => c.notNull())
    .addColumn('tier', 'text')
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('incentives_customer').on('incentives').columns(['customer_id', 'issued_at']).execute()

  // Redemptions seen by ingestion, keyed by event id so a resent event changes nothing: cooldowns and spend.
  await db.schema
    .createTable('redemptions')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('experiment_id', 'text', (c) => c.notNull())
    .addColumn('offer_type', 'text', (c) => c.notNull())
    .addColumn('cost', 'double precision', (c) => c.notNull())
    .addColumn('redeemed_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('redemptions_customer').on('redemptions').columns(['customer_id', 'redeemed_at']).execute()
  await db.schema.createIndex('redemptions_experiment').on('redemptions').column('experiment_id').execute()

  await db.schema
    .alterTable('experiments')
    .addColumn('trigger_key', 'text')
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(100))
    .addColumn('budget', 'jsonb')
    .addColumn('budget_exhausted_at', 'timestamptz')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('experiments').dropColumn('trigger_key').dropColumn('priority').dropColumn('budget').dropColumn('budget_exhausted_at').execute()
  for (const t of ['redemptions', 'incentives', 'policies', 'triggers']) await db.schema.dropTable(t).ifExists().execute()
}
