import type { ClickHouse } from '../stores/clickhouse.ts'
import { InsertBatcher } from './batcher.ts'
import type { EventRow } from './event-schema.ts'

export interface EventWriterOptions {
  /** Rows buffered (queued + in flight) before requests are refused with 503 + Retry-After. */
  maxPendingRows?: number
  /** How many recent event ids this process remembers to report duplicates without a query. */
  recentIds?: number
  /** Rows per ClickHouse insert. */
  maxBatchRows?: number
}

/**
 * Writes events exactly once as far as any query can tell. Three layers:
 * 1. within a request, a repeated eventId is a duplicate;
 * 2. across requests, ids written (or being written) by this process are remembered; a copy of an event
 *    still in flight waits for that write, so its acknowledgement never precedes the durable insert;
 * 3. in storage, events are a ReplacingMergeTree keyed by (customer_id, event_id) read with FINAL, so copies
 *    that slip past 1–2 (another process, a restart) still count once.
 */
export class EventWriter {
  readonly batcher: InsertBatcher<EventRow>
  private recent = new Map<string, Promise<void> | true>()
  private readonly recentCap: number

  constructor(ch: ClickHouse, opts: EventWriterOptions = {}) {
    this.recentCap = opts.recentIds ?? 500_000
    this.batcher = new InsertBatcher<EventRow>({
      write: async (rows) => {
        await ch.client.insert({ table: 'events', values: rows, format: 'JSONEachRow' })
      },
      maxBatchRows: opts.maxBatchRows ?? 50_000,
      maxPendingRows: opts.maxPendingRows ?? 400_000,
      concurrency: ch.embedded ? 1 : 4,
    })
  }

  async write(rows: EventRow[]): Promise<{ accepted: number; duplicates: number }> {
    const fresh: EventRow[] = []
    const waits: Promise<void>[] = []
    const inRequest = new Set<string>()
    let duplicates = 0
    for (const row of rows) {
      const id = row.event_id
      if (inRequest.has(id)) {
        duplicates++
        continue
      }
      inRequest.add(id)
      const seen = this.recent.get(id)
      if (seen === undefined) fresh.push(row)
      else {
        duplicates++
        if (seen !== true) waits.push(seen)
      }
    }
    const write = this.batcher.add(fresh)
    for (const row of fresh) this.recent.set(row.event_id, write)
    try {
      await Promise.all([write, ...waits])
    } catch (error) {
      for (const row of fresh) if (this.recent.get(row.event_id) === write) this.recent.delete(row.event_id)
      throw error
    }
    for (const row of fresh) if (this.recent.get(row.event_id) === write) this.recent.set(row.event_id, true)
    this.trim()
    return { accepted: fresh.length, duplicates }
  }

  private trim() {
    if (this.recent.size <= this.recentCap) return
    let excess = this.recent.size - this.recentCap
    for (const key of this.recent.keys()) {
      if (excess-- <= 0) break
      this.recent.delete(key)
    }
  }

  close() {
    return this.batcher.close()
  }
}
