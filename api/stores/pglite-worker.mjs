// The embedded Postgres (PGlite, WebAssembly) in its own thread. PGlite runs every query synchronously on the
// thread that owns it; on the main thread that stalled HTTP handling (a third of the event loop while ingesting
// redemptions). Plain JavaScript so that it loads in a worker whatever the parent's loader (tsx, vitest).
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

/** The fields of a Postgres error that callers look at (code 23505 = unique violation, …). */
function errorFields(e) {
  const out = { message: e instanceof Error ? e.message : String(e) }
  for (const k of ['code', 'detail', 'hint', 'constraint', 'table', 'column', 'severity', 'position']) if (e && e[k] !== undefined) out[k] = e[k]
  return out
}

let db
try {
  db = await PGlite.create(workerData.dir)
  parentPort.postMessage({ ready: true })
} catch (e) {
  parentPort.postMessage({ ready: false, error: errorFields(e) })
}

// Messages are handled one at a time, in order: the caller's mutex already serialises connections, and PGlite
// is a single connection.
let chain = Promise.resolve()
parentPort.on('message', (msg) => {
  chain = chain.then(async () => {
    if (msg.close) {
      await db?.close()
      parentPort.postMessage({ id: msg.id })
      return
    }
    try {
      const r = await db.query(msg.sql, msg.params, msg.blob === undefined ? undefined : { blob: new Blob([msg.blob]) })
      parentPort.postMessage({ id: msg.id, rows: r.rows, affectedRows: r.affectedRows })
    } catch (e) {
      parentPort.postMessage({ id: msg.id, error: errorFields(e) })
    }
  })
})
