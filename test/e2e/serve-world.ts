/**
 * The browser test's world on a real port, for working on the dashboard by hand:
 *
 *   npx tsx test/e2e/serve-world.ts            # API + built UI on :3200, key rl_test_admin_key
 *   npx vite ui                                 # hot-reloading UI on :5173 against it
 *
 * Stores live in a temp directory and are deleted on Ctrl-C.
 */
import path from 'node:path'
import { serve } from '@hono/node-server'
import { createApp } from '../../api/app.ts'
import { ADMIN_KEY, openHarness } from '../helpers/harness.ts'
import { buildWorld } from './world.ts'

const port = Number(process.env.PORT ?? 3200)
let fixed: number | null = null
const h = await openHarness()
const retention = await createApp({ db: h.db, ch: h.ch, uiDir: path.resolve('ui/dist'), now: () => fixed ?? Date.now() })
const server = serve({ fetch: retention.app.fetch, port })

const call = async (method: string, url: string, body?: unknown) => {
  const res = await retention.app.request(url, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: await res.json().catch(() => null) }
}
const started = Date.now()
const { events } = await buildWorld(call, { set: (ms) => (fixed = ms) }, { ch: h.ch })
console.log(`world built in ${((Date.now() - started) / 1000).toFixed(1)} s (${events} events)`)
console.log(`http://localhost:${port}/  key: ${ADMIN_KEY}`)

process.on('SIGINT', async () => {
  server.close()
  await retention.close()
  await h.close()
  process.exit(0)
})
