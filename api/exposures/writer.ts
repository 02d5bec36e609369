import type { ClickHouse } from '../stores/clickhouse.ts'
import { InsertBatcher, type RowWriter } from '../stores/batcher.ts'
import { exposureLine, insertExposureLines, insertExposures, type ExposureRow } from '../stores/exposures-table.ts'

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

/**
 * An assignment is answered only once its exposure row is durable: in embedded chDB's journal
 * (stores/insert-journal.ts), or group-committed to a ClickHouse server.
 */
export function exposureWriter(ch: ClickHouse): RowWriter<ExposureRow> {
  const journals = ch.journals
  if (journals)
    return journals.open<ExposureRow>({
      table: 'exposures',
      line: exposureLine,
      insert: (lines, token) => insertExposureLines(journals.raw, lines, token),
      maxBatchRows: 100_000,
      maxPendingRows: 1_000_000,
    })
  return new InsertBatcher<ExposureRow>({
    write: (rows) => insertExposures(ch, rows, { small: true }),
    maxBatchRows: 100_000,
    maxPendingRows: 1_000_000,
    concurrency: 4,
  })
}
export type ExposureWriter = RowWriter<ExposureRow>
