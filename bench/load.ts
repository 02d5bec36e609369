import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Agent, request } from 'node:http'
import { freePort, startServer } from '../test/helpers/server-process.ts'
import { median, rssMiB, writeResult } from './machine.ts'

// Admission control under abuse (issue 16, acceptance), against the real server as a child process (SEED_DEMO=0):
// 1. 30, then 80 connections each posting 4.7 MB event bodies (10,000 events) back to back for BENCH_SECONDS,
//    ignoring Retry-After as a flood would: answers by status, client timeouts, and the server's RSS — idle,
//    peak (VmRSS sampled every 100 ms) and one minute after the flood.
// 2. On a fresh server with its timeouts shortened to SLOW_TIMEOUT_MS (5 s, not the 30 s default, to keep the
//    run short): 3,000 connections trickling their headers, then 3,000 trickling a body, one byte a second each:
//    how many the server cuts, and when.
const seconds = Number(process.env.BENCH_SECONDS ?? 20)
const settleSeconds = Number(process.env.BENCH_SETTLE_SECONDS ?? 60)
const slowConnections = Number(process.env.BENCH_SLOW_CONNECTIONS ?? 3000)
const SLOW_TIMEOUT_MS = 5000
const CLIENT_TIMEOUT_MS = 30_000
const EVENTS = 10_000
const WARM_UP_BODIES = 10
const KEY = 'rl_bench_admin_key_at_least_32_characters'
const MiB = 1024 * 1024
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A 4.7 MB body of 10,000 valid purchases; `RRRRRRRR` in each eventId is overwritten per request (`stamp`) so every
 * accepted body is new events rather than duplicates the server could skip.
 */
function bodyTemplate() {
  const now = Date.now()
  const pad = 'x'.repeat(342)
  const text = JSON.stringify(
    Array.from({ length: EVENTS }, (_, i) => ({
      eventId: `RRRRRRRR-${i}`,
      customerId: `cust-${i % 5000}`,
      type: 'purchase',
      ts: now - i * 1000,
      revenue: 20 + (i % 97),
      properties: { note: pad },
    })),
  )
  const buffer = Buffer.from(text)
  const offsets: number[] = []
  for (let at = buffer.indexOf('RRRRRRRR'); at >= 0; at = buffer.indexOf('RRRRRRRR', at + 8)) offsets.push(at)
  return {
    buffer,
    stamp: (n: number) => {
      const copy = Buffer.from(buffer)
      const id = n.toString(36).padStart(8, '0')
      for (const at of offsets) copy.write(id, at, 'latin1')
      return copy
    },
  }
}

type Outcome = { kind: 'status'; status: number; ms: number } | { kind: 'timeout'; uploaded: boolean } | { kind: 'error'; code: string }

function post(agent: Agent, url: URL, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const t = performance.now()
    let done = false
    let uploaded = false
    const finish = (o: Outcome) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(o)
    }
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume()
        res.on('end', () => finish({ kind: 'status', status: res.statusCode ?? 0, ms: performance.now() - t }))
        res.on('error', () => finish({ kind: 'status', status: res.statusCode ?? 0, ms: performance.now() - t }))
      },
    )
    const timer = setTimeout(() => {
      finish({ kind: 'timeout', uploaded })
      req.destroy()
    }, CLIENT_TIMEOUT_MS)
    // The whole body left for the server: it was admitted and read, and the time went in processing it.
    req.on('finish', () => (uploaded = true))
    // An early 503 closes the connection while the body is still going out: the answer already counted.
    req.on('error', (e: NodeJS.ErrnoException) => finish({ kind: 'error', code: e.code ?? e.message }))
    req.end(body)
  })
}

/** VmRSS of `pid` every 100 ms until stopped: the peak and the last reading. */
function sampleRss(pid: number) {
  let peak = rssMiB(pid)
  let last = peak
  const timer = setInterval(() => {
    last = rssMiB(pid)
    peak = Math.max(peak, last)
  }, 100)
  return { peak: () => peak, last: () => last, stop: () => clearInterval(timer) }
}

