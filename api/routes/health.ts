import { Hono } from 'hono'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'

/** `/healthz`: the process answers. `/readyz`: both stores answer a query. */
export function healthRoutes(deps: { db: Kysely<Database>; ch: ClickHouse }) {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const check = async (f: () => Promise<unknown>) => {
      try {
        await f()
        return 'ok'
      } catch (e) {
        return `error: ${e instanceof Error ? e.message : String(e)}`
      }
    }
    const postgres = await check(() => sql`select 1`.execute(deps.db))
    const clickhouse = await check(() => deps.ch.client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json()))
    const ready = postgres === 'ok' && clickhouse === 'ok'
    return c.json({ status: ready ? 'ready' : 'not_ready', postgres, clickhouse }, ready ? 200 : 503)
  })
  return app
}
