import type { Kysely } from 'kysely'

/** Destinations, alert rules, the notification outbox and digests (issue 21); filled in by that work. */
export async function up(_db: Kysely<any>): Promise<void> {}

export async function down(_db: Kysely<any>): Promise<void> {}
