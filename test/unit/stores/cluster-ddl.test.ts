import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { clusterDdl } from '../../../api/stores/migrate.ts'

const sql = (file: string) =>
  fs
    .readFileSync(path.resolve(import.meta.dirname, '../../../migrations/clickhouse', file), 'utf8')
    .replace(/^\s*--.*$/gm, '')
    .trim()

describe('ClickHouse cluster DDL', () => {
  it('turns a MergeTree table into a replicated local table plus a Distributed table sharded by customer', () => {
    const [local, distributed] = clusterDdl(sql('001_exposures.sql'), 'prod')
    expect(local).toContain("CREATE TABLE IF NOT EXISTS exposures_local ON CLUSTER 'prod'")
    expect(local).toContain("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/exposures_local', '{replica}')")
    expect(local).toContain('ORDER BY (experiment_id, customer_id, ts)')
    expect(distributed).toBe(
      "CREATE TABLE IF NOT EXISTS exposures ON CLUSTER 'prod' AS exposures_local ENGINE = Distributed('prod', currentDatabase(), exposures_local, cityHash64(customer_id))",
    )
  })

  it('keeps ReplacingMergeTree semantics for events so copies of an event collapse on their shard', () => {
    const [local] = clusterDdl(sql('002_events.sql'), 'prod')
    expect(local).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/events_local', '{replica}')")
    expect(local).toContain('ORDER BY (customer_id, event_id)')
  })

  it('sends ALTERs to the replicated local table on every node', () => {
    expect(clusterDdl('ALTER TABLE events ADD INDEX IF NOT EXISTS i event_id TYPE bloom_filter GRANULARITY 1', 'prod')).toEqual([
      "ALTER TABLE events_local ON CLUSTER 'prod' ADD INDEX IF NOT EXISTS i event_id TYPE bloom_filter GRANULARITY 1",
    ])
  })

  it('adds a new column to the local tables and to the Distributed table in front of them', () => {
    const [add, materialize] = sql('004_event_properties_map.sql')
      .split(/;\s*\n/)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    const [local, distributed] = clusterDdl(add, 'prod')
    expect(local).toMatch(/^ALTER TABLE events_local ON CLUSTER 'prod' ADD COLUMN IF NOT EXISTS properties_map Map\(String, String\) MATERIALIZED /)
    expect(distributed).toMatch(/^ALTER TABLE events ON CLUSTER 'prod' ADD COLUMN IF NOT EXISTS properties_map /)
    // Mutations run on the replicated tables only.
    expect(clusterDdl(materialize, 'prod')).toEqual(["ALTER TABLE events_local ON CLUSTER 'prod' MATERIALIZE COLUMN properties_map"])
  })

  it('rebuilds customer features with fine granules: the new table and view on every shard, the old ones dropped there', () => {
    const statements = sql('006_customer_timeline.sql')
      .split(/;\s*\n/)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    const [create, view, backfill, dropView, dropTable] = statements.map((s) => clusterDdl(s, 'prod'))
    expect(create[0]).toContain("ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/customer_timeline_local', '{replica}')")
    expect(create[0]).toContain('SETTINGS index_granularity = 64')
    expect(create[1]).toContain('ENGINE = Distributed(')
    expect(view[0]).toContain("CREATE MATERIALIZED VIEW IF NOT EXISTS customer_timeline_mv ON CLUSTER 'prod' TO customer_timeline_local AS")
    expect(view[0]).toContain('FROM events_local')
    // Through the Distributed table, which shards the rows by customer like the view does.
    expect(backfill).toEqual([statements[2]])
    expect(dropView).toEqual(["DROP VIEW IF EXISTS customer_history_mv ON CLUSTER 'prod' SYNC"])
    expect(dropTable).toEqual([
      "DROP TABLE IF EXISTS customer_history ON CLUSTER 'prod' SYNC",
      "DROP TABLE IF EXISTS customer_history_local ON CLUSTER 'prod' SYNC",
    ])
  })

  it('quotes the cluster name', () => {
    const [local] = clusterDdl(sql('003_suppressions.sql'), "o'neil")
    expect(local).toContain("ON CLUSTER 'o''neil'")
  })
})
