import { sql, type Kysely } from 'kysely'
import type { ClickHouse } from './clickhouse.ts'
import { isEmbeddedPostgres } from './postgres.ts'
import type { Database } from './schema.ts'
import { corruptedTableMessage, corruptionDetail, recogniseCorruption } from './clickhouse-corruption.ts'
import { errorFields, log } from '../observability/log.ts'

/** Why a table cannot serve: its bytes are damaged, it does not exist, or its store did not answer. */
export type TableProblem = 'corrupted' | 'missing' | 'unavailable'

export interface TableFinding {
  store: 'postgres' | 'clickhouse'
  table: string
  problem: TableProblem
  /** For an operator: what failed and what to do. Never the store's own error text (logged server-side). */
  message: string
}

// `satisfies` keeps the list in step with schema.ts: a table added there fails to compile here until it is listed.
const postgresTables = Object.keys({
  experiments: true,
  experiment_notes: true,
  audit_log: true,
  api_keys: true,
  settings: true,
  triggers: true,
  policies: true,
  incentives: true,
  redemptions: true,
  metric_definitions: true,
  segment_definitions: true,
  budget_arms: true,
  ledger_versions: true,
  notification_destinations: true,
  alert_rules: true,
  alert_states: true,
  alerts: true,
  notification_outbox: true,
  notification_attempts: true,
  digest_schedule: true,
  ingest_minutes: true,
} satisfies Record<keyof Database, true>) as Array<keyof Database>

/** The ClickHouse tables the reports and writers use (migrations/clickhouse). */
const clickhouseTables = ['exposures', 'events', 'suppressions'] as const

export interface ReadinessOptions {
  /** How often the full check (every byte of every table) may run again; it runs only when readiness is asked. */
  fullCheckEveryMs?: number
  /** A probe answer is reused this long, so that a flood of /readyz (it needs no key) costs the stores little. */
  probeReuseMs?: number
  /** A probe that takes longer counts as the store not answering. */
  probeTimeoutMs?: number
}

/**
 * Whether every table the app needs answers, for /readyz. Two checks:
 * - a probe on each call (at most one per `probeReuseMs`): whether every Postgres table yields a row (one
 *   statement), one row of every ClickHouse table read whole, and ClickHouse's list of parts it set aside as
 *   broken when it started (a part whose marks or checksums did not load is detached, and its rows silently
 *   vanish from every report);
 * - a full check of the embedded stores — `CHECK TABLE` (the checksum of every file of every part) and a scan of
 *   every Postgres table — before the first answer and then again at most every `fullCheckEveryMs`, in the
 *   background, its last result reused meanwhile. Against ClickHouse or Postgres servers only the probe runs:
 *   their data is not this process's, and every API process scanning it would multiply the load.
 * Findings change only through these checks; the raw store error is logged once when a finding first appears.
 *
 * @example
 * const readiness = new TableReadiness(db, ch)
 * const { ready, findings } = await readiness.check()
 */
