import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openServer, type OpenServer } from '../helpers/server-client.ts'
import { parsePrometheusText, type PrometheusScrape } from '../helpers/prometheus-text.ts'
import { twoArmExperiment } from '../helpers/harness.ts'

const SCRAPE_KEY = `rl_scrape_${randomBytes(24).toString('base64url')}`
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const T0 = Date.parse('2026-10-01T00:00:00Z')
let s: OpenServer

beforeAll(async () => {
  s = await openServer('ops', { env: { METRICS_SCRAPE_KEY: SCRAPE_KEY, LOG_LEVEL: 'info' } })
  expect((await s.call('PUT', '/v1/settings', { globalHoldoutPct: 0 })).status).toBe(200)
}, 90_000)
afterAll(() => s?.close())

async function scrape(): Promise<PrometheusScrape> {
  const res = await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_KEY}` } })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parsePrometheusText(await res.text())
}

/** The server's stdout as JSON objects; throws on any line that is not one. */
function logLines(): Array<Record<string, any>> {
  return s
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const parsed = JSON.parse(line)
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`not a JSON object: ${line}`)
      return parsed
    })
}

/** The log lines matching `predicate`, once at least one has arrived (the pipe may lag the answer). */
async function waitForLines(predicate: (line: Record<string, any>) => boolean): Promise<Array<Record<string, any>>> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const found = logLines().filter(predicate)
    if (found.length || Date.now() > deadline) return found
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('GET /metrics', () => {
  it('answers only the scrape key, and leaves the dashboard page at /metrics to browsers', async () => {
    const noKey = await fetch(`${s.base}/metrics`)
    expect(noKey.status).toBe(401)
    expect(noKey.headers.get('www-authenticate')).toBe('Bearer realm="metrics"')
    expect((await noKey.json()).error.code).toBe('unauthorized')
    for (const key of [`${SCRAPE_KEY}x`, SCRAPE_KEY.slice(0, -1), s.adminKey]) {
      const wrong = await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${key}` } })
      expect(wrong.status).toBe(401)
      expect(await wrong.text()).not.toContain('retention_http_requests_total')
    }
    const browser = await fetch(`${s.base}/metrics`, { headers: { accept: 'text/html,application/xhtml+xml' } })
    expect(browser.headers.get('content-type')).not.toMatch(/^text\/plain/)
    expect(await browser.text()).not.toContain('retention_http_requests_total')
  })

  it('counts requests under their route pattern, writer inserts, ingested rows, decisions and budget spend', async () => {
    expect((await s.call('POST', '/v1/experiments', twoArmExperiment('ops-exp'))).status).toBe(201)
    expect((await s.call('POST', '/v1/experiments/ops-exp/start')).status).toBe(200)
    expect((await s.call('POST', '/v1/triggers', { key: 'ops_trigger', name: 'ops', tiers: [] })).status).toBe(201)
    const budgeted = twoArmExperiment('ops-decide', { trigger: 'ops_trigger', budget: { amount: 100, currency: 'EUR' } })
    expect((await s.call('POST', '/v1/experiments', budgeted)).status).toBe(201)
    expect((await s.call('POST', '/v1/experiments/ops-decide/start')).status).toBe(200)

    const before = await scrape()
    for (let i = 0; i < 3; i++) expect((await s.call('GET', '/v1/experiments/ops-exp')).status).toBe(200)
    expect((await s.call('GET', '/v1/experiments/no-such-experiment')).status).toBe(404)
    for (let i = 0; i < 20; i++) expect((await s.call('POST', '/v1/assign', { experimentId: 'ops-exp', customerId: `ops-c${i}` })).status).toBe(200)
    const reasons = new Map<string, number>()
    let incentives = 0
    for (let i = 0; i < 12; i++) {
      const d = await s.call('POST', '/v1/decide', { customerId: `ops-d${i}`, trigger: 'ops_trigger' })
      expect(d.status).toBe(200)
      const reason = d.body.reason ?? 'offer'
      if (d.body.offer?.type === 'percent_off') incentives++
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
    }
    const events = [
      { eventId: 'ops-e1', customerId: 'ops-c1', type: 'purchase', ts: T0, revenue: 30 },
      { eventId: 'ops-e2', customerId: 'ops-d1', type: 'offer_redeemed', ts: T0, experimentId: 'ops-decide', arm: 'pct15', cost: 7.5 },
      { eventId: 'ops-e3', customerId: '', type: 'purchase', ts: T0 },
    ]
    const ingested = await s.call('POST', '/v1/events', events)
    expect(ingested.body).toMatchObject({ accepted: 2, duplicates: 0 })
    expect(ingested.body.rejected).toHaveLength(1)
    expect((await s.call('POST', '/v1/events', events.slice(0, 1))).body).toMatchObject({ accepted: 0, duplicates: 1 })
    // Embedded chDB takes exposures from the journal a moment after they were acknowledged (stores/insert-journal.ts).
    const exposuresInserted = (x: PrometheusScrape) => x.sum('retention_store_inserted_rows_total', { writer: 'exposures' })
    let after = await scrape()
    for (const deadline = Date.now() + 30_000; exposuresInserted(after) - exposuresInserted(before) < 32 && Date.now() < deadline; after = await scrape())
      await new Promise((r) => setTimeout(r, 50))

    const delta = (name: string, labels: Record<string, string> = {}) => after.sum(name, labels) - before.sum(name, labels)
    const byRoute = { method: 'GET', route: '/v1/experiments/:id' }
    expect(delta('retention_http_requests_total', { ...byRoute, status: '200' })).toBe(3)
    expect(delta('retention_http_requests_total', { ...byRoute, status: '404' })).toBe(1)
    expect(delta('retention_http_request_duration_seconds_count', byRoute)).toBe(4)
    expect(delta('retention_http_requests_total', { method: 'POST', route: '/v1/assign', status: '200' })).toBe(20)
    expect(delta('retention_http_requests_total', { method: 'POST', route: '/v1/decide', status: '200' })).toBe(12)
    expect(delta('retention_http_requests_total', { method: 'POST', route: '/v1/events', status: '200' })).toBe(2)
    // Ids in paths never become series: the route label is the pattern.
    const routes = new Set(after.samples('retention_http_requests_total').map((x) => x.labels.route))
    expect([...routes].filter((r) => /ops-exp|no-such|ops-c/.test(r))).toEqual([])

    // 20 assignments and the 12 decisions' exposures, through the journal.
    expect(delta('retention_store_inserted_rows_total', { writer: 'exposures' })).toBe(32)
    expect(delta('retention_store_inserted_rows_total', { writer: 'events' })).toBe(2)
    expect(delta('retention_store_insert_duration_seconds_count', { writer: 'events', outcome: 'ok' })).toBeGreaterThanOrEqual(1)
    expect(delta('retention_store_insert_duration_seconds_count', { writer: 'exposures', outcome: 'ok' })).toBeGreaterThanOrEqual(1)
    expect(after.value('retention_write_queue_rows', { writer: 'events' })).toBe(0)
    expect(
      after
        .samples('retention_write_queue_rows')
        .map((x) => x.labels.writer)
        .sort(),
    ).toEqual(['events', 'exposures', 'suppressions'])

    expect(delta('retention_events_ingested_total', { outcome: 'accepted' })).toBe(2)
    expect(delta('retention_events_ingested_total', { outcome: 'invalid' })).toBe(1)
    expect(delta('retention_events_ingested_total', { outcome: 'duplicate' })).toBe(1)

    for (const [reason, n] of reasons) expect(delta('retention_decisions_total', { reason }), reason).toBe(n)
    expect(delta('retention_decisions_total')).toBe(12)

    expect(after.value('retention_budget_amount', { experiment: 'ops-decide', currency: 'EUR' })).toBe(100)
    expect(after.value('retention_budget_spent', { experiment: 'ops-decide', currency: 'EUR' })).toBe(7.5)
    expect(after.samples('retention_budget_spent').map((x) => x.labels.experiment)).toEqual(['ops-decide'])
    // Offers issued and not yet redeemed hold their expected cost against the budget.
    expect(incentives).toBeGreaterThan(0)
    expect(after.value('retention_budget_reserved', { experiment: 'ops-decide', currency: 'EUR' })).toBeGreaterThan(0)

    // Process metrics from prom-client's defaults.
    expect(after.families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge')
    expect(after.value('process_cpu_user_seconds_total')).toBeGreaterThan(0)
  })
})

