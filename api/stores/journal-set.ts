import type { ClickHouseClient } from '@clickhouse/client'
import { overrideClient } from './client-overrides.ts'
import { InsertJournal, sleep, type JournalOptions } from './insert-journal.ts'

/**
 * The statement without the rows an INSERT carries after its FORMAT clause: an event batch is hundreds of
 * kilobytes that need not be searched, and a row mentioning `exposures` must not make its insert wait.
 */
function statementOf(sql: string): string {
  if (!/^\s*INSERT\b/i.test(sql)) return sql
  const format = /\bFORMAT\s+\w+/i.exec(sql)
  return format ? sql.slice(0, format.index + format[0].length) : sql
}

/**
 * The journals of one embedded chDB, and the read barrier in front of it: a read that names a journaled table
 * first waits until the rows acknowledged before it are inserted (for at most `maxWaitMs`, so that an outage
 * slows reads instead of hanging them).
 */
export class JournalSet {
  private readonly journals: Array<{ pattern: RegExp; journal: InsertJournal<unknown> }> = []

  constructor(
    readonly dir: string,
    /** The client without the barrier: the journals insert through it. */
    readonly raw: ClickHouseClient,
    private readonly maxWaitMs = 10_000,
  ) {}

  open<T>(opts: JournalOptions<T>): InsertJournal<T> {
    const journal = new InsertJournal(this.dir, opts)
    this.journals.push({ pattern: new RegExp(`\\b${opts.table}\\b`), journal: journal as InsertJournal<unknown> })
    return journal
  }

  /** Waits for the journaled rows the statement may read. */
  before(sql: string): Promise<void> | null {
    let waits: Promise<void>[] | null = null
    let statement: string | null = null
    for (const { pattern, journal } of this.journals) {
      if (journal.pendingRows > 0 && pattern.test((statement ??= statementOf(sql)))) (waits ??= []).push(journal.flush())
    }
    if (!waits) return null
    return Promise.race([Promise.all(waits).then(() => undefined), sleep(this.maxWaitMs)])
  }

  /** `raw` with every statement passed through the barrier first. */
  guard(): ClickHouseClient {
    const raw = this.raw
    const through =
      <P extends { query: string }, R>(call: (params: P) => Promise<R>) =>
      (params: P): Promise<R> => {
        const wait = this.before(params.query)
        return wait ? wait.then(() => call(params)) : call(params)
      }
    return overrideClient(raw, {
      query: through(raw.query.bind(raw)) as ClickHouseClient['query'],
      exec: through(raw.exec.bind(raw)) as ClickHouseClient['exec'],
      command: through(raw.command.bind(raw)),
    })
  }
}