export class TableReadiness {
  private probing: Promise<TableFinding[]> | null = null
  private probed: { at: number; findings: TableFinding[] } | null = null
  private full: { at: number; findings: TableFinding[] } | null = null
  private fullRunning: Promise<TableFinding[]> | null = null
  private logged = new Set<string>()
  private readonly fullCheckEveryMs: number
  private readonly probeReuseMs: number
  private readonly probeTimeoutMs: number

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ch: ClickHouse,
    opts: ReadinessOptions = {},
  ) {
    this.fullCheckEveryMs = opts.fullCheckEveryMs ?? 10 * 60_000
    this.probeReuseMs = opts.probeReuseMs ?? 1_000
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 5_000
  }

  async check(): Promise<{ ready: boolean; findings: TableFinding[] }> {
    const [probe, full] = await Promise.all([this.probe(), this.fullCheck()])
    const all = [...full, ...probe]
    // A problem that went away and comes back is logged again.
    this.logged = new Set(all.map(findingKey))
    // One finding per table, the most serious first: damage outranks a store that did not answer.
    const rank: Record<TableProblem, number> = { corrupted: 0, missing: 1, unavailable: 2 }
    const byTable = new Map<string, TableFinding>()
    for (const f of all.sort((a, b) => rank[a.problem] - rank[b.problem])) {
      const key = `${f.store}.${f.table}`
      if (!byTable.has(key)) byTable.set(key, f)
    }
    const findings = [...byTable.values()]
    return { ready: findings.length === 0, findings }
  }

  private probe(): Promise<TableFinding[]> {
    if (this.probed && Date.now() - this.probed.at < this.probeReuseMs) return Promise.resolve(this.probed.findings)
    // A new probe starts only once the last one settled: a hung store gets one probe, not one per poll.
    this.probing ??= this.runProbe()
      .then((findings) => {
        this.probed = { at: Date.now(), findings }
        return findings
      })
      .finally(() => (this.probing = null))
    return withTimeout(this.probing, this.probeTimeoutMs, () => [
      ...postgresTables.map((t) => this.finding('postgres', t, 'unavailable', new Error(`no answer within ${this.probeTimeoutMs} ms`))),
      ...clickhouseTables.map((t) => this.finding('clickhouse', t, 'unavailable', new Error(`no answer within ${this.probeTimeoutMs} ms`))),
    ])
  }

  private async runProbe(): Promise<TableFinding[]> {
    const [postgres, clickhouse] = await Promise.all([this.probePostgres(), this.probeClickHouse()])
    return [...postgres, ...clickhouse]
  }

  /**
   * One statement reads the first row of every table whole (`cityHash64(*)` decodes each column of its first
   * granule) and lists the parts set aside as broken; chDB spends ~3 ms of CPU per statement, so four would cost
   * four times that. Only when it fails is each table read on its own, to name the one that does not answer.
   */
  private async probeClickHouse(): Promise<TableFinding[]> {
    const firstRows = clickhouseTables.map((table, i) => `(SELECT cityHash64(*) FROM {t${i}:Identifier} LIMIT 1) AS t${i}`)
    const broken =
      "(SELECT groupArray((table, name, reason)) FROM system.detached_parts WHERE database = currentDatabase() AND startsWith(reason, 'broken')) AS broken"
    try {
      const r = await this.ch.client.query({
        query: `SELECT ${[...firstRows, broken].join(', ')}`,
        query_params: Object.fromEntries(clickhouseTables.map((table, i) => [`t${i}`, table])),
        format: 'JSONEachRow',
      })
      const [row] = await r.json<{ broken: Array<[string, string, string]> }>()
      return row.broken.map(([table, part, reason]) => this.brokenPartFinding(table, part, reason))
    } catch {
      const each = clickhouseTables.map((table) =>
        this.ch.client
          .query({ query: 'SELECT cityHash64(*) FROM {table:Identifier} LIMIT 1', query_params: { table }, format: 'JSONEachRow' })
          .then((r) => r.json())
          .then(
            () => null,
            (e: unknown) => this.finding('clickhouse', table, clickhouseProblem(e), e),
          ),
      )
      return (await Promise.all(each)).filter((f) => f !== null)
    }
  }

  /**
   * One statement asks every table for a row (`SELECT EXISTS (SELECT 1 FROM experiments) AS experiments, …`): a
   * Postgres statement costs ~1.5 ms of CPU in PGlite, so nine would cost nine times that. Only when it fails is
   * each table asked on its own, to name the one that does not answer.
   */
  private async probePostgres(): Promise<TableFinding[]> {
    const one = (table: keyof Database) => this.db.selectFrom(table).select(sql<number>`1`.as('one'))
    try {
      await this.db.selectNoFrom((eb) => postgresTables.map((table) => eb.exists(one(table)).as(table))).execute()
      return []
    } catch {
      const each = postgresTables.map((table) =>
        one(table)
          .limit(1)
          .execute()
          .then(
            () => null,
            (e: unknown) => this.finding('postgres', table, postgresProblem(e), e),
          ),
      )
      return (await Promise.all(each)).filter((f) => f !== null)
    }
  }

  /** A part ClickHouse set aside when it started (reason broken-on-start …): CHECK TABLE no longer sees it. */
  private brokenPartFinding(table: string, part: string, reason: string): TableFinding {
    return this.finding(
      'clickhouse',
      table,
      'corrupted',
      new Error(`part ${part} detached as ${reason}`),
      `the ClickHouse table ${table} is missing rows: a part of it did not load (${reason}) and was set aside as detached/${part}, so every report leaves its rows out. ` +
        `An operator must restore the table from a backup, or delete detached/${part} to accept the loss (and re-import the rows if they can be)`,
    )
  }

  private async fullCheck(): Promise<TableFinding[]> {
    const stale = !this.full || Date.now() - this.full.at >= this.fullCheckEveryMs
    if (stale && !this.fullRunning) {
      this.fullRunning = this.runFullCheck().then((findings) => {
        this.full = { at: Date.now(), findings }
        this.fullRunning = null
        return findings
      })
    }
    // Until the first full check has finished nothing is known about the data: wait for it once.
    return this.full ? this.full.findings : this.fullRunning!
  }

  private async runFullCheck(): Promise<TableFinding[]> {
    const findings: TableFinding[] = []
    if (isEmbeddedPostgres(this.db)) {
      for (const table of postgresTables) {
        // count(*) reads every page of the table, where damaged page headers show (PGlite has no data checksums).
        await this.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .execute()
          .catch((e: unknown) => {
            findings.push(this.finding('postgres', table, postgresProblem(e), e))
          })
      }
    }
    if (this.ch.embedded) {
      for (const table of clickhouseTables) {
        try {
          const r = await this.ch.client.query({
            query: 'CHECK TABLE {table:Identifier}',
            query_params: { table },
            format: 'JSONEachRow',
            // One thread: the check shares the API's cores and nobody waits for it after the first time.
            clickhouse_settings: { check_query_single_value_result: 0, max_threads: 1 },
          })
          const failed = (await r.json<{ part_path: string; is_passed: number; message: string }>()).filter((p) => !Number(p.is_passed))
          if (failed.length) {
            const parts = failed.map((p) => p.part_path)
            const error = new Error(failed.map((p) => `${p.part_path}: ${p.message}`).join('; '))
            const message = corruptedTableMessage(table, `${parts.length === 1 ? 'part' : 'parts'} ${parts.join(', ')} failed CHECK TABLE`)
            findings.push(this.finding('clickhouse', table, 'corrupted', error, message))
          }
        } catch (e) {
          findings.push(this.finding('clickhouse', table, clickhouseProblem(e), e))
        }
      }
    }
    return findings
  }

  private finding(store: TableFinding['store'], table: string, problem: TableProblem, error: unknown, message?: string): TableFinding {
    const finding = { store, table, problem, message: message ?? describe(store, table, problem, error) }
    if (!this.logged.has(findingKey(finding))) {
      this.logged.add(findingKey(finding))
      log.error({ store, table, problem, ...errorFields(error, 2000) }, `readiness: ${store} table ${table} is ${problem}`)
    }
    return finding
  }
}

