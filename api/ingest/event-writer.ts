import type { ClickHouse } from '../stores/clickhouse.ts'
import { InsertBatcher } from './batcher.ts'
import type { EventRow } from './event-schema.ts'

const eventColumns = ['event_id', 'customer_id', 'type', 'ts', 'experiment_id', 'arm', 'revenue', 'margin', 'cost', 'order_id', 'properties'] as const
const insertEvents = `INSERT INTO events (${eventColumns.join(', ')}) FORMAT JSONCompactEachRow`

/**
 * The insert body in JSONCompactEachRow: positional rows parse about 1.5× faster in ClickHouse than keyed
 * objects, and one native JSON.stringify of all the tuples is ~4× faster than stringifying field by field.
 * The format accepts rows separated by commas, so only the outer brackets are dropped.
 */
export function eventsBody(rows: EventRow[]): string {
  return JSON.stringify(rows.map((r) => [r.event_id, r.customer_id, r.type, r.ts, r.experiment_id, r.arm, r.revenue, r.margin, r.cost, r.order_id, r.properties])).slice(1, -1)
}

export interface EventWriterOptions {
  /** Rows buffered (queued + in flight) before requests are refused with 503 + Retry-After. */
  maxPendingRows?: number
  /** How many recent event ids this process remembers to report duplicates without a query. */
  recentIds?: number
  /** Rows per ClickHouse insert. */
  maxBatchRows?: number
  /**
   * Look up each batch's ids in storage first, so that re-importing a file reports its rows as duplicates
   * (the bulk importer turns this on; the API relies on memory and query-time dedup to stay fast).
   */
  checkStored?: boolean
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
  /**
   * Ids this process has written or is writing, with the promise that settles when their insert is durable:
   * one lookup tells a new event from a copy, and a copy of an event still in flight waits for that insert.
   * Two generations of Maps, so forgetting the oldest half costs nothing.
   */
  private current = new Map<string, Promise<void>>()
  private previous = new Map<string, Promise<void>>()
  private readonly generationSize: number
  private readonly ch: ClickHouse
  private readonly checkStored: boolean

  constructor(ch: ClickHouse, opts: EventWriterOptions = {}) {
    this.ch = ch
    this.checkStored = opts.checkStored ?? false
    this.generationSize = Math.max(1, Math.floor((opts.recentIds ?? 100_000) / 2))
    this.batcher = new InsertBatcher<EventRow>({
      write: async (rows) => {
        // INSERT … FORMAT with the rows inline: @clickhouse/client would re-encode an array of rows itself.
        const result = await ch.client.exec({ query: `${insertEvents}\n${eventsBody(rows)}` })
        result.stream.destroy()
      },
      maxBatchRows: opts.maxBatchRows ?? 50_000,
      maxPendingRows: opts.maxPendingRows ?? 400_000,
      concurrency: ch.embedded ? 1 : 4,
    })
  }

  async write(rows: EventRow[]): Promise<{ accepted: number; duplicates: number }> {
    let settle!: { resolve(): void; reject(e: unknown): void }
    const durable = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
    // Nobody may be waiting when the write fails; the failure still reaches this request below.
    durable.catch(() => {})
    let fresh: EventRow[] = []
    const waits = new Set<Promise<void>>()
    let duplicates = 0
    for (const row of rows) {
      const id = row.event_id
      const known = this.current.get(id) ?? this.previous.get(id)
      if (known) {
        duplicates++
        // A copy within this request, or of an event already durable, needs no wait; one in flight does.
        if (known !== durable) waits.add(known)
        continue
      }
      this.current.set(id, durable)
      fresh.push(row)
    }
    const claimed = fresh
    if (this.checkStored && fresh.length) {
      const stored = await this.storedIds(fresh).catch((e) => {
        this.forget(claimed, durable)
        settle.reject(e)
        throw e
      })
      if (stored.size) {
        duplicates += stored.size
        fresh = fresh.filter((r) => !stored.has(r.event_id))
      }
    }
    this.batcher.add(fresh).then(settle.resolve, (e) => {
      // Not stored: a retry of these events must be written, not reported as a duplicate.
      this.forget(claimed, durable)
      settle.reject(e)
    })
    await Promise.all([durable, ...waits])
    if (this.current.size >= this.generationSize) {
      this.previous = this.current
      this.current = new Map()
    }
    return { accepted: fresh.length, duplicates }
  }

  private forget(rows: EventRow[], durable: Promise<void>) {
    for (const r of rows) {
      if (this.current.get(r.event_id) === durable) this.current.delete(r.event_id)
      if (this.previous.get(r.event_id) === durable) this.previous.delete(r.event_id)
    }
  }

  private async storedIds(rows: EventRow[]): Promise<Set<string>> {
    // The sorting key starts with customer_id, so filtering on both keeps this an index lookup.
    const result = await this.ch.client.query({
      query: 'SELECT DISTINCT event_id FROM events WHERE customer_id IN {customers:Array(String)} AND event_id IN {ids:Array(String)}',
      query_params: { customers: [...new Set(rows.map((r) => r.customer_id))], ids: rows.map((r) => r.event_id) },
      format: 'JSONEachRow',
    })
    return new Set((await result.json<{ event_id: string }>()).map((r) => r.event_id))
  }

  close() {
    return this.batcher.close()
  }
}
