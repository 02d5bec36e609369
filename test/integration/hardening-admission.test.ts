import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'

// Admission control on the real server, with caps small enough to reach from a test. Nothing here waits for a
// duration: requests are held open by bodies that never finish, and each assertion waits for the condition
// (a 503, a closed socket) rather than for a time.
const KEY = 'rl_hardening_admission_admin_key_32_chars'
const dirs: string[] = []
const servers: Array<Awaited<ReturnType<typeof startServer>>> = []
async function serverWith(env: Record<string, string>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-admission-'))
  dirs.push(dataDir)
  const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY, env })
  servers.push(server)
  return server
}
afterAll(async () => {
  for (const server of servers) await server.kill('SIGTERM')
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: any
}

/**
 * One request on its own connection. `body: null` declares `contentLength` but sends nothing, so only an answer
 * given before the body is read can arrive; `chunked` sends the body without Content-Length.
 */
function send(
  base: string,
  method: string,
  p: string,
  opts: { key?: string; body?: string | null; contentLength?: number; chunked?: boolean; localAddress?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(p, base)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (opts.key) headers.authorization = `Bearer ${opts.key}`
    if (opts.body !== undefined && !opts.chunked) headers['content-length'] = String(opts.contentLength ?? Buffer.byteLength(opts.body ?? ''))
    let answered = false
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method, headers, agent: false, localAddress: opts.localAddress },
      (res) => {
        answered = true
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => {
          req.destroy()
          resolve({ status: res.statusCode!, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text })
        })
      },
    )
    // Once the server has answered and closed, the rest of an upload fails to write: the answer is what counts.
    req.on('error', (e) => (answered ? undefined : reject(e)))
    if (opts.body === null) req.flushHeaders()
    if (typeof opts.body === 'string') for (let i = 0; i < opts.body.length; i += 64 * 1024) req.write(opts.body.slice(i, i + 64 * 1024))
    if (opts.body !== null) req.end()
  })
}

/** A request whose body never finishes: it holds its admission (a request slot, its declared bytes) until released. */
function hold(base: string, contentLength: number) {
  const url = new URL(base)
  const socket = net.connect(Number(url.port), url.hostname)
  let response = ''
  let closed = false
  socket.on('data', (d) => (response += d))
  socket.on('close', () => (closed = true))
  socket.on('error', () => undefined)
  socket.write(
    `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n[`,
  )
  return { answered: () => closed || response !== '', release: () => socket.destroy() }
}

/**
 * Sends `probe` until it is shed. The held requests are admitted as soon as the server reads their headers, but
 * nothing tells the client when; a probe that got in before them is simply sent again. A holder that was itself
 * shed meanwhile (the probe held the bytes it needed) is opened again.
 */
async function untilShed(holders: Array<ReturnType<typeof hold>>, reopen: (i: number) => ReturnType<typeof hold>, probe: () => Promise<Answer>) {
  for (let attempt = 0; attempt < 200; attempt++) {
    holders.forEach((h, i) => h.answered() && (holders[i] = reopen(i)))
    const answer = await probe()
    if (answer.status === 503) return answer
  }
  throw new Error('the probe was never shed')
}

async function untilStatus(status: number, request: () => Promise<Answer>) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await request().catch(() => null)
    if (answer?.status === status) return answer
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`never answered ${status}`)
}

function expectShed(answer: Answer) {
  expect(answer.status).toBe(503)
  expect(answer.headers['retry-after']).toBe('1')
  expect(answer.headers.connection).toBe('close')
  expect(answer.body.error.code).toBe('overloaded')
}

describe('admission control', () => {
  let base: string
  beforeAll(async () => {
    base = (await serverWith({ MAX_CONCURRENT_REQUESTS: '3', MAX_BODY_BYTES_IN_FLIGHT: '1000000' })).base
  }, 120_000)

  it('answers 503 + Retry-After + Connection: close, before the body is read, to a body that would pass the bytes in flight', async () => {
    const holders = [hold(base, 600_000)]
    const big = ' '.repeat(500_000) + '[]'
    try {
      expectShed(
        await untilShed(
          holders,
          () => hold(base, 600_000),
          () => send(base, 'POST', '/v1/events', { key: KEY, body: big }),
        ),
      )
      // Declared but never sent: only an answer given before reading can come back.
      expectShed(await send(base, 'POST', '/v1/events', { key: KEY, body: null, contentLength: big.length }))
      expect((await send(base, 'GET', '/healthz')).status).toBe(200)
      expect((await send(base, 'GET', '/readyz')).status).toBe(200)
      // A body that fits beside the held one is admitted.
      expect((await send(base, 'POST', '/v1/events', { key: KEY, body: '[]' })).status).toBe(200)
    } finally {
      holders.forEach((h) => h.release())
    }
    expect((await untilStatus(200, () => send(base, 'POST', '/v1/events', { key: KEY, body: big }))).body.accepted).toBe(0)
  })

  it('sheds requests past the concurrent-request cap, but never the health probes', async () => {
    const holders = [hold(base, 10), hold(base, 10), hold(base, 10)]
    try {
      expectShed(
        await untilShed(
          holders,
          () => hold(base, 10),
          () => send(base, 'GET', '/v1/experiments', { key: KEY }),
        ),
      )
      for (let i = 0; i < 5; i++) {
        expect((await send(base, 'GET', '/healthz')).status).toBe(200)
        expect((await send(base, 'GET', '/readyz')).status).toBe(200)
      }
    } finally {
      holders.forEach((h) => h.release())
    }
    await untilStatus(200, () => send(base, 'GET', '/v1/experiments', { key: KEY }))
  })

  it('counts a body sent without Content-Length as it arrives, and refuses it once it outgrows the budget', async () => {
    const holders = [hold(base, 900_000)]
    const body = JSON.stringify([{ eventId: 'e', customerId: 'c', type: 'offer_sent', ts: Date.now(), properties: { pad: 'x'.repeat(3000) } }]).repeat(100)
    try {
      const answer = await untilShed(
        holders,
        () => hold(base, 900_000),
        () => send(base, 'POST', '/v1/events', { key: KEY, body, chunked: true }),
      )
      expect(answer.body.error.code).toBe('overloaded')
      expect(answer.headers['retry-after']).toBe('1')
      expect(answer.headers.connection).toBe('close')
    } finally {
      holders.forEach((h) => h.release())
    }
  })
})

