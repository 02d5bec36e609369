import { sql, type Kysely } from 'kysely'

/**
 * Destinations, alert rules, the notification outbox and the digest schedule (issue 21). The outbox is the only
 * record of a notification to send: a process that dies between enqueueing and delivering leaves the row for the
 * next worker, and the idempotency key makes a second enqueue of the same notification a no-op.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notification_destinations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    // What may be shown: the webhook URL, email recipients, a masked Slack URL.
    .addColumn('target', 'jsonb', (c) => c.notNull())
    // AES-256-GCM of the secrets (signing secret, Slack URL, SMTP password), never returned.
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('alert_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('experiment_id', 'text')
    .addColumn('destination_ids', 'jsonb', (c) => c.notNull())
    .addColumn('params', 'jsonb', (c) => c.notNull())
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute()

  // The last state each rule saw per subject (an experiment, or 'program'): an alert fires on a change only.
  await db.schema
    .createTable('alert_states')
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('evaluated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('alert_states_pk', ['rule_id', 'subject'])
    .execute()

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('previous_state', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('link', 'text', (c) => c.notNull())
    .addColumn('fired_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('alerts_fired_at').on('alerts').column('fired_at').execute()

  await db.schema
    .createTable('notification_outbox')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('destination_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('message', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
    // A worker's claim: another process skips the row until this passes (a crashed worker's claim lapses).
    .addColumn('locked_until', 'timestamptz')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('delivered_at', 'timestamptz')
    .execute()
  await db.schema.createIndex('notification_outbox_due').on('notification_outbox').columns(['status', 'next_attempt_at']).execute()

  await db.schema
    .createTable('notification_attempts')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('outbox_id', 'integer', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('notification_attempts_outbox').on('notification_attempts').column('outbox_id').execute()

  await db.schema
    .createTable('digest_schedule')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('enabled', 'boolean', (c) => c.notNull())
    .addColumn('day_of_week', 'integer', (c) => c.notNull())
    .addColumn('hour_utc', 'integer', (c) => c.notNull())
    .addColumn('period_days', 'integer', (c) => c.notNull())
    .addColumn('destination_ids', 'jsonb', (c) => c.notNull())
    .addColumn('last_sent_for', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db
    .insertInto('digest_schedule')
    .values({ id: 'weekly', enabled: false, day_of_week: 1, hour_utc: 8, period_days: 90, destination_ids: JSON.stringify([]), updated_at: sql`now()` })
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['digest_schedule', 'notification_attempts', 'notification_outbox', 'alerts', 'alert_states', 'alert_rules', 'notification_destinations'])
    await db.schema.dropTable(table).ifExists().execute()
}
