import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { StoreError } from './errors.ts'
import { refusal, type BatcherObserver, type RowWriter } from './batcher.ts'
import { errorFields, log } from '../observability/log.ts'

/**
 * Embedded chDB runs one insert at a time, about 250 a second on our 2-core machine, and each small insert also
 * costs merges later. Waiting for chDB before answering put every assignment and decision behind one or two
 * inserts (README → Benchmarks). So the embedded writers of exposures and suppressions append to a local
 * journal instead and answer once the rows are written there; the journal moves them to chDB in one insert every
 * `flushIntervalMs`. Durability is the same as chDB's own: a write(2) into the page cache, no fsync (chDB does
 * not fsync its parts either), so the rows survive a crash of the process, not of the machine.
 *
 * The journal is a directory of segments (`<dir>/<table>/<start>-<instance>-<n>.jsonl`), one JSON row per line.
 * A segment is inserted with its name as `insert_deduplication_token` and deleted afterwards; a crash between
 * the two leaves it on disk, and the next start inserts it again, which the table's deduplication window
 * (stores/embedded-tuning.ts) turns into a no-op. A line torn by a crash mid-write was never acknowledged and is
 * skipped. Reads that name the table wait for the rows written before them (`JournalSet.guard`), so a report or
 * test sees an assignment as soon as it was answered.
 */
export interface JournalOptions<T> {
  /** The table; also the journal's sub-directory. */
  table: string
  /** One row as one line of JSON (no newline): what JSONCompactEachRow reads. */
  line(row: T): string
  /** Inserts newline-separated lines; the same `token` twice stores the rows once. */
  insert(lines: string, token: string): Promise<void>
  /** Rows per insert when traffic outruns the interval. */
  maxBatchRows: number
  /** Rows waiting for chDB beyond which new rows are refused with 503 instead of filling the disk. */
  maxPendingRows: number
  /** How long acknowledged rows may wait before they are inserted (reads that need them do not wait for it). */
  flushIntervalMs?: number
}

interface Segment {
  name: string
  file: string
  fd: number | null
  chunks: string[]
  rows: number
  bytes: number
  seq: number
}

interface Waiting {
  resolve(): void
  reject(error: unknown): void
}

/** Segment files owned by a journal open in this process: a second journal on the same directory leaves them alone. */
const liveFiles = new Set<string>()
const instance = randomBytes(4).toString('hex')
let segmentCounter = 0