async function flood(base: string, pid: number, connections: number, template: ReturnType<typeof bodyTemplate>, idleRss: number) {
  const url = new URL('/v1/events', base)
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const rss = sampleRss(pid)
  const counts = { ok: 0, shed503: 0, timeouts: 0, timeoutsAfterUpload: 0, errors: 0, other: {} as Record<string, number> }
  const okMs: number[] = []
  const shedMs: number[] = []
  let stamp = 0
  const deadline = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: connections }, async () => {
      let body = template.stamp(stamp++)
      while (performance.now() < deadline) {
        const o = await post(agent, url, body)
        if (o.kind === 'timeout') {
          counts.timeouts++
          if (o.uploaded) counts.timeoutsAfterUpload++
        } else if (o.kind === 'error') counts.errors++
        else if (o.status === 200) {
          counts.ok++
          okMs.push(o.ms)
          // Refused bodies are sent again as they are; accepted ones are replaced, so events stay new.
          body = template.stamp(stamp++)
        } else if (o.status === 503) {
          counts.shed503++
          shedMs.push(o.ms)
        } else counts.other[o.status] = (counts.other[o.status] ?? 0) + 1
      }
    }),
  )
  agent.destroy()
  const peakRssMiB = rss.peak()
  const after: number[] = []
  for (let s = 0; s < settleSeconds; s++) {
    await sleep(1000)
    after.push(rss.last())
  }
  rss.stop()
  const rssAfterMiB = after.at(-1) ?? rss.last()
  const secondsToIdlePlus10 = after.findIndex((r) => r <= idleRss * 1.1)
  return {
    connections,
    seconds,
    ...counts,
    eventsAccepted: counts.ok * EVENTS,
    medianMs200: okMs.length ? Math.round(median(okMs)) : null,
    medianMs503: shedMs.length ? Math.round(median(shedMs)) : null,
    peakRssMiB: Math.round(peakRssMiB),
    rssAfterMiB: Math.round(rssAfterMiB),
    rssAfterEvery5sMiB: after.filter((_, i) => i % 5 === 4).map(Math.round),
    rssAfterSeconds: settleSeconds,
    secondsToIdlePlus10Pct: secondsToIdlePlus10 < 0 ? null : secondsToIdlePlus10 + 1,
  }
}

/**
 * Opens `n` connections (in waves, so the listen backlog does not turn the test into one of SYN retries), writes
 * `head` on each and then one byte of `drip` a second, and waits until the server has closed them all or `giveUpMs`
 * has passed. Reports what the server answered and how long after its first byte each connection was cut.
 */
async function trickle(base: string, n: number, head: string, drip: string, giveUpMs: number) {
  const url = new URL(base)
  const conns: Array<{ socket: net.Socket; started: number; cutAfter: number | null; response: string }> = []
  for (let i = 0; i < n; i += 250) {
    await Promise.all(
      Array.from(
        { length: Math.min(250, n - i) },
        () =>
          new Promise<void>((resolve) => {
            const socket = net.connect(Number(url.port), url.hostname)
            const conn = { socket, started: 0, cutAfter: null as number | null, response: '' }
            conns.push(conn)
            socket.on('connect', () => {
              conn.started = performance.now()
              socket.write(head)
              resolve()
            })
            socket.on('data', (d) => (conn.response += d))
            socket.on('error', () => resolve())
            socket.on('close', () => {
              conn.cutAfter = performance.now() - (conn.started || performance.now())
              resolve()
            })
          }),
      ),
    )
  }
  const dripper = setInterval(() => conns.forEach((c) => c.cutAfter === null && c.socket.writable && c.socket.write(drip)), 1000)
  const probe = { answered: 0, failed: 0, ms: [] as number[] }
  const giveUp = performance.now() + giveUpMs
  while (conns.some((c) => c.cutAfter === null) && performance.now() < giveUp) {
    const t = performance.now()
    const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) {
      probe.answered++
      probe.ms.push(performance.now() - t)
    } else probe.failed++
    await sleep(500)
  }
  clearInterval(dripper)
  const cut = conns.filter((c) => c.cutAfter !== null)
  const statusOf = (c: (typeof conns)[number]) => /^HTTP\/1\.1 (\d{3})/.exec(c.response)?.[1] ?? 'none'
  const answers: Record<string, number> = {}
  for (const c of cut) answers[statusOf(c)] = (answers[statusOf(c)] ?? 0) + 1
  const timedOut = cut.filter((c) => statusOf(c) !== '503').map((c) => c.cutAfter! / 1000)
  const shed = cut.filter((c) => statusOf(c) === '503').map((c) => c.cutAfter! / 1000)
  const spread = (xs: number[]) => (xs.length ? { min: +Math.min(...xs).toFixed(1), median: +median(xs).toFixed(1), max: +Math.max(...xs).toFixed(1) } : null)
  conns.forEach((c) => c.socket.destroy())
  return {
    connections: n,
    cut: cut.length,
    stillOpen: n - cut.length,
    answers,
    cutAtTimeout: timedOut.length,
    cutAfterSeconds: spread(timedOut),
    shed503AfterSeconds: spread(shed),
    healthz: { answered: probe.answered, failed: probe.failed, medianMs: probe.ms.length ? Math.round(median(probe.ms)) : null },
  }
}

