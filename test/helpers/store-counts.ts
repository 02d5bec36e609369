import { sql, type Kysely } from 'kysely'
import type { Database } from '../../api/stores/schema.ts'
import type { ClickHouse } from '../../api/stores/clickhouse.ts'

/**
 * Tables that count refusals themselves, so a refused request must write there: `ingest_minutes` adds up rejected
 * event rows for the ingestion alert (issue 21), which could not otherwise see an integration sending only bad rows.
 * Like a Prometheus counter, they hold no data a later request reads as its own.
 */
const REFUSALS_COUNTED = ['ingest_minutes']

/** `table → "rows/digest"` for every table of both stores: equal snapshots mean nothing was written. */
export type StoreSnapshot = Record<string, string>

/**
 * Counts rows in every Postgres table of the current schema and every MergeTree table of the current ClickHouse
 * database, one query per store, with a digest of the rows where a write could leave the count as it was (an
 * update in place in Postgres, a replaced row in ClickHouse). The tables are listed from the stores themselves,
 * so a table added by a migration is counted without touching this file. ReplacingMergeTree tables are read
 * with FINAL: a background merge collapsing resent copies must not look like a write.
 */
export async function openStoreCounter(db: Kysely<Database>, ch: ClickHouse) {
  const pgTables = (
    await sql<{ name: string }>`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db)
  ).rows
    .map((r) => r.name)
    .filter((t) => !REFUSALS_COUNTED.includes(t))
  const chTables = await (
    await ch.client.query({
      query: "SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' ORDER BY name",
      format: 'JSONEachRow',
    })
  ).json<{ name: string; engine: string }>()

  const pgQuery = sql<Record<string, string>>`select ${sql.join(
    pgTables.map((t) => sql`(select count(*) || '/' || coalesce(sum(hashtext(x::text)), 0) from ${sql.table(t)} as x) as ${sql.id(`pg.${t}`)}`),
  )}`
  // ClickHouse rows are only ever inserted: in a plain MergeTree an insert always shows in the count; in a
  // Replacing one a resent row can replace another, so only a digest of the rows shows it.
  const chQuery = `SELECT ${chTables
    .map(({ name, engine }) => {
      const replacing = /^(Replacing|Collapsing|VersionedCollapsing)/.test(engine)
      // An aggregating table (customer_timeline) is written only by a materialized view over another table counted
      // here; read with FINAL, its rows are its keys, which a background merge cannot change (its raw row count can).
      const aggregating = /^Aggregating/.test(engine)
      const rows = replacing ? `toString(count()) || '/' || toString(sum(cityHash64(*)))` : 'toString(count())'
      return `(SELECT ${rows} FROM \`${name}\`${replacing || aggregating ? ' FINAL' : ''}) AS \`ch.${name}\``
    })
    .join(', ')}`

  return {
    pgTables,
    chTables: chTables.map((t) => t.name),
    async snapshot(): Promise<StoreSnapshot> {
      const [pg, chRows] = await Promise.all([
        pgQuery.execute(db),
        ch.client.query({ query: chQuery, format: 'JSONEachRow' }).then((r) => r.json<Record<string, string>>()),
      ])
      return { ...pg.rows[0], ...chRows[0] }
    },
  }
}

/** The tables whose rows differ between two snapshots, as `table: before → after` (row counts first). */
export function changedTables(before: StoreSnapshot, after: StoreSnapshot): string[] {
  return Object.keys({ ...before, ...after })
    .filter((t) => before[t] !== after[t])
    .map((t) => `${t}: ${before[t]} → ${after[t]}`)
}
