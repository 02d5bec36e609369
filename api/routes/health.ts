import { Hono } from 'hono'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { TableReadiness, type TableFinding, type TableProblem } from '../stores/table-readiness.ts'
import { errorBody } from '../http/errors.ts'

const problemCodes: Record<TableProblem, string> = { corrupted: 'store_corrupted', missing: 'store_table_missing', unavailable: 'store_unavailable' }

/**
 * `/healthz`: the process answers. `/readyz`: every table of both stores answers (stores/table-readiness.ts) —
 * 200 `{ status: 'ready', postgres: 'ok', clickhouse: 'ok' }`, or 503 naming each table that does not and why.
 */
export function healthRoutes(deps: { db: Kysely<Database>; ch: ClickHouse }) {
  const app = new Hono()
  const readiness = new TableReadiness(deps.db, deps.ch)
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const { ready, findings } = await readiness.check()
    if (ready) return c.json({ status: 'ready', postgres: 'ok', clickhouse: 'ok' })
    const summary = (store: TableFinding['store']) => findings.find((f) => f.store === store)?.problem ?? 'ok'
    const first = findings[0]
    return c.json(
      {
        status: 'not_ready',
        postgres: summary('postgres'),
        clickhouse: summary('clickhouse'),
        tables: findings.map(({ store, table, problem: reason, message }) => ({ store, table, reason, message })),
        ...errorBody(problemCodes[first.problem], first.message),
      },
      503,
    )
  })
  return app
}
