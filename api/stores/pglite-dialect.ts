import { Worker } from 'node:worker_threads'
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'

/** What the pool needs of PGlite: `query` and `close`, as the worker-thread proxy below provides them. */
export interface PGliteLike {
  query<R>(sql: string, params: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>
  close(): Promise<void>
}

interface Reply {
  id: number
  rows?: unknown[]
  affectedRows?: number
  error?: { message: string } & Record<string, unknown>
}

/** `COPY … FROM '/dev/blob'`: its one parameter is the input text (see the proxy's query). */
const copyFromBlob = /^\s*copy\b[\s\S]*\bfrom\s+'\/dev\/blob'/i

/**
 * Opens PGlite in `dir` inside a worker thread (api/stores/pglite-worker.mjs) and returns a proxy: queries
 * travel as messages, rows come back by structured clone (Dates, objects and bigints intact), and errors keep
 * their Postgres fields (`code`, `constraint`, …).
 */
export async function openPgliteWorker(dir: string): Promise<PGliteLike> {
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), { workerData: { dir }, execArgv: [] })
  const pending = new Map<number, { resolve(r: Reply): void; reject(e: unknown): void }>()
  let nextId = 1
  let failure: Error | null = null
  const failAll = (e: Error) => {
    failure = e
    for (const p of pending.values()) p.reject(e)
    pending.clear()
  }
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: { ready: boolean; error?: { message: string } }) =>
      m.ready ? resolve() : reject(Object.assign(new Error(`could not open PGlite in ${dir}: ${m.error?.message}`), m.error)),
    )
    worker.once('error', reject)
  })
  worker.on('message', (m: Reply) => {
    const p = pending.get(m.id)
    if (!p) return
    pending.delete(m.id)
    p.resolve(m)
  })
  worker.on('error', (e) => failAll(e instanceof Error ? e : new Error(String(e))))
  worker.on('exit', (code) => failAll(new Error(`the PGlite worker exited (code ${code})`)))
  const send = (msg: Record<string, unknown>) =>
    new Promise<Reply>((resolve, reject) => {
      if (failure) return reject(failure)
      const id = nextId++
      pending.set(id, { resolve, reject })
      worker.postMessage({ ...msg, id })
    })
  return {
    async query<R>(sql: string, params: unknown[]) {
      // PGlite reads COPY input from a Blob; by this module's convention the statement's one parameter is that input.
      const r = await send(copyFromBlob.test(sql) ? { sql, params: [], blob: params[0] } : { sql, params })
      if (r.error) throw Object.assign(new Error(r.error.message), r.error)
      return { rows: r.rows as R[], affectedRows: r.affectedRows }
    },
    async close() {
      if (!failure) await send({ close: true })
      await worker.terminate()
    },
  }
}

/**
 * A Kysely PostgresPool over one embedded PGlite instance.
 * PGlite is a single connection, so `connect()` hands it out under a mutex: a transaction opened by Kysely
 * owns the database until it releases it, and queries from other requests wait instead of interleaving.
 */
export function pglitePool(db: PGliteLike): PostgresPool {
  let tail: Promise<void> = Promise.resolve()
  return {
    async connect(): Promise<PostgresPoolClient> {
      let release!: () => void
      const previous = tail
      tail = new Promise<void>((resolve) => (release = resolve))
      await previous
      let released = false
      return {
        async query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
          const result = await db.query<R>(sql, parameters as unknown[])
          const command = (/^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SELECT') as PostgresQueryResult<R>['command']
          return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows }
        },
        release() {
          if (!released) {
            released = true
            release()
          }
        },
      } as PostgresPoolClient
    },
    async end() {
      await tail
      await db.close()
    },
  }
}
