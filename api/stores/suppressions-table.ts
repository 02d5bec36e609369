import type { ClickHouseClient } from '@clickhouse/client'
import type { ClickHouse } from './clickhouse.ts'
import { deduplicationSetting } from './insert-journal.ts'

/** A decision that withheld an incentive, and why (the `suppressions` table). */
export interface SuppressionRow {
  experiment_id: string
  customer_id: string
  reason: string
  trigger_key: string
  tier: string
  ts: number
}

const insertInto = 'INSERT INTO suppressions (experiment_id, customer_id, reason, trigger_key, tier, ts)'
const insertSql = `${insertInto} FORMAT JSONCompactEachRow\n`
const tuple = (r: SuppressionRow) => [r.experiment_id, r.customer_id, r.reason, r.trigger_key, r.tier, r.ts]

export async function insertSuppressions(ch: ClickHouse, rows: SuppressionRow[]): Promise<void> {
  if (!rows.length) return
  const result = await ch.client.exec({ query: `${insertSql}${JSON.stringify(rows.map(tuple)).slice(1, -1)}` })
  result.stream.destroy()
}

/** One row as one JSONCompactEachRow line (the journal's format). */
export const suppressionLine = (r: SuppressionRow): string => JSON.stringify(tuple(r))

/** Inserts journaled lines through `client` (the journal's, without the read barrier); `token` deduplicates a repeat. */
export async function insertSuppressionLines(client: ClickHouseClient, lines: string, token: string): Promise<void> {
  const result = await client.exec({ query: `${insertInto} SETTINGS ${deduplicationSetting(token)} FORMAT JSONCompactEachRow\n${lines}` })
  result.stream.destroy()
}
