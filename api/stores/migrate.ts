import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Migrator } from 'kysely'
import { postgresMigrations } from '../../migrations/postgres/index.ts'
import type { Db } from './postgres.ts'
import type { ClickHouse } from './clickhouse.ts'
import { tuneEmbeddedTables } from './embedded-tuning.ts'

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations')

/** Applies pending Postgres migrations (Kysely Migrator over migrations/postgres/index.ts). Idempotent. */
export async function migratePostgres(db: Db): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => postgresMigrations },
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error instanceof Error ? error : new Error(String(error))
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/**
 * Rewrites one single-server CREATE TABLE into its cluster form: a Replicated* local table ON CLUSTER and a
 * Distributed table under the original name, sharded by customer so that one customer's rows (and the copies
 * of one event) always land on the same shard, where ReplacingMergeTree can collapse them.
 */
export function clusterDdl(statement: string, cluster: string): string[] {
  const quoted = `'${cluster.replace(/'/g, "''")}'`
  // Indexes and settings belong to the replicated local tables, not to the Distributed table in front of them.
  const alter = /^ALTER TABLE (\w+)/.exec(statement)
  if (alter) {
    const local = statement.replace(alter[0], `ALTER TABLE ${alter[1]}_local ON CLUSTER ${quoted}`)
    // A new column must also exist in the Distributed table, or queries through it cannot name the column.
    // (A MATERIALIZED one is computed by the shards: the Distributed table forwards only the columns sent.)
    if (/^ALTER TABLE \w+ ADD COLUMN /.test(statement)) return [local, statement.replace(alter[0], `ALTER TABLE ${alter[1]} ON CLUSTER ${quoted}`)]
    return [local]
  }
  // A view is one per shard under its own name; a table is the Distributed one and the local tables behind it.
  // SYNC: a table rebuilt under the same name later must not meet the old one's replica path still in use.
  const drop = /^DROP (VIEW|TABLE) IF EXISTS (\w+)$/.exec(statement)
  if (drop) {
    const [, kind, name] = drop
    if (kind === 'VIEW') return [`DROP VIEW IF EXISTS ${name} ON CLUSTER ${quoted} SYNC`]
    return [`DROP TABLE IF EXISTS ${name} ON CLUSTER ${quoted} SYNC`, `DROP TABLE IF EXISTS ${name}_local ON CLUSTER ${quoted} SYNC`]
  }
  // A materialised view fires on inserts into the shard's local table and writes to the shard's local target:
  // both are sharded by customer, so each customer's rows meet on one shard.
  const view = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS/.exec(statement)
  if (view) {
    return [
      statement
        .replace(view[0], `CREATE MATERIALIZED VIEW IF NOT EXISTS ${view[1]} ON CLUSTER ${quoted} TO ${view[2]}_local AS`)
        .replace(/\bFROM (\w+)/, (_all, source: string) => `FROM ${source}_local`),
    ]
  }
  const m = /CREATE TABLE IF NOT EXISTS (\w+)/.exec(statement)
  if (!m) return [statement]
  const table = m[1]
  const local = `${table}_local`
  const localDdl = statement
    .replace(`CREATE TABLE IF NOT EXISTS ${table}`, `CREATE TABLE IF NOT EXISTS ${local} ON CLUSTER ${quoted}`)
    .replace(
      /ENGINE = (\w*MergeTree)(\(\))?/,
      (_all, engine: string) => `ENGINE = Replicated${engine}('/clickhouse/tables/{shard}/{database}/${local}', '{replica}')`,
    )
  const distributed =
    `CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER ${quoted} AS ${local} ` +
    `ENGINE = Distributed(${quoted}, currentDatabase(), ${local}, cityHash64(customer_id))`
  return [localDdl, distributed]
}

/**
 * Inserts over HTTP carry an insert_deduplication_token so that a retry after a dropped connection is stored once
 * (stores/clickhouse-retry.ts). Replicated tables (cluster mode) remember recent tokens by default; a single
 * server's MergeTree tables only with this setting. Re-applied at every start: cheap and idempotent.
 */
async function keepInsertTokens(ch: ClickHouse) {
  for (const table of ['events', 'exposures', 'suppressions'])
    await ch.client.command({ query: `ALTER TABLE ${table} MODIFY SETTING non_replicated_deduplication_window = 1000` })
}

/** Applies pending ClickHouse migrations (migrations/clickhouse/*.sql, in name order). Idempotent. */
export async function migrateClickHouse(ch: ClickHouse): Promise<string[]> {
  const onCluster = ch.cluster ? ` ON CLUSTER '${ch.cluster.replace(/'/g, "''")}'` : ''
  const engine = ch.cluster ? `ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/schema_migrations', '{replica}')` : 'MergeTree'
  await ch.client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations${onCluster} (name String, applied_at DateTime64(3, 'UTC')) ENGINE = ${engine} ORDER BY name`,
  })
  const applied = new Set(
    (await (await ch.client.query({ query: 'SELECT name FROM schema_migrations', format: 'JSONEachRow' })).json<{ name: string }>()).map((r) => r.name),
  )
  const files = (await fs.readdir(path.join(migrationsDir, 'clickhouse'))).filter((f) => f.endsWith('.sql')).sort()
  const done: string[] = []
  for (const file of files) {
    if (applied.has(file)) continue
    const text = await fs.readFile(path.join(migrationsDir, 'clickhouse', file), 'utf8')
    const statements = text
      .split(/;\s*(?:\n|$)/)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
      .filter(Boolean)
    for (const statement of statements) {
      for (const q of ch.cluster ? clusterDdl(statement, ch.cluster) : [statement]) await ch.client.command({ query: q })
    }
    await ch.client.insert({ table: 'schema_migrations', values: [{ name: file, applied_at: Date.now() }], format: 'JSONEachRow' })
    done.push(file)
  }
  if (ch.embedded) await tuneEmbeddedTables(ch)
  else if (!ch.cluster) await keepInsertTokens(ch)
  return done
}