async function withServer<T>(name: string, env: Record<string, string>, run: (server: Awaited<ReturnType<typeof startServer>>) => Promise<T>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `rl-bench-load-${name}-`))
  const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY, env })
  try {
    return await run(server)
  } finally {
    await server.kill('SIGTERM')
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

const loadAverage = () => os.loadavg().map((x) => +x.toFixed(1))
const loadAverageAtStart = loadAverage()
const template = bodyTemplate()
console.log(`bodies: ${(template.buffer.length / 1e6).toFixed(2)} MB, ${EVENTS.toLocaleString()} events; load average ${loadAverageAtStart.join(' ')}`)

const bodies = await withServer('bodies', {}, async (server) => {
  const pid = server.child.pid!
  const coldRss = rssMiB(pid)
  // Idle means a server that has served: code compiled, stores open for writing, and the event writer's memory
  // of the last 100,000 events (api/ingest/event-writer.ts) full, as it is after any real traffic; 10 bodies fill it.
  for (let i = 0; i < WARM_UP_BODIES; i++) {
    const warm = await post(new Agent(), new URL('/v1/events', server.base), template.stamp(1e9 + i))
    if (warm.kind !== 'status' || warm.status !== 200) throw new Error(`warm-up body: ${JSON.stringify(warm)}`)
  }
  await sleep(settleSeconds * 1000)
  const idleRss = rssMiB(pid)
  console.log(
    `server idle RSS ${Math.round(coldRss)} MiB at start, ${Math.round(idleRss)} MiB after ${WARM_UP_BODIES} bodies one at a time and ${settleSeconds} s`,
  )
  const runs = []
  for (const connections of [30, 80]) {
    console.log(`${connections} connections × 4.7 MB bodies for ${seconds} s, then ${settleSeconds} s idle…`)
    const r = await flood(server.base, pid, connections, template, idleRss)
    console.log(
      `  200: ${r.ok}, 503: ${r.shed503}, other: ${JSON.stringify(r.other)}, timeouts: ${r.timeouts} (${r.timeoutsAfterUpload} after the whole body was sent), errors: ${r.errors}; median ${r.medianMs200} ms (200) / ${r.medianMs503} ms (503)`,
    )
    console.log(
      `  RSS peak ${r.peakRssMiB} MiB, ${r.rssAfterMiB} MiB after ${settleSeconds} s (idle + 10% = ${Math.round(idleRss * 1.1)} MiB${r.secondsToIdlePlus10Pct ? `, reached after ${r.secondsToIdlePlus10Pct} s` : ', not reached'})`,
    )
    runs.push(r)
  }
  return { coldRssMiB: Math.round(coldRss), idleRssMiB: Math.round(idleRss), runs }
})

const slowEnv = { REQUEST_TIMEOUT_MS: String(SLOW_TIMEOUT_MS), HEADERS_TIMEOUT_MS: String(SLOW_TIMEOUT_MS) }
const slow = await withServer('slow', slowEnv, async (server) => {
  console.log(`${slowConnections.toLocaleString()} connections trickling headers (timeouts ${SLOW_TIMEOUT_MS / 1000} s)…`)
  const headers = await trickle(server.base, slowConnections, 'GET /v1/experiments HTTP/1.1\r\nHost: bench\r\n', 'x', 60_000)
  console.log(
    `  cut ${headers.cut} (${JSON.stringify(headers.answers)}), still open ${headers.stillOpen}; cut after ${JSON.stringify(headers.cutAfterSeconds)} s; /healthz meanwhile ${JSON.stringify(headers.healthz)}`,
  )
  console.log(`${slowConnections.toLocaleString()} connections trickling a 64 KiB body with a valid key…`)
  const head = `POST /v1/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024}\r\n\r\n[`
  const bodies = await trickle(server.base, slowConnections, head, ' ', 60_000)
  console.log(
    `  cut ${bodies.cut} (${JSON.stringify(bodies.answers)}), still open ${bodies.stillOpen}; cut at the timeout after ${JSON.stringify(bodies.cutAfterSeconds)} s, 503 after ${JSON.stringify(bodies.shed503AfterSeconds)} s; /healthz meanwhile ${JSON.stringify(bodies.healthz)}`,
  )
  return { timeoutMs: SLOW_TIMEOUT_MS, headers, bodies }
})

const idle = bodies.idleRssMiB
const targets = {
  early503: bodies.runs.every((r) => r.shed503 > 0 && r.timeouts === 0),
  peakRssUnder1_2GB: bodies.runs.every((r) => r.peakRssMiB * MiB < 1.2e9),
  backToIdlePlus10PctWithinAMinute: bodies.runs.every((r) => r.rssAfterMiB <= idle * 1.1),
  slowConnectionsCut: slow.headers.stillOpen === 0 && slow.bodies.stillOpen === 0,
}
console.log(`targets: ${JSON.stringify(targets)}; load average ${loadAverage().join(' ')}`)
writeResult('load', {
  bodyBytes: template.buffer.length,
  eventsPerBody: EVENTS,
  clientTimeoutMs: CLIENT_TIMEOUT_MS,
  loadAverageAtStart,
  loadAverageAtEnd: loadAverage(),
  bodies,
  slow,
  targets,
})
