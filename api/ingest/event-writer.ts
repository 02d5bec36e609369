import type { ClickHouse } from '../stores/clickhouse.ts'
import { InsertBatcher } from '../stores/batcher.ts'
import { StoreError } from '../stores/errors.ts'
import { countEvents, insertEvents, storedEventIds, storedEventsById, type EventRow } from '../stores/events-table.ts'
import { SeenIds } from './seen-ids.ts'
import { errorFields, log } from '../observability/log.ts'

export interface EventWriterOptions {
  /** Rows buffered (queued + in flight) before requests are refused with 503 + Retry-After. */
  maxPendingRows?: number
  /** How many recent events this process keeps in memory to answer copies without a query. */
  recentIds?: number
  /** Rows per ClickHouse insert. */
  maxBatchRows?: number
}

export interface WriteResult {
  /** New events, durably stored. */
  accepted: number
  /** Copies of stored events (same eventId, same payload): not stored again. */
  duplicates: number
  /** Positions (in the rows given) of events whose eventId is already stored with a different payload. */
  conflicts: number[]
}

interface Known {
  row: EventRow
  /** Settles when the insert holding `row` is durable (already settled for rows read back from storage). */
  durable: Promise<void>
}

const STORED: Promise<void> = Promise.resolve()
/** Ids read per query when the stored ids are loaded at start, so that no single answer holds them all. */
const LOAD_SLICE = 500_000

/** Every stored column but the id: an eventId names one event, and a copy must match it in all of them. */
export function samePayload(a: EventRow, b: EventRow): boolean {
  return (
    a.customer_id === b.customer_id &&
    a.type === b.type &&
    a.ts === b.ts &&
    a.experiment_id === b.experiment_id &&
    a.arm === b.arm &&
    a.revenue === b.revenue &&
    a.margin === b.margin &&
    a.cost === b.cost &&
    a.order_id === b.order_id &&
    a.properties === b.properties
  )
}

/**
 * Writes events exactly once, with the same answer whether or not this process has seen the eventId before:
 * a copy of a stored event (same id, same payload) is a duplicate, and an id already stored with another payload
 * is a conflict — never stored, never counted — before and after a restart alike. Three layers:
 * 1. recent events, in memory with their payload: a copy of an event still in flight waits for that insert, so
 *    its acknowledgement never precedes the durable write;
 * 2. a Bloom filter of every stored id (loaded at start, then kept up to date): an id it has never seen is new
 *    without a query; an id it may have seen is looked up in ClickHouse with its payload (the true copies, by
 *    customer and id; about 1 new id in 10 million, by id alone), while the other rows are already being written.
 *    Requests that arrive while the filter loads at start wait for it; if loading failed, every id is looked up;
 * 3. in storage, events are a ReplacingMergeTree keyed by (customer_id, event_id) read with FINAL, so copies
 *    that slip past 1–2 (another API process writing the same id at the same moment) still count once.
 */
export class EventWriter {
  readonly batcher: InsertBatcher<EventRow>
  /** Resolves when every stored id is in the Bloom filter (lookups are exact before that, just slower). */
  readonly ready: Promise<void>
  /** Two generations of Maps, so forgetting the oldest half costs nothing. */
  private current = new Map<string, Known>()
  private previous = new Map<string, Known>()
  private readonly seen = new SeenIds()
  private loaded = false
  private closing = false
  private readonly generationSize: number

  constructor(
    private readonly ch: ClickHouse,
    opts: EventWriterOptions = {},
  ) {
    this.generationSize = Math.max(1, Math.floor((opts.recentIds ?? 100_000) / 2))
    this.batcher = new InsertBatcher<EventRow>({
      write: (rows) => insertEvents(ch, rows),
      maxBatchRows: opts.maxBatchRows ?? 50_000,
      maxPendingRows: opts.maxPendingRows ?? 400_000,
      concurrency: ch.embedded ? 1 : 4,
    })
    this.ready = this.loadStoredIds()
  }

  private async loadStoredIds() {
    try {
      const parts = Math.max(1, Math.ceil((await countEvents(this.ch)) / LOAD_SLICE))
      for await (const ids of storedEventIds(this.ch, parts)) {
        if (this.closing) return
        for (const id of ids) this.seen.add(id)
      }
      this.loaded = true
    } catch (error) {
      // Every id keeps being looked up in storage: slower, still exact.
      if (!this.closing) log.error(errorFields(error, 300), 'loading stored event ids failed; each new event will be looked up')
    }
  }

