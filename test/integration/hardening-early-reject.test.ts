import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'

// A reject sent before the request body was read (413 on Content-Length, 401, 415) leaves unread bytes on the
// socket; the server then drops the connection, so it must not have promised to keep it alive.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-early-reject-'))
const KEY = 'rl_early_reject_admin_key_32_chars_long'
let server: Awaited<ReturnType<typeof startServer>>
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
beforeAll(async () => {
  server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
}, 90_000)
afterAll(async () => {
  agent.destroy()
  await server?.kill('SIGTERM')
  fs.rmSync(dataDir, { recursive: true, force: true })
})

interface Answer {
  status: number
  connection: string | undefined
  body: string
}

/** One request through the shared keep-alive agent; the body goes out in 64 KiB pieces. */
function send(method: string, p: string, body: string | null, headers: Record<string, string> = {}, early = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(p, server.base)
    const all: Record<string, string> = { 'content-type': 'application/json', ...headers }
    if (body !== null) all['content-length'] = String(Buffer.byteLength(body))
    let answered = false
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method, headers: all, agent }, (res) => {
      answered = true
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: text }))
    })
    // Once the server has answered and closed, the rest of the upload fails to write: the answer is what counts.
    req.on('error', (e) => (answered ? undefined : reject(e)))
    const upload = () => {
      if (body !== null) for (let i = 0; i < body.length && !req.destroyed; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024))
      if (!req.destroyed) req.end()
    }
    if (early && body !== null) {
      // The server answers an early reject from the headers alone: send them, wait for that answer, then try the
      // body. Racing the upload against the close lost the answer to EPIPE on a busy machine.
      req.flushHeaders()
      req.once('response', upload)
    } else upload()
  })
}

const auth = { authorization: `Bearer ${KEY}` }
const health = () => send('GET', '/healthz', null)

describe('early rejects over a keep-alive connection', () => {
  it('answers 413 on an oversized Content-Length with Connection: close, and the next request succeeds', async () => {
    expect((await health()).status).toBe(200)
    // Past the 64 MB the Node adapter drains before it drops the connection.
    const huge = JSON.stringify({ blob: 'x'.repeat(80 * 1024 * 1024) })
    for (const p of ['/v1/events', '/v1/assign/batch', '/v1/experiments']) {
      const res = await send('POST', p, huge, auth, true)
      expect(res.status, p).toBe(413)
      expect(res.connection, p).toBe('close')
      const next = await health()
      expect(next.status, `after ${p}`).toBe(200)
      expect(next.connection).toBe('keep-alive')
    }
  })

  it('closes after a 401 sent before the body was read, and keeps serving', async () => {
    const body = JSON.stringify({ experimentId: 'x', customers: Array.from({ length: 20_000 }, (_, i) => ({ customerId: `c-${i}` })) })
    for (const p of ['/v1/assign/batch', '/v1/experiments']) {
      const unauthorized = await send('POST', p, body, {}, true)
      expect(unauthorized.status, p).toBe(401)
      expect(unauthorized.connection, p).toBe('close')
      expect((await health()).status, `after ${p}`).toBe(200)
    }
  })

  it('keeps the connection alive when the body was read, even if the answer is an error', async () => {
    const res = await send('POST', '/v1/experiments', JSON.stringify({ id: 'bad id!' }), auth)
    expect(res.status).toBe(400)
    expect(res.connection).toBe('keep-alive')
    expect((await health()).status).toBe(200)
  })
})
