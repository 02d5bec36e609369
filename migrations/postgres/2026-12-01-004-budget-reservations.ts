import { sql, type Kysely } from 'kysely'

/**
 * Shared decisioning state (issue 19): budget reservations on issued incentives, per-arm budget counters, the
 * per-customer ledger version that tells a process its cached ledger is stale, and NOTIFY on config changes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Each issued incentive carries its reservation: `reserved` is held against the budget while `status` is open,
  // becomes spend on redemption and is released when the offer expires (docs/decisioning.md).
  await db.schema
    .alterTable('incentives')
    .addColumn('reserved', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('unit_cost', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
    // Null: an incentive written without a validity (by hand, or before this migration) never expires.
    .addColumn('expires_at', 'timestamptz')
    .addColumn('resolved_at', 'timestamptz')
    .execute()
  await sql`update incentives set expires_at = issued_at + interval '14 days'`.execute(db)
  await sql`update incentives set status = 'expired', resolved_at = expires_at where expires_at <= now()`.execute(db)
  await sql`create index incentives_open_expiry on incentives (expires_at) where status = 'open'`.execute(db)
  await sql`create index incentives_open_customer on incentives (customer_id, experiment_id) where status = 'open'`.execute(db)
  await db.schema
    .alterTable('redemptions')
    .addColumn('arm', 'text', (c) => c.notNull().defaultTo(''))
    .execute()

  // Budget counters per experiment and arm, changed only in transactions that hold the experiment's budget lock
  // (api/decisioning/locks.ts). The row with arm '' marks an experiment whose counters are initialised.
  await db.schema
    .createTable('budget_arms')
    .addColumn('experiment_id', 'text', (c) => c.notNull())
    .addColumn('arm', 'text', (c) => c.notNull())
    .addColumn('spent', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('reserved', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('redemptions', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('redeemed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expired', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('budget_arms_pk', ['experiment_id', 'arm'])
    .execute()

  // A customer's ledger version, bumped by the database itself on every statement that adds to their incentives
  // or redemptions, whoever writes them: a process reuses its cached ledger only while the version is unchanged.
  await db.schema
    .createTable('ledger_versions')
    .addColumn('customer_id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute()
  await sql`insert into ledger_versions (customer_id, version)
    select customer_id, 1 from (select customer_id from incentives union select customer_id from redemptions) c`.execute(db)
  await sql`create function bump_ledger_versions() returns trigger language plpgsql as $$
    begin
      insert into ledger_versions (customer_id, version)
        select distinct customer_id, 1 from changed
        on conflict (customer_id) do update set version = ledger_versions.version + 1;
      return null;
    end $$`.execute(db)
  for (const table of ['incentives', 'redemptions'])
    await sql`create trigger ${sql.raw(`${table}_ledger_version`)} after insert on ${sql.table(table)}
      referencing new table as changed for each statement execute function bump_ledger_versions()`.execute(db)

  // Config changes reach every process at once (api/decisioning/config-changes.ts); the poll stays as the fallback.
  await sql`create function notify_config_change() returns trigger language plpgsql as $$
    begin
      perform pg_notify('retention_config', TG_TABLE_NAME);
      return null;
    end $$`.execute(db)
  for (const table of ['experiments', 'policies', 'triggers', 'settings'])
    await sql`create trigger ${sql.raw(`${table}_notify_config`)} after insert or update or delete on ${sql.table(table)}
      for each statement execute function notify_config_change()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['experiments', 'policies', 'triggers', 'settings'])
    await sql`drop trigger if exists ${sql.raw(`${table}_notify_config`)} on ${sql.table(table)}`.execute(db)
  await sql`drop function if exists notify_config_change()`.execute(db)
  for (const table of ['incentives', 'redemptions']) await sql`drop trigger if exists ${sql.raw(`${table}_ledger_version`)} on ${sql.table(table)}`.execute(db)
  await sql`drop function if exists bump_ledger_versions()`.execute(db)
  await db.schema.dropTable('ledger_versions').ifExists().execute()
  await db.schema.dropTable('budget_arms').ifExists().execute()
  await db.schema.alterTable('redemptions').dropColumn('arm').execute()
  await sql`drop index if exists incentives_open_expiry`.execute(db)
  await sql`drop index if exists incentives_open_customer`.execute(db)
  await db.schema
    .alterTable('incentives')
    .dropColumn('reserved')
    .dropColumn('unit_cost')
    .dropColumn('status')
    .dropColumn('expires_at')
    .dropColumn('resolved_at')
    .execute()
}
