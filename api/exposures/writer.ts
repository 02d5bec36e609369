import type { ClickHouse } from '../stores/clickhouse.ts'
import { InsertBatcher } from '../stores/batcher.ts'
import { insertExposures, type ExposureRow } from '../stores/exposures-table.ts'

export type { ExposureRow }

/** Attributes are stored as Map(String, String); non-strings keep their JSON text so "3" and 3 stay apart. */
export function flattenAttributes(attributes: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!attributes) return out
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined) continue
    out[k] = typeof v === 'string' ? v : JSON.stringify(v)
  }
  return out
}

/** Exposures go through group commit: an assignment is answered only once its exposure row is durable. */
export function exposureWriter(ch: ClickHouse) {
  return new InsertBatcher<ExposureRow>({
    write: (rows) => insertExposures(ch, rows, { small: true }),
    maxBatchRows: 100_000,
    maxPendingRows: 1_000_000,
    concurrency: ch.embedded ? 1 : 4,
  })
}
export type ExposureWriter = ReturnType<typeof exposureWriter>