const findingKey = (f: Pick<TableFinding, 'store' | 'table' | 'problem'>) => `${f.store}.${f.table}.${f.problem}`

function describe(store: TableFinding['store'], table: string, problem: TableProblem, error: unknown): string {
  const name = store === 'postgres' ? 'Postgres' : 'ClickHouse'
  if (problem === 'missing') return `the ${name} table ${table} does not exist: run the migrations (npm run migrate) against this store`
  if (problem === 'unavailable') return `the ${name} table ${table} did not answer: check that the store is running and reachable; see the server log`
  if (store === 'clickhouse') {
    const found = recogniseCorruption(error)
    return corruptedTableMessage(table, found ? corruptionDetail(found) : undefined)
  }
  return `the Postgres table ${table} is corrupted: a retry fails the same way. An operator must restore the database from a backup; see the server log`
}

function postgresProblem(error: unknown): TableProblem {
  const code = (error as { code?: unknown })?.code
  // 42P01 undefined_table; XX001 data_corrupted, XX002 index_corrupted.
  if (code === '42P01') return 'missing'
  if (code === 'XX001' || code === 'XX002') return 'corrupted'
  return 'unavailable'
}

function clickhouseProblem(error: unknown): TableProblem {
  if (recogniseCorruption(error)) return 'corrupted'
  // 60 UNKNOWN_TABLE
  return String((error as { code?: unknown })?.code) === '60' ? 'missing' : 'unavailable'
}

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms)
    timer.unref()
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}
