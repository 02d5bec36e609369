import type { Kysely } from 'kysely'

/**
 * Segment definitions (issue 20, item 2): rules over customer features, every version kept and immutable once
 * written (a change is a new version), so a report or a profile can name the version it used.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('segment_definitions')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addColumn('archived', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_definitions_pk', ['key', 'version'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('segment_definitions').ifExists().execute()
}
