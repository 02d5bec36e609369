import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, startServer } from './server-process.ts'

export type Role = 'admin' | 'editor' | 'ingest' | 'viewer'

/** An answer as a test reads it: the status, the JSON body (the text when it is not JSON, null when empty) and the headers. */
export interface Reply {
  status: number
  body: any
  headers: Headers
}

/**
 * `call(method, path, body?, key?)` and `keyFor(role)` over any fetch-shaped function: `fetch` against a real
 * server, or an app's `request` in-process. A body that is not a string is sent as JSON; `key` defaults to
 * `defaultKey`, and null sends no authorization header.
 *
 * @example
 * const { call, keyFor } = jsonClient((url, init) => fetch(`${base}${url}`, init), adminKey)
 * const viewer = await keyFor('viewer')
 * expect((await call('GET', '/v1/audit', undefined, viewer)).status).toBe(200)
 */
export function jsonClient(request: (url: string, init: RequestInit) => Response | Promise<Response>, defaultKey: string) {
  async function call(method: string, url: string, body?: unknown, key: string | null = defaultKey, headers: Record<string, string> = {}): Promise<Reply> {
    const sent: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }
    const init: RequestInit = { method, headers: sent }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      sent['content-type'] ??= 'application/json'
    }
    const res = await request(url, init)
    const text = await res.text()
    let json: any = null
    try {
      json = text ? JSON.parse(text) : null
    } catch {
      json = text
    }
    return { status: res.status, body: json, headers: res.headers }
  }

  /** A new key of the role, made through POST /v1/keys with the default key (an admin's). */
  async function keyFor(role: Role, name = `${role} key`): Promise<string> {
    const created = await call('POST', '/v1/keys', { name, role })
    if (created.status !== 201) throw new Error(`POST /v1/keys (${role}) answered ${created.status}: ${JSON.stringify(created.body)}`)
    return created.body.key
  }

  return { call, keyFor }
}

/**
 * The server as `npm start` runs it, in a child process on a fresh temp DATA_DIR (SEED_DEMO=0, a random
 * ADMIN_API_KEY of 41 characters), with a client for it over HTTP. One per test file: open it in beforeAll,
 * `close()` it in afterAll. `readClickHouse` stops the server first, since chDB lets one process at a time
 * open a data directory; stopping with SIGTERM flushes pending writes.
 *
 * @example
 * let s: OpenServer
 * beforeAll(async () => (s = await openServer('audit')))
 * afterAll(() => s?.close())
 */
export async function openServer(name: string, opts: { env?: Record<string, string> } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `rl-${name}-`))
  const adminKey = `rl_admin_${randomBytes(24).toString('base64url')}`
  const server = await startServer({ dataDir, port: await freePort(), adminKey, env: opts.env }).catch((error: unknown) => {
    fs.rmSync(dataDir, { recursive: true, force: true })
    throw error
  })
  const client = jsonClient((url, init) => fetch(`${server.base}${url}`, init), adminKey)

  /** SIGTERM, and the exit code once the process has gone (the same code on a second call). */
  const stop = () => server.kill('SIGTERM')

  return {
    ...client,
    adminKey,
    base: server.base,
    dataDir,
    output: server.output,
    stdout: server.stdout,
    stop,
    async readClickHouse<T = Record<string, unknown>>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
      const code = await stop()
      if (code !== 0) throw new Error(`the server exited with ${code}:\n${server.output()}`)
      const { openClickHouse } = await import('../../api/stores/clickhouse.ts')
      const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
      try {
        return await (await ch.client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>()
      } finally {
        await ch.close()
      }
    },
    async close() {
      await stop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
export type OpenServer = Awaited<ReturnType<typeof openServer>>