describe('logs', () => {
  it('writes one JSON object per line, each request with the id it echoes in X-Request-Id', async () => {
    const given = await s.call('GET', '/v1/experiments/ops-exp', undefined, undefined, { 'x-request-id': 'ops-trace-0001' })
    expect(given.headers.get('x-request-id')).toBe('ops-trace-0001')
    const [line] = await waitForLines((l) => l.reqId === 'ops-trace-0001')
    expect(line).toMatchObject({ level: 'info', msg: 'request', method: 'GET', route: '/v1/experiments/:id', path: '/v1/experiments/ops-exp', status: 200 })
    expect(typeof line.ms).toBe('number')
    expect(Date.parse(line.time)).toBeGreaterThan(Date.now() - 60_000)

    // An id that could forge a log line or is too long is replaced by a generated one.
    for (const bad of ['two words', 'x'.repeat(129), 'quote"and\\slash']) {
      const r = await s.call('GET', '/v1/experiments/ops-exp', undefined, undefined, { 'x-request-id': bad })
      const id = r.headers.get('x-request-id')!
      expect(id).toMatch(UUID)
      expect(await waitForLines((l) => l.reqId === id)).toHaveLength(1)
    }
    const failed = await s.call('GET', '/v1/experiments/ops-exp', undefined, 'rl_not_a_key_at_all')
    expect(failed.status).toBe(401)
    const failedId = failed.headers.get('x-request-id')!
    expect(failedId).toMatch(UUID)
    expect(await waitForLines((l) => l.reqId === failedId && l.status === 401)).toHaveLength(1)

    const lines = logLines()
    expect(lines.length).toBeGreaterThan(40)
    for (const l of lines) {
      expect(typeof l.time).toBe('string')
      expect(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).toContain(l.level)
      expect(typeof l.msg).toBe('string')
    }
    // Every request got its own id (none of the requests above sent the same one twice).
    const requestLines = lines.filter((l) => l.msg === 'request')
    expect(new Set(requestLines.map((l) => l.reqId)).size).toBe(requestLines.length)
    expect(lines.some((l) => /Retention Lab is serving on/.test(l.msg))).toBe(true)
    // No secret reaches the log: API keys (the admin's, a made-up one), the scrape key, Authorization headers.
    const text = s.stdout()
    for (const secret of [s.adminKey, SCRAPE_KEY, 'rl_not_a_key_at_all', 'Bearer']) expect(text).not.toContain(secret)
  })
})

