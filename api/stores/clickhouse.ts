import fs from 'node:fs'
import path from 'node:path'
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client'
import type { Config } from '../config.ts'
import { withRetries } from './clickhouse-retry.ts'
import { ClickHouseClientLog } from '../observability/clickhouse-client-log.ts'
import { JournalSet } from './journal-set.ts'
import { statementSettings } from './chdb-settings.ts'

export interface ClickHouse {
  client: ClickHouseClient
  /** Cluster name when DDL must run ON CLUSTER with replicated tables. */
  cluster: string | null
  embedded: boolean
  /** Embedded only: the journals exposures and suppressions are acknowledged from (stores/insert-journal.ts). */
  journals: JournalSet | null
  close(): Promise<void>
}

/** The data-plane store: a ClickHouse server over HTTP when `url` is set, else chDB in `<dataDir>/ch`. */
export async function openClickHouse(opts: { clickhouse: Config['clickhouse']; dataDir: string }): Promise<ClickHouse> {
  const ch = opts.clickhouse
  if (ch.url) {
    // Reads and deduplicated inserts are retried on a dropped connection or a proxy's 503 (stores/clickhouse-retry.ts).
    const client = withRetries(
      createClient({
        url: ch.url,
        username: ch.username,
        password: ch.password,
        database: ch.database,
        request_timeout: 300_000,
        clickhouse_settings: { date_time_input_format: 'best_effort' },
        log: { LoggerClass: ClickHouseClientLog, level: ClickHouseLogLevel.WARN },
      }),
    )
    return { client, cluster: ch.cluster, embedded: false, journals: null, close: () => client.close() }
  }
  const dir = path.join(opts.dataDir, 'ch')
  fs.mkdirSync(dir, { recursive: true })
  // chdb is loaded lazily so that a deployment on a ClickHouse server never loads the native engine.
  const { createChdbConnection } = await import('chdb/connection')
  const raw = createClient({ connection: createChdbConnection({ path: dir }) } as Parameters<typeof createClient>[0])
  // Every read goes through the journals' barrier, so that it sees the rows acknowledged before it.
  const journals = new JournalSet(path.join(opts.dataDir, 'journal'), raw)
  // …and carries its settings in the statement, not in chDB's session (stores/chdb-settings.ts).
  return { client: statementSettings(journals.guard()), cluster: null, embedded: true, journals, close: () => raw.close() }
}