/** Segment names: `<ms>-<hex instance>-<n>`, and `#<row>` after one when its rows are inserted one by one. */
const TOKEN = /^\d+-[0-9a-f]+-\d+(#\d+)?$/

/**
 * The SETTINGS clause that makes an insert idempotent under `token`. In the statement, not in
 * `clickhouse_settings`: chdb/connection turns those into session-wide SET statements, and a token left set on
 * the session would silently drop every later insert into the table as a duplicate. The token is spliced only
 * after checking it is one of our segment names (ClickHouse takes no query parameters in SETTINGS).
 */
export function deduplicationSetting(token: string): string {
  if (!TOKEN.test(token)) throw new Error(`not a journal segment token: ${JSON.stringify(token)}`)
  return `insert_deduplication_token = '${token}'`
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

export class InsertJournal<T> implements RowWriter<T> {
  private readonly dir: string
  private readonly flushIntervalMs: number
  private buffered: string[] = []
  private bufferedRows = 0
  private waiting: Waiting[] = []
  private writeScheduled = false
  private open: Segment | null = null
  private sealed: Segment[] = []
  private journaledRows = 0
  private timer: NodeJS.Timeout | null = null
  private draining = false
  private insertedSeq = 0
  private flushWaiters: Array<{ seq: number; resolve(): void }> = []
  private closed = false
  batches = 0
  rowsWritten = 0
  observer?: BatcherObserver

  constructor(
    root: string,
    private readonly opts: JournalOptions<T>,
  ) {
    this.dir = path.join(root, opts.table)
    this.flushIntervalMs = opts.flushIntervalMs ?? 200
    fs.mkdirSync(this.dir, { recursive: true })
    this.replay()
  }

  /** Rows acknowledged or queued and not yet in chDB. */
  get pendingRows(): number {
    return this.bufferedRows + this.journaledRows
  }

  /** Queues rows for the journal; resolves once they are written there. Rejects with a StoreError when it cannot take them. */
  add(rows: T[]): Promise<void> {
    const refused = refusal(this.closed, this, rows.length, this.opts.maxPendingRows)
    if (refused) return refused
    if (!rows.length) return Promise.resolve()
    let text = ''
    for (const row of rows) text += this.opts.line(row) + '\n'
    return new Promise<void>((resolve, reject) => {
      this.buffered.push(text)
      this.bufferedRows += rows.length
      this.waiting.push({ resolve, reject })
      if (!this.writeScheduled) {
        this.writeScheduled = true
        // Requests parsed in the same event-loop turn share one write(2).
        setImmediate(() => this.writeBuffered())
      }
    })
  }

  /**
   * Appends what was queued to the open segment. Synchronous on purpose: a page-cache write of a few kilobytes
   * takes microseconds, less than handing it to libuv's pool and back, and it keeps the segment's bytes and
   * its in-memory copy in step without locks.
   */
  private writeBuffered() {
    this.writeScheduled = false
    if (!this.bufferedRows) return
    const text = this.buffered.join('')
    const rows = this.bufferedRows
    const waiting = this.waiting
    this.buffered = []
    this.bufferedRows = 0
    this.waiting = []
    const bytes = Buffer.from(text)
    let seg: Segment | null = null
    try {
      seg = this.open ?? this.openSegment()
      const written = fs.writeSync(seg.fd!, bytes)
      if (written !== bytes.length) throw new Error(`short write to the journal: ${written} of ${bytes.length} bytes`)
    } catch (error) {
      // Cut a partial write off so that the segment holds only acknowledged rows, then start a fresh one.
      if (seg?.fd != null) {
        try {
          fs.ftruncateSync(seg.fd, seg.bytes)
        } catch {
          // The torn tail is skipped at replay anyway.
        }
        this.seal()
      }
      log.error({ ...errorFields(error), table: this.opts.table }, 'journal write failed')
      this.observer?.rejected(rows, 'unavailable')
      const failure = new StoreError('unavailable', 'the data store did not accept the write; retry shortly')
      for (const w of waiting) w.reject(failure)
      return
    }
    seg.chunks.push(text)
    seg.rows += rows
    seg.bytes += bytes.length
    this.journaledRows += rows
    for (const w of waiting) w.resolve()
    if (seg.rows >= this.opts.maxBatchRows) this.sealAndDrain()
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null
        this.sealAndDrain()
      }, this.flushIntervalMs)
      this.timer.unref()
    }
  }

  private openSegment(): Segment {
    const name = `${Date.now()}-${instance}-${++segmentCounter}`
    const file = path.join(this.dir, `${name}.jsonl`)
    const fd = fs.openSync(file, 'a')
    liveFiles.add(file)
    this.open = { name, file, fd, chunks: [], rows: 0, bytes: 0, seq: 0 }
    return this.open
  }

  private seal() {
    const seg = this.open
    if (!seg) return
    this.open = null
    if (seg.fd != null) fs.closeSync(seg.fd)
    seg.fd = null
    if (!seg.rows) {
      fs.rmSync(seg.file, { force: true })
      liveFiles.delete(seg.file)
      return
    }
    seg.seq = ++segmentCounter
    this.sealed.push(seg)
  }

  private sealAndDrain() {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.seal()
    if (!this.draining && this.sealed.length) {
      this.draining = true
      // drain() returns once nothing is sealed; what is journaled meanwhile is sealed by its own timer or a flush.
      void this.drain()
        .catch((error) => log.error({ ...errorFields(error), table: this.opts.table }, 'journal drain failed; the next interval retries'))
        .finally(() => (this.draining = false))
    }
  }

  /** Inserts the sealed segments in order; a failing one is retried with backoff, the others wait behind it. */
  private async drain() {
    let failures = 0
    while (this.sealed.length) {
      const seg = this.sealed[0]
      const outcome = await this.insertSegment(seg)
      if (outcome === 'retry') {
        failures++
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)))
        continue
      }
      failures = 0
      this.sealed.shift()
      fs.rmSync(seg.file, { force: true })
      liveFiles.delete(seg.file)
      this.journaledRows -= seg.rows
      this.insertedSeq = seg.seq
      this.flushWaiters = this.flushWaiters.filter((w) => (w.seq <= seg.seq ? (w.resolve(), false) : true))
    }
  }

  private async insertSegment(seg: Segment): Promise<'done' | 'retry'> {
    const lines = seg.chunks.join('')
    try {
      await this.timedInsert(lines, seg.name, seg.rows)
      this.batches++
      this.rowsWritten += seg.rows
      return 'done'
    } catch (error) {
      log.error({ ...errorFields(error), table: this.opts.table, rows: seg.rows }, 'journal insert failed; trying its rows one by one')
    }
    return this.insertRowByRow(seg, lines)
  }

  /**
   * Rows are validated before they are acknowledged (http/strings.ts), so chDB refusing a segment means it is
   * down — or one row slipped past validation. Inserting the rows alone tells the two apart: when the first rows
   * all fail, it is an outage and the segment waits; rows refused while others are stored are moved to
   * `<table>.rejected.jsonl` beside the journal and logged, so that one bad row never blocks the rest.
   */
  private async insertRowByRow(seg: Segment, lines: string): Promise<'done' | 'retry'> {
    const rows = lines.split('\n').filter(Boolean)
    const refused: string[] = []
    let stored = 0
    for (let i = 0; i < rows.length; i++) {
      if (stored === 0 && refused.length >= 3) return 'retry'
      try {
        await this.timedInsert(rows[i] + '\n', `${seg.name}#${i}`, 1)
        stored++
      } catch (error) {
        if (refused.length === 0) log.error({ ...errorFields(error), table: this.opts.table }, 'chDB refused a journaled row')
        refused.push(rows[i])
      }
    }
    if (stored === 0) return 'retry'
    this.batches += stored
    this.rowsWritten += stored
    if (refused.length) {
      const file = path.join(path.dirname(this.dir), `${this.opts.table}.rejected.jsonl`)
      fs.appendFileSync(file, refused.join('\n') + '\n')
      log.error({ table: this.opts.table, rows: refused.length, file }, 'rows chDB refused were set aside; they are not in the reports')
      this.observer?.rejected(refused.length, 'rows_refused')
    }
    return 'done'
  }

  private async timedInsert(lines: string, token: string, rows: number) {
    const started = performance.now()
    let ok = false
    try {
      await this.opts.insert(lines, token)
      ok = true
    } finally {
      this.observer?.insert(rows, (performance.now() - started) / 1000, ok)
    }
  }

  /** Resolves when every row acknowledged before the call is in chDB. */
  flush(): Promise<void> {
    this.writeBuffered()
    this.seal()
    const last = this.sealed.at(-1)
    if (!last || last.seq <= this.insertedSeq) return Promise.resolve()
    return new Promise((resolve) => {
      this.flushWaiters.push({ seq: last.seq, resolve })
      this.sealAndDrain()
    })
  }

  /**
   * Refuses new rows, then moves what is journaled to chDB. If chDB does not take it within `timeoutMs`, the
   * segments stay on disk for the next start to insert: nothing acknowledged is dropped.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    this.closed = true
    const flushed = this.flush()
    const done = await Promise.race([flushed.then(() => true), sleep(timeoutMs).then(() => false)])
    if (!done) log.error({ table: this.opts.table, rows: this.journaledRows, dir: this.dir }, 'journal not emptied at shutdown; the next start inserts it')
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    for (const seg of this.sealed) liveFiles.delete(seg.file)
  }

  /** Picks up the segments a previous process left (crashed, or stopped before chDB took them). */
  private replay() {
    const files = fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
    const foreign = files.filter((f) => !TOKEN.test(f.slice(0, -'.jsonl'.length)))
    if (foreign.length) log.warn({ table: this.opts.table, dir: this.dir, files: foreign }, 'left files in the journal that it did not write')
    for (const f of files) {
      const file = path.join(this.dir, f)
      if (liveFiles.has(file) || foreign.includes(f)) continue
      const text = fs.readFileSync(file, 'utf8')
      const pieces = text.split('\n')
      // The piece after the last newline is empty, or a line torn by a crash mid-write: never acknowledged.
      const torn = pieces.pop()
      let good = ''
      let rows = 0
      for (const line of pieces) {
        if (!line) continue
        try {
          JSON.parse(line)
        } catch {
          log.error({ table: this.opts.table, file }, 'skipped an unreadable journal line')
          continue
        }
        good += line + '\n'
        rows++
      }
      if (torn) log.warn({ table: this.opts.table, file, bytes: torn.length }, 'skipped a journal line torn by a crash (it was never acknowledged)')
      if (!rows) {
        fs.rmSync(file, { force: true })
        continue
      }
      liveFiles.add(file)
      this.sealed.push({ name: f.slice(0, -'.jsonl'.length), file, fd: null, chunks: [good], rows, bytes: Buffer.byteLength(good), seq: ++segmentCounter })
      this.journaledRows += rows
    }
    if (this.sealed.length) {
      log.info({ table: this.opts.table, segments: this.sealed.length, rows: this.journaledRows }, 'inserting journaled rows left by the previous run')
      this.sealAndDrain()
    }
  }
}
