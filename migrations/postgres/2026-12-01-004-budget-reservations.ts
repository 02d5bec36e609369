import type { Kysely } from 'kysely'

/** Budget reservations and shared decisioning state (issue 19); filled in by that work. */
export async function up(_db: Kysely<any>): Promise<void> {}

export async function down(_db: Kysely<any>): Promise<void> {}
