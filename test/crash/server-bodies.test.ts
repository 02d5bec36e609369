import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'

// Over a real socket the hot routes read bodies straight from the Node request (api/http/body.ts); this checks
// that path with bodies that arrive in many chunks, with and without Content-Length.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bodies-'))
const KEY = 'rl_bodies_admin_key_at_least_32_characters'
let server: Awaited<ReturnType<typeof startServer>>
beforeAll(async () => {
  server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
  const post = (p: string, body: unknown) =>
    fetch(`${server.base}${p}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  await post('/v1/experiments', {
    id: 'bodies',
    name: 'Bodies',
    arms: [
      { key: 'a', name: 'A', weight: 0.5, isControl: true },
      { key: 'b', name: 'B', weight: 0.5 },
    ],
  })
  await post('/v1/experiments/bodies/start', {})
}, 90_000)
afterAll(async () => {
  await server.kill('SIGTERM')
  fs.rmSync(dataDir, { recursive: true, force: true })
})

/** A raw POST, optionally chunked (no Content-Length), in pieces of `piece` bytes. */
function rawPost(p: string, body: string, chunked: boolean, piece = 16_384): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(p, server.base)
    const headers: Record<string, string> = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
    if (!chunked) headers['content-length'] = String(Buffer.byteLength(body))
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }))
    })
    req.on('error', reject)
    for (let i = 0; i < body.length; i += piece) req.write(body.slice(i, i + piece))
    req.end()
  })
}

describe('request bodies over a real socket', () => {
  const batch = JSON.stringify({
    experimentId: 'bodies',
    customers: Array.from({ length: 10_000 }, (_, i) => ({ customerId: `cust-${i}`, attributes: { tier: i % 2 ? 'gold' : 'silver' } })),
  })

  it('reads a 10,000-customer batch sent in many chunks, with and without Content-Length', async () => {
    for (const chunked of [false, true]) {
      const res = await rawPost('/v1/assign/batch', batch, chunked)
      expect(res.status).toBe(200)
      expect(res.body.assignments).toHaveLength(10_000)
    }
  })

  it('answers 413 to an oversized chunked upload and keeps serving', async () => {
    const huge = JSON.stringify([
      { eventId: 'x', customerId: 'c', type: 'purchase', ts: Date.now(), revenue: 1, properties: { blob: 'x'.repeat(6 * 1024 * 1024) } },
    ])
    const res = await rawPost('/v1/events', huge, true, 256 * 1024)
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
    const ok = await rawPost('/v1/assign', JSON.stringify({ experimentId: 'bodies', customerId: 'after-413' }), false)
    expect(ok.status).toBe(200)
  })

  it('answers 400 to broken JSON and 415 to another content type', async () => {
    expect((await rawPost('/v1/decide', '{"customerId": ', false)).body.error.code).toBe('invalid_json')
    const res = await fetch(`${server.base}/v1/assign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(res.status).toBe(415)
  })
})