// One server for the throttles and the connection limits (a start costs seconds). The budgets refill so slowly
// (one failure per 1,000 minutes, one request per 1,000 s) that no test can outlast one; the admin key spends
// fewer than RATE_LIMIT_BURST requests in all.
let limitsBase: string
beforeAll(async () => {
  const env = { AUTH_FAILURES_PER_MINUTE: '0.001', AUTH_FAILURE_BURST: '5', RATE_LIMIT_PER_KEY: '0.001', RATE_LIMIT_BURST: '10' }
  limitsBase = (await serverWith({ ...env, HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000', MAX_CONNECTIONS: '20', KEEP_ALIVE_TIMEOUT_MS: '600000' }))
    .base
}, 120_000)

describe('authentication throttles', () => {
  const base = () => limitsBase

  it('answers 429 + Retry-After to made-up keys past the failure budget of an address, and a valid key still works from it', async () => {
    // Its own loopback address, so that the other tests' address keeps its budget.
    const from = { localAddress: '127.0.0.2' }
    expect((await send(base(), 'GET', '/v1/experiments', { key: KEY, ...from })).status).toBe(200)
    for (let i = 0; i < 5; i++) expect((await send(base(), 'GET', '/v1/experiments', { key: `rl_bogus_${i}`, ...from })).status).toBe(401)
    for (const key of ['rl_bogus_5', 'rl_bogus_6', 'rl_bogus_0']) {
      const throttled = await send(base(), 'GET', '/v1/experiments', { key, ...from })
      expect(throttled.status).toBe(429)
      expect(throttled.body.error.code).toBe('auth_throttled')
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    }
    expect((await send(base(), 'GET', '/v1/experiments', { key: KEY, ...from })).status).toBe(200)
    // Another address has its own budget.
    expect((await send(base(), 'GET', '/v1/experiments', { key: 'rl_bogus_7' })).status).toBe(401)
  })

  it('limits each key to RATE_LIMIT_PER_KEY: the noisy key gets 429 + Retry-After, another key does not', async () => {
    const create = async (name: string) =>
      (await send(base(), 'POST', '/v1/keys', { key: KEY, body: JSON.stringify({ name, role: 'viewer' }) })).body.key as string
    const noisy = await create('noisy')
    const quiet = await create('quiet')
    for (let i = 0; i < 10; i++) expect((await send(base(), 'GET', '/v1/experiments', { key: noisy })).status).toBe(200)
    const over = await send(base(), 'GET', '/v1/experiments', { key: noisy })
    expect(over.status).toBe(429)
    expect(over.body.error.code).toBe('rate_limited')
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect((await send(base(), 'GET', '/v1/experiments', { key: quiet })).status).toBe(200)
  })
})

describe('connection limits', () => {
  const base = () => limitsBase

  /** Writes `head`, then one `drip` every 100 ms until the server closes the socket; resolves with what it answered. */
  function trickle(head: string, drip: string) {
    const url = new URL(base())
    return new Promise<string>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write(head))
      let response = ''
      const timer = setInterval(() => socket.writable && socket.write(drip), 100)
      socket.on('data', (d) => (response += d))
      socket.on('error', () => undefined)
      socket.on('close', () => {
        clearInterval(timer)
        resolve(response)
      })
    })
  }

  it('cuts a connection that trickles its headers (HEADERS_TIMEOUT_MS)', async () => {
    const answer = await trickle('GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n')
    if (answer) expect(answer).toMatch(/^HTTP\/1\.1 408/)
    expect((await untilStatus(200, () => send(base(), 'GET', '/healthz'))).status).toBe(200)
  })

  it('cuts a request that trickles its body (REQUEST_TIMEOUT_MS)', async () => {
    const answer = await trickle(
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[`,
      ' ',
    )
    if (answer) expect(answer).toMatch(/^HTTP\/1\.1 408/)
  })

  it('closes connections past MAX_CONNECTIONS without serving them', async () => {
    const url = new URL(base())
    const sockets: net.Socket[] = []
    const outcomes: Array<'served' | 'refused'> = []
    try {
      for (let i = 0; i < 25; i++) {
        const socket = net.connect(Number(url.port), url.hostname)
        sockets.push(socket)
        outcomes.push(
          await new Promise((resolve) => {
            socket.on('data', (d) => String(d).includes('\r\n\r\n') && resolve('served'))
            socket.on('error', () => resolve('refused'))
            socket.on('close', () => resolve('refused'))
            socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
          }),
        )
      }
    } finally {
      sockets.forEach((s) => s.destroy())
    }
    expect(outcomes.filter((o) => o === 'served').length).toBeLessThanOrEqual(20)
    expect(outcomes).toContain('refused')
    await untilStatus(200, () => send(base(), 'GET', '/healthz'))
  })
})