describe('graceful shutdown', () => {
  it('on SIGTERM, stores every event it acknowledged, logs the shutdown as JSON and exits 0', async () => {
    const acked = new Set<string>()
    let stopped = false
    const loops = Array.from({ length: 3 }, async (_, client) => {
      for (let seq = 0; !stopped; seq++) {
        const batch = Array.from({ length: 200 }, (_, i) => ({
          eventId: `sd-${client}-${seq}-${i}`,
          customerId: `sd-c${i}`,
          type: 'purchase',
          ts: T0,
          revenue: 1,
        }))
        try {
          const res = await fetch(`${s.base}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          })
          if (res.status === 200) for (const e of batch) acked.add(e.eventId)
          else await res.arrayBuffer()
        } catch {
          return // the server has gone
        }
      }
    })
    const deadline = Date.now() + 30_000
    while (acked.size < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(acked.size).toBeGreaterThanOrEqual(2000)
    // readClickHouse sends SIGTERM while the loops are still posting, and requires exit code 0.
    const stored = await s.readClickHouse<{ event_id: string }>("SELECT event_id FROM events FINAL WHERE startsWith(event_id, 'sd-')")
    stopped = true
    await Promise.all(loops)
    const ids = new Set(stored.map((r) => r.event_id))
    expect([...acked].filter((id) => !ids.has(id))).toEqual([])
    const lines = logLines()
    expect(lines.some((l) => l.signal === 'SIGTERM' && /flushing pending writes/.test(l.msg))).toBe(true)
    expect(lines.at(-1)).toMatchObject({ level: 'info', signal: 'SIGTERM', msg: 'stopped: pending writes flushed, stores closed' })
  }, 90_000)
})
