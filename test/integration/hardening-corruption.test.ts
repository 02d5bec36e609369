import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'

const KEY = 'rl_corruption_admin_key_with_32_characters'
const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-corruption-'))
const dataDir = path.join(parent, 'data')
let server: Awaited<ReturnType<typeof startServer>> | null = null

afterAll(async () => {
  if (server?.child.exitCode === null) await server.kill('SIGTERM')
  fs.rmSync(parent, { recursive: true, force: true })
})

const call = (base: string, method: string, p: string, body?: unknown) =>
  fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })

/**
 * The active parts of the events table on disk: DATA_DIR/ch/data/default/events links to the table's directory,
 * which holds one directory per part (<partition>_<min>_<max>_<level>) beside detached/ and format_version.txt.
 */
function eventsParts(): string[] {
  const table = fs.realpathSync(path.join(dataDir, 'ch', 'data', 'default', 'events'))
  return fs
    .readdirSync(table, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[^_]+_\d+_\d+_\d+(_\d+)?$/.test(e.name))
    .map((e) => path.join(table, e.name))
}

/** Inverts every byte of every column data file (.bin) of a part: each compressed block fails its checksum or codec check. */
function flipDataFiles(part: string): string[] {
  const files = fs.readdirSync(part).filter((f) => f.endsWith('.bin'))
  for (const f of files) {
    const bytes = fs.readFileSync(path.join(part, f))
    for (let i = 0; i < bytes.length; i++) bytes[i] ^= 0xff
    fs.writeFileSync(path.join(part, f), bytes)
  }
  return files
}

describe('corrupted ClickHouse data', () => {
  beforeAll(async () => {
    server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
    const arms = [
      { key: 'control', name: 'Control', weight: 0.5, isControl: true },
      { key: 'offer', name: '15% off', weight: 0.5 },
    ]
    expect((await call(server.base, 'POST', '/v1/experiments', { id: 'corrupt', name: 'Corruption', arms })).status).toBe(201)
    expect((await call(server.base, 'POST', '/v1/experiments/corrupt/start', {})).status).toBe(200)
    const customers = Array.from({ length: 40 }, (_, i) => ({ customerId: `c-${i}` }))
    expect((await call(server.base, 'POST', '/v1/assign/batch', { experimentId: 'corrupt', customers })).status).toBe(200)
    // One request, so one insert and one part: with a single part there is no merge to race the corruption.
    const events = customers.map((c, i) => ({ eventId: `e-${i}`, customerId: c.customerId, type: 'purchase', ts: Date.now(), revenue: 10 + i }))
    expect((await call(server.base, 'POST', '/v1/events', events)).status).toBeLessThan(300)
  })

  it('is ready, and its reports answer, while every table answers', async () => {
    const ready = await fetch(`${server!.base}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', postgres: 'ok', clickhouse: 'ok' })
    expect((await call(server!.base, 'GET', '/v1/experiments/corrupt/report')).status).toBe(200)
  })

  it('after bytes of an events part flip: /readyz is 503 naming events, a report answers store_corrupted without Retry-After, /healthz still answers', async () => {
    // SIGTERM flushes pending writes; the part files are final once the process has exited.
    expect(await server!.kill('SIGTERM')).toBe(0)
    const parts = eventsParts()
    expect(parts.length).toBeGreaterThan(0)
    for (const part of parts) expect(flipDataFiles(part).length).toBeGreaterThan(0)

    // A fresh process has empty mark and block caches, so every read goes to the flipped bytes on disk.
    server = await startServer({ dataDir, port: await freePort(), adminKey: KEY, waitFor: '/healthz' })
    const base = server.base

    expect((await fetch(`${base}/healthz`)).status).toBe(200)

    // The first answer waits for the full check: a corrupted store is never reported ready, not even once.
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(503)
    const readiness = await ready.json()
    expect(readiness).toMatchObject({ status: 'not_ready', postgres: 'ok', clickhouse: 'corrupted', error: { code: 'store_corrupted' } })
    expect(readiness.tables).toEqual([expect.objectContaining({ store: 'clickhouse', table: 'events', reason: 'corrupted' })])
    expect(readiness.error.message).toContain('events')
    // The store's own text (local paths, DB::Exception …) stays in the server log.
    expect(JSON.stringify(readiness)).not.toContain(dataDir)
    expect(JSON.stringify(readiness)).not.toContain('DB::Exception')

    const report = await call(base, 'GET', '/v1/experiments/corrupt/report')
    const body = await report.json()
    expect({ status: report.status, code: body.error.code, retryAfter: report.headers.get('retry-after') }).toEqual({
      status: 503,
      code: 'store_corrupted',
      retryAfter: null,
    })
    expect(body.error.message).toContain('the ClickHouse table events is corrupted')
    expect(body.error.message).not.toContain('may be retried')
    expect(JSON.stringify(body)).not.toContain(dataDir)

    // The server writes its log asynchronously: the line may reach the pipe after the answer.
    const logged = server.output
    await vi.waitFor(() => expect(logged()).toMatch(/ClickHouse data is corrupted \(\w+ in part \w+ of table events\)/), { timeout: 30_000, interval: 100 })
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  })
})