  private known(id: string): Known | undefined {
    return this.current.get(id) ?? this.previous.get(id)
  }

  async write(rows: EventRow[]): Promise<WriteResult> {
    // Right after a start, wait for the filter (seconds at 10M events) rather than look every id up by id alone.
    if (!this.loaded) await this.ready
    let settle!: { resolve(): void; reject(e: unknown): void }
    const durable = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
    // Nobody may be waiting when the write fails; the failure still reaches this request below.
    durable.catch(() => {})
    const claimed: EventRow[] = []
    const lookup: number[] = []
    const fresh: EventRow[] = []
    const copies: Array<[number, Known]> = []
    const repeats: number[] = []
    const conflicts: number[] = []
    let duplicates = 0
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]
      const known = this.known(row.event_id)
      if (known?.durable === durable) {
        // Repeated within this request: compared once the first copy's own lookup (if any) has settled.
        repeats.push(i)
        continue
      }
      if (known) {
        if (!samePayload(known.row, row)) conflicts.push(i)
        else {
          duplicates++
          copies.push([i, known])
        }
        continue
      }
      this.current.set(row.event_id, { row, durable })
      claimed.push(row)
      if (!this.loaded || this.seen.mightHave(row.event_id)) lookup.push(i)
      else fresh.push(row)
      this.seen.add(row.event_id)
    }

    // New ids go to the insert at once; ids the filter may have seen are looked up meanwhile, and those that
    // are not stored follow in the next insert. The lookup never holds up the rows that need none.
    const written = this.batcher.add(fresh)
    written.catch(() => {})
    const absent: EventRow[] = []
    if (lookup.length) {
      let stored: Map<string, EventRow>
      try {
        stored = new Map(
          (
            await storedEventsById(
              this.ch,
              lookup.map((i) => rows[i]),
            )
          ).map((r) => [r.event_id, r]),
        )
      } catch (error) {
        await written.catch(() => {})
        this.forget(claimed, durable)
        settle.reject(error)
        log.error(errorFields(error, 300), 'event id lookup failed')
        throw new StoreError('unavailable', 'the data store did not answer; retry shortly')
      }
      for (const i of lookup) {
        const s = stored.get(rows[i].event_id)
        if (!s) absent.push(rows[i])
        else {
          // Already stored (before a restart, or by another process): later copies compare with what is stored.
          this.current.set(s.event_id, { row: s, durable: STORED })
          if (samePayload(s, rows[i])) duplicates++
          else conflicts.push(i)
        }
      }
    }

    for (const i of repeats) {
      if (samePayload(this.known(rows[i].event_id)!.row, rows[i])) duplicates++
      else conflicts.push(i)
    }

    Promise.all([written, this.batcher.add(absent)]).then(
      () => settle.resolve(),
      (e) => {
        // Not stored: a retry of these events must be written, not reported as a duplicate.
        this.forget(claimed, durable)
        settle.reject(e)
      },
    )
    // A copy of an event already durable needs no wait; one in flight in another request does.
    await Promise.all([durable, ...copies.map(([, k]) => k.durable).filter((d) => d !== STORED)])
    // A copy of an event that was still being checked may have turned out to be a conflict itself, in which
    // case what is stored decides.
    for (const [i, k] of copies) {
      const now = this.known(rows[i].event_id)
      if (now && now !== k && !samePayload(now.row, rows[i])) {
        duplicates--
        conflicts.push(i)
      }
    }
    if (this.current.size >= this.generationSize) {
      this.previous = this.current
      this.current = new Map()
    }
    return { accepted: fresh.length + absent.length, duplicates, conflicts: conflicts.sort((a, b) => a - b) }
  }

  private forget(rows: EventRow[], durable: Promise<void>) {
    for (const r of rows) {
      if (this.current.get(r.event_id)?.durable === durable) this.current.delete(r.event_id)
      if (this.previous.get(r.event_id)?.durable === durable) this.previous.delete(r.event_id)
    }
  }

  async close() {
    this.closing = true
    await this.ready
    await this.batcher.close()
  }
}
