import { sql, type Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'

const MINUTE = 60_000

/** Rows POST /v1/events answered: stored, already stored (duplicates) and refused by row. */
export interface IngestCounts {
  accepted: number
  duplicates: number
  rejected: number
}

/**
 * Adds one answered request's rows to the counters of its minute (`ingest_minutes`), shared by every API process:
 * one upsert per request whatever its size, so the hot path pays one short statement.
 * @example await countIngested(db, { accepted: 998, duplicates: 0, rejected: 2 }, new Date())
 */
export async function countIngested(db: Kysely<Database>, counts: IngestCounts, at: Date): Promise<void> {
  if (counts.accepted + counts.duplicates + counts.rejected === 0) return
  await db
    .insertInto('ingest_minutes')
    .values({ minute: new Date(Math.floor(at.getTime() / MINUTE) * MINUTE), ...counts })
    .onConflict((oc) =>
      oc.column('minute').doUpdateSet({
        accepted: sql`ingest_minutes.accepted + excluded.accepted`,
        duplicates: sql`ingest_minutes.duplicates + excluded.duplicates`,
        rejected: sql`ingest_minutes.rejected + excluded.rejected`,
      }),
    )
    .execute()
}

/**
 * Rows answered from the minute containing `from` through the one containing `to`, across every process.
 * @example const lastHour = await ingestedBetween(db, new Date(now - 3_600_000), new Date(now))
 */
export async function ingestedBetween(db: Kysely<Database>, from: Date, to: Date): Promise<IngestCounts> {
  const r = await db
    .selectFrom('ingest_minutes')
    .select([
      sql<string>`coalesce(sum(accepted), 0)`.as('accepted'),
      sql<string>`coalesce(sum(duplicates), 0)`.as('duplicates'),
      sql<string>`coalesce(sum(rejected), 0)`.as('rejected'),
    ])
    .where('minute', '>=', new Date(Math.floor(from.getTime() / MINUTE) * MINUTE))
    .where('minute', '<=', to)
    .executeTakeFirst()
  return { accepted: Number(r?.accepted ?? 0), duplicates: Number(r?.duplicates ?? 0), rejected: Number(r?.rejected ?? 0) }
}

/** Drops the minutes before `before`: only the last hour is read, so a few days is plenty to look back at by hand. */
export async function pruneIngestCounts(db: Kysely<Database>, before: Date): Promise<void> {
  await db.deleteFrom('ingest_minutes').where('minute', '<', before).execute()
}
