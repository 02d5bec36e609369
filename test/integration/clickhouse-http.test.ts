import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'
import { jsonClient } from '../helpers/server-client.ts'
import { startClickHouseHttpShim, type ClickHouseHttpShim, type ShimRequest } from '../helpers/clickhouse-http-shim.ts'
import { twoArmExperiment } from '../helpers/harness.ts'

// Two API processes (each with its own PGlite) share one data plane: ClickHouse's HTTP interface, played by the
// test shim over chDB, so that the CLICKHOUSE_URL path of @clickhouse/client runs for real.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-ch-http-'))
const ADMIN = `rl_admin_${randomBytes(24).toString('base64url')}`
const PASSWORD = `ch-${randomBytes(12).toString('hex')}`
const T0 = Date.parse('2026-10-01T00:00:00Z')
let shim: ClickHouseHttpShim
type Server = Awaited<ReturnType<typeof startServer>>
const servers: Server[] = []

const env = (password = PASSWORD) => ({
  CLICKHOUSE_URL: shim.url,
  CLICKHOUSE_USER: 'retention',
  CLICKHOUSE_PASSWORD: password,
  CLICKHOUSE_DATABASE: 'retention',
  LOG_LEVEL: 'info',
})
async function start(name: string) {
  const dataDir = path.join(root, name)
  fs.mkdirSync(dataDir)
  const server = await startServer({ dataDir, port: await freePort(), adminKey: ADMIN, env: env() })
  servers.push(server)
  return { server, ...jsonClient((url, init) => fetch(`${server.base}${url}`, init), ADMIN) }
}
const count = async (sql: string) => Number(JSON.parse(await shim.query(sql)).n)
/** The requests the shim received from `from` on, whose statement starts with `prefix`. */
const received = (from: number, prefix: RegExp): ShimRequest[] => shim.requests.slice(from).filter((r) => prefix.test(r.sql))
const event = (eventId: string, customerId: string, revenue = 10) => ({ eventId, customerId, type: 'purchase', ts: T0, revenue })

