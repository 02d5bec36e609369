import type { Kysely } from 'kysely'

/**
 * Rows received by POST /v1/events per minute, summed over every API process (issue 21, the ingestion rejection
 * alert): each process's in-memory Prometheus counters die with it and cannot be added up by the scheduler, so the
 * ingest path adds one request's totals here in one upsert. Minutes rather than hours so that "the last hour" is a
 * sliding window, not the clock hour so far.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ingest_minutes')
    .addColumn('minute', 'timestamptz', (c) => c.primaryKey())
    .addColumn('accepted', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('duplicates', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('rejected', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ingest_minutes').ifExists().execute()
}
