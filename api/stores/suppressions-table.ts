import type { ClickHouse } from './clickhouse.ts'

/** A decision that withheld an incentive, and why (the `suppressions` table). */
export interface SuppressionRow {
  experiment_id: string
  customer_id: string
  reason: string
  trigger_key: string
  tier: string
  ts: number
}

export async function insertSuppressions(ch: ClickHouse, rows: SuppressionRow[]): Promise<void> {
  if (!rows.length) return
  const result = await ch.client.exec({
    query: `INSERT INTO suppressions (experiment_id, customer_id, reason, trigger_key, tier, ts) FORMAT JSONCompactEachRow\n${JSON.stringify(rows.map((r) => [r.experiment_id, r.customer_id, r.reason, r.trigger_key, r.tier, r.ts])).slice(1, -1)}`,
  })
  result.stream.destroy()
}