beforeAll(async () => {
  shim = await startClickHouseHttpShim({ dataDir: path.join(root, 'clickhouse'), users: { retention: PASSWORD } })
  await shim.query('CREATE DATABASE retention', 'TabSeparated')
}, 60_000)
afterAll(async () => {
  for (const s of servers) await s.kill('SIGTERM')
  await shim?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

describe('the API on a ClickHouse server over HTTP', () => {
  it('refuses to start with a wrong ClickHouse password, naming the settings to fix and not the password', async () => {
    const dataDir = path.join(root, 'wrong-password')
    fs.mkdirSync(dataDir)
    const wrong = `not-${PASSWORD}`
    const failed = await startServer({ dataDir, port: await freePort(), adminKey: ADMIN, env: env(wrong) }).then(
      () => 'started',
      (error: Error) => error.message,
    )
    expect(failed).toContain(
      `Cannot start: ClickHouse at ${shim.url} refused user 'retention' (AUTHENTICATION_FAILED): check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD`,
    )
    expect(failed).not.toContain(wrong)
    expect(failed).not.toMatch(/\n\s+at /)
    // Every line it wrote, @clickhouse/client's own included, is a JSON log line.
    for (const line of failed.split('\n').slice(1).filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow()
    expect(shim.requests.filter((r) => r.status === 403).map((r) => r.user)).toEqual(['retention'])
  }, 90_000)

  let a: Awaited<ReturnType<typeof start>>
  let b: Awaited<ReturnType<typeof start>>
  // Ids with quotes and backslashes: they must travel as bound parameters, never as SQL text.
  const tricky = [event(`ev'1`, `cust'o`), event('ev"2\\x', 'cust\\"b'), event('ev-3', 'plain')]

  it('stores what two processes write once, and binds the values it looks up by', async () => {
    a = await start('api-a')
    expect((await a.call('POST', '/v1/experiments', twoArmExperiment('http-exp'))).status).toBe(201)
    expect((await a.call('POST', '/v1/experiments/http-exp/start')).status).toBe(200)
    for (let i = 0; i < 10; i++) expect((await a.call('POST', '/v1/assign', { experimentId: 'http-exp', customerId: `a-${i}` })).status).toBe(200)
    expect((await a.call('POST', '/v1/events', tricky)).body).toMatchObject({ accepted: 3, duplicates: 0, rejected: [] })

    // B starts after A's events are stored, so it knows their ids only from ClickHouse: copies are looked up there.
    b = await start('api-b')
    expect((await b.call('POST', '/v1/experiments', twoArmExperiment('http-exp'))).status).toBe(201)
    expect((await b.call('POST', '/v1/experiments/http-exp/start')).status).toBe(200)
    for (let i = 0; i < 10; i++) expect((await b.call('POST', '/v1/assign', { experimentId: 'http-exp', customerId: `b-${i}` })).status).toBe(200)
    const mark = shim.requests.length
    const copies = await b.call('POST', '/v1/events', [...tricky, { ...event(`ev'1`, `cust'o`), revenue: 99 }, event('ev-4', 'b-1')])
    expect(copies.body.accepted).toBe(1)
    expect(copies.body.duplicates).toBe(3)
    expect(copies.body.rejected).toEqual([expect.objectContaining({ index: 3, code: 'event_id_reused' })])

    // B's lookup sent the ids as param_* values, and the statement text holds none of them.
    const lookups = received(mark, /^SELECT .* FROM events/s).filter((r) => Object.keys(r.params).length > 0)
    expect(lookups.length).toBeGreaterThan(0)
    expect(lookups.some((r) => Object.values(r.params).some((v) => v.includes("ev\\'1")))).toBe(true)
    for (const r of lookups) expect(r.sql).not.toMatch(/ev'1|ev"2/)
    expect(new Set(shim.requests.slice(mark).map((r) => r.user))).toEqual(new Set(['retention']))

    expect(await count("SELECT count() AS n FROM retention.events WHERE startsWith(event_id, 'ev')")).toBe(4)
    expect(JSON.parse(await shim.query(`SELECT revenue FROM retention.events WHERE event_id = 'ev\\'1'`)).revenue).toBe(10)
    expect(await count("SELECT count() AS n FROM retention.exposures WHERE experiment_id = 'http-exp'")).toBe(20)
    expect(await count("SELECT uniqExact(customer_id) AS n FROM retention.exposures WHERE experiment_id = 'http-exp' AND startsWith(customer_id, 'b-')")).toBe(
      10,
    )
    for (const s of [a, b]) expect((await fetch(`${s.server.base}/readyz`)).status).toBe(200)
  }, 120_000)

  it('answers a query that ClickHouse refuses with a 500 naming the error type, and logs it under the request id', async () => {
    await shim.query('RENAME TABLE retention.events TO retention.events_away', 'TabSeparated')
    try {
      const r = await a.call('GET', '/v1/experiments/http-exp/report', undefined, undefined, { 'x-request-id': 'ch-http-report-1' })
      expect(r.status).toBe(500)
      expect(r.body.error.code).toBe('store_query_failed')
      expect(r.body.error.message).toContain('UNKNOWN_TABLE')
      expect(r.headers.get('x-request-id')).toBe('ch-http-report-1')
      const deadline = Date.now() + 10_000
      let logged: Record<string, any> | undefined
      while (!logged && Date.now() < deadline) {
        logged = a.server
          .stdout()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
          .find((l) => l.reqId === 'ch-http-report-1' && l.level === 'error')
        if (!logged) await new Promise((res) => setTimeout(res, 50))
      }
      expect(logged).toMatchObject({ msg: 'ClickHouse failed the request' })
      expect(logged!.err.message).toContain("Unknown table expression identifier 'events'")
    } finally {
      await shim.query('RENAME TABLE retention.events_away TO retention.events', 'TabSeparated')
    }
  }, 60_000)

  it('retries an insert the server answered 503, with the same deduplication token each time', async () => {
    const mark = shim.requests.length
    shim.inject({ times: 2, mode: 'unavailable', match: /^INSERT INTO events/ })
    const r = await a.call('POST', '/v1/events', [event('retry-1', 'r1'), event('retry-2', 'r2')])
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ accepted: 2 })
    const inserts = received(mark, /^INSERT INTO events/)
    expect(inserts.map((x) => x.status)).toEqual([503, 503, 200])
    const tokens = new Set(inserts.map((x) => x.settings.insert_deduplication_token))
    expect(tokens.size).toBe(1)
    expect([...tokens][0]).toMatch(/^[0-9a-f]{64}$/)
  }, 60_000)

  it('stores once an insert whose connection dropped after ClickHouse had stored it', async () => {
    const mark = shim.requests.length
    shim.inject({ times: 1, mode: 'drop_after', match: /^INSERT INTO events/ })
    const r = await b.call('POST', '/v1/events', [event('dropped-1', 'd1'), event('dropped-2', 'd2')])
    expect(r.body).toMatchObject({ accepted: 2 })
    expect(received(mark, /^INSERT INTO events/).map((x) => x.status)).toEqual(['dropped', 200])
    // Counted without FINAL: the retry was deduplicated by its token, not merely collapsed at read time.
    expect(await count("SELECT count() AS n FROM retention.events WHERE startsWith(event_id, 'dropped-')")).toBe(2)
  }, 60_000)

  it('retries a read whose connection dropped, and gives up with a 503 once the retries are spent', async () => {
    let mark = shim.requests.length
    shim.inject({ times: 1, mode: 'drop', match: /^SELECT/ })
    const report = await a.call('GET', '/v1/experiments/http-exp/report')
    expect(report.status).toBe(200)
    expect(received(mark, /^SELECT/)[0].status).toBe('dropped')

    mark = shim.requests.length
    shim.inject({ times: 10, mode: 'unavailable', match: /^INSERT INTO events/ })
    const refused = await a.call('POST', '/v1/events', [event('refused-1', 'x1')])
    shim.clearFaults()
    expect(refused.status).toBe(503)
    expect(refused.body.error.code).toBe('store_unavailable')
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(received(mark, /^INSERT INTO events/).map((x) => x.status)).toEqual([503, 503, 503, 503])
    // Not stored, so a resend is a new event.
    expect((await a.call('POST', '/v1/events', [event('refused-1', 'x1')])).body).toMatchObject({ accepted: 1, duplicates: 0 })
  }, 60_000)
})
