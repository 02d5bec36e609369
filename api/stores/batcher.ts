import { StoreError } from './errors.ts'
import { errorFields, log } from '../observability/log.ts'

// The store's own error text may quote other clients' rows: it is logged, never sent.
const storeUnavailable = () => new StoreError('unavailable', 'the data store did not accept the write; retry shortly')
const rowsRefused = () =>
  new StoreError(
    'rows_refused',
    'the data store refused the rows of this request while it accepted others; they were not stored and a retry will fail the same way — check them for unusual values',
  )
function logStoreError(error: unknown) {
  log.error(errorFields(error), 'store write failed')
}

/** What a batcher tells the metrics (api/observability/metrics.ts); every call is cheap and synchronous. */
export interface BatcherObserver {
  /** One insert ended: its rows, its duration, and whether the store took them. */
  insert(rows: number, seconds: number, ok: boolean): void
  /** Rows answered with an error: bad rows (422), the store down, the buffer full, or the server stopping (503). */
  rejected(rows: number, code: 'rows_refused' | 'unavailable' | 'overloaded' | 'shutting_down'): void
}

export interface BatcherOptions<T> {
  /** Writes one batch; resolves only when the rows are durably stored. */
  write(rows: T[]): Promise<void>
  /** Rows per insert: concurrent requests are grouped up to this size. */
  maxBatchRows: number
  /** Rows waiting (queued + in flight) beyond which new work is refused with 503 instead of buffering forever. */
  maxPendingRows: number
  /** Inserts in flight at once: 1 for embedded chDB, more for a ClickHouse server. */
  concurrency: number
}

/** What the routes need of a writer: the group-committed InsertBatcher, or the embedded journal (stores/insert-journal.ts). */
export interface RowWriter<T> {
  /** Resolves when the rows are durable; rejects with a StoreError when they cannot be taken. */
  add(rows: T[]): Promise<void>
  /** Resolves when every row added before the call is in the store. */
  flush(): Promise<void>
  /** Refuses new rows, then stores what was taken. */
  close(): Promise<void>
  readonly pendingRows: number
  batches: number
  rowsWritten: number
  observer?: BatcherObserver
}

/**
 * Why a writer cannot take `rows` more, as the rejected promise to return (and counted), or null when it can:
 * it is stopping, or it already holds `maxPendingRows` (a single request larger than that is still taken alone).
 */
export function refusal(
  closed: boolean,
  writer: Pick<RowWriter<unknown>, 'pendingRows' | 'observer'>,
  rows: number,
  maxPendingRows: number,
): Promise<never> | null {
  if (closed) {
    writer.observer?.rejected(rows, 'shutting_down')
    return Promise.reject(new StoreError('shutting_down', 'the server is shutting down; retry against another instance'))
  }
  if (rows && writer.pendingRows > 0 && writer.pendingRows + rows > maxPendingRows) {
    writer.observer?.rejected(rows, 'overloaded')
    return Promise.reject(new StoreError('overloaded', 'the write buffer is full; retry shortly'))
  }
  return null
}

interface Waiting<T> {
  rows: T[]
  resolve(): void
  reject(error: unknown): void
}

/**
 * Group commit for ClickHouse: requests that arrive while an insert is running are merged into the next one,
 * and each request's promise settles only when the insert holding its rows has completed. ClickHouse prefers
 * few large inserts; callers still get per-request durability.
 */
export class InsertBatcher<T> implements RowWriter<T> {
  private queue: Waiting<T>[] = []
  private queuedRows = 0
  private inFlightRows = 0
  private inFlight = 0
  private scheduled = false
  private idle: Array<() => void> = []
  private closed = false
  batches = 0
  rowsWritten = 0
  /** Set by the app to feed the metrics; none in tests that build a batcher alone. */
  observer?: BatcherObserver

  constructor(private readonly opts: BatcherOptions<T>) {}

  get pendingRows(): number {
    return this.queuedRows + this.inFlightRows
  }

  /** Queues rows for the next insert; resolves when they are durable. Rejects with a StoreError ('overloaded') when full. */
  add(rows: T[]): Promise<void> {
    const refused = refusal(this.closed, this, rows.length, this.opts.maxPendingRows)
    if (refused) return refused
    if (!rows.length) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ rows, resolve, reject })
      this.queuedRows += rows.length
      this.schedule()
    })
  }

  private schedule() {
    if (this.scheduled || this.inFlight >= this.opts.concurrency || !this.queue.length) return
    this.scheduled = true
    // setImmediate lets requests parsed in the same event-loop turn join this insert.
    setImmediate(() => {
      this.scheduled = false
      this.drain()
    })
  }

  private drain() {
    while (this.inFlight < this.opts.concurrency && this.queue.length) {
      const batch: Waiting<T>[] = []
      let size = 0
      while (this.queue.length && (batch.length === 0 || size + this.queue[0].rows.length <= this.opts.maxBatchRows)) {
        const w = this.queue.shift()!
        batch.push(w)
        size += w.rows.length
      }
      this.queuedRows -= size
      this.inFlightRows += size
      this.inFlight++
      void this.commit(batch, size).finally(() => {
        this.inFlight--
        this.inFlightRows -= size
        if (this.queue.length) this.drain()
        else if (this.inFlight === 0) for (const done of this.idle.splice(0)) done()
      })
    }
  }

  /**
   * Writes one shared insert. If it fails, each request's rows are written on their own, so that one client's
   * bad rows fail only that client: a request whose rows fail alone while others succeed is refused for good
   * (422), and only when nothing can be written is it an outage (503, retry). Rows of requests that succeed
   * on the second attempt may have been partly written by the first: every table is read deduplicated
   * (events by event id, exposures by first exposure, the ledger by a unique key), so that is harmless.
   */
  private async commit(batch: Waiting<T>[], size: number) {
    const rows = batch.length === 1 ? batch[0].rows : batch.flatMap((w) => w.rows)
    try {
      await this.write(rows)
      this.batches++
      this.rowsWritten += size
      for (const w of batch) w.resolve()
      return
    } catch (error) {
      if (batch.length === 1) {
        logStoreError(error)
        this.observer?.rejected(size, 'unavailable')
        batch[0].reject(storeUnavailable())
        return
      }
    }
    const failed: Array<[Waiting<T>, unknown]> = []
    let written = 0
    for (const w of batch) {
      // Three requests failing alone and none written: the store is down, not the rows bad; stop hammering it.
      if (written === 0 && failed.length >= 3) {
        failed.push([w, new Error('not attempted: the store refused every write before it')])
        continue
      }
      try {
        await this.write(w.rows)
        this.batches++
        this.rowsWritten += w.rows.length
        written++
        w.resolve()
      } catch (error) {
        failed.push([w, error])
      }
    }
    const outage = written === 0
    for (const [w, error] of failed) {
      logStoreError(error)
      this.observer?.rejected(w.rows.length, outage ? 'unavailable' : 'rows_refused')
      w.reject(outage ? storeUnavailable() : rowsRefused())
    }
  }

  private async write(rows: T[]) {
    if (!this.observer) return this.opts.write(rows)
    const started = performance.now()
    let ok = false
    try {
      await this.opts.write(rows)
      ok = true
    } finally {
      this.observer?.insert(rows.length, (performance.now() - started) / 1000, ok)
    }
  }

  /** Resolves when every queued row has been written (or failed). */
  flush(): Promise<void> {
    if (!this.queue.length && this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.idle.push(resolve)
      this.schedule()
    })
  }

  /** Refuses new rows, then waits for what is queued: called on SIGTERM before the stores close. */
  async close(): Promise<void> {
    this.closed = true
    await this.flush()
  }
}
