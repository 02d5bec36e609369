import fs from 'node:fs'
import { Agent, request } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { freePort, startServer } from '../test/helpers/server-process.ts'
import { openClickHouse } from '../api/stores/clickhouse.ts'
import { migrateClickHouse } from '../api/stores/migrate.ts'
import { toRow, type EventRow } from '../api/ingest/event-schema.ts'
import { insertEvents } from '../api/stores/events-table.ts'
import { cpuSeconds, median, rssMiB, writeResult } from './machine.ts'

// Sustained events/s through POST /v1/events (1,000-event batches, 8 concurrent clients) against the raw
// insert rate of the same rows straight into ClickHouse, measured in the same run as the ceiling.
const seconds = Number(process.env.BENCH_SECONDS ?? 20)
const CLIENTS = 8
const BATCH = 1000
const KEY = 'rl_bench_admin_key_at_least_32_characters'
const T0 = Date.parse('2026-06-01T00:00:00Z')

function event(n: number) {
  const kind = n % 10
  const base = { eventId: `ev-${n}`, customerId: `cust-${n % 200_000}`, ts: T0 + n * 37 }
  if (kind < 6) return { ...base, type: 'purchase', revenue: 20 + (n % 97), margin: 6 + (n % 13), orderId: `o-${n}` }
  if (kind < 8) return { ...base, type: 'offer_opened', experimentId: 'bench', arm: 'pct15' }
  if (kind < 9) return { ...base, type: 'offer_redeemed', cost: 5, experimentId: 'bench', arm: 'pct15' }
  return { ...base, type: 'refund', revenue: 10 }
}

async function rawCeiling(rows: EventRow[]) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-raw-'))
  const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
  await migrateClickHouse(ch)
  const chunk = 50_000
  const rates: number[] = []
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now()
    for (let i = 0; i < rows.length; i += chunk) {
      await insertEvents(
        ch,
        rows.slice(i, i + chunk).map((r) => ({ ...r, event_id: `${r.event_id}-${rep}` })),
      )
    }
    rates.push(rows.length / ((performance.now() - t) / 1000))
  }
  await ch.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
  return median(rates)
}

async function throughHttp() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-http-'))
  const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
  const pid = server.child.pid!
  let maxRss = rssMiB(pid)
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(pid))), 250)
  // Bodies are serialised before the clock starts so the load generator spends its CPU on sending only.
  // Enough distinct bodies for the whole run at up to 200k events/s, so the clients never rewrite one.
  const bodies = Array.from({ length: Math.ceil((seconds * 200_000) / BATCH) }, (_, b) =>
    Buffer.from(JSON.stringify(Array.from({ length: BATCH }, (_, i) => event(b * BATCH + i)))),
  )
  // node:http with keep-alive sockets rather than fetch: the load generator shares the 2 cores with the
  // server, and undici's fetch spent about three times the CPU per request.
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
  const url = new URL(`${server.base}/v1/events`)
  const post = (body: Buffer) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
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
          const chunks: Buffer[] = []
          res.on('data', (c) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }))
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  const clientCpu = process.cpuUsage()
  const serverCpu = cpuSeconds(pid)
  let next = 0
  let acked = 0
  let refused = 0
  const latencies: number[] = []
  const deadline = performance.now() + seconds * 1000
  const t = performance.now()
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        // Each pass over the body pool gets fresh event ids by a suffix, so every event is new.
        const round = Math.floor(next / bodies.length)
        const body = round === 0 ? bodies[next % bodies.length] : Buffer.from(bodies[next % bodies.length].toString('utf8').replaceAll('"ev-', `"ev${round}-`))
        next++
        const t1 = performance.now()
        const { status, json } = await post(body)
        latencies.push(performance.now() - t1)
        if (status === 200) acked += json.accepted
        else refused++
      }
    }),
  )
  const elapsed = (performance.now() - t) / 1000
  const c = process.cpuUsage(clientCpu)
  const loadGeneratorCores = (c.user + c.system) / 1e6 / elapsed
  const serverCores = (cpuSeconds(pid) - serverCpu) / elapsed
  agent.destroy()
  clearInterval(sampler)
  await server.kill('SIGTERM')
  fs.rmSync(dataDir, { recursive: true, force: true })
  latencies.sort((a, b) => a - b)
  return {
    eventsPerSecond: acked / elapsed,
    acked,
    refused,
    serverCores: +serverCores.toFixed(2),
    loadGeneratorCores: +loadGeneratorCores.toFixed(2),
    maxRssMiB: maxRss,
    p50Ms: latencies[Math.floor(latencies.length / 2)],
    p99Ms: latencies[Math.floor(latencies.length * 0.99)],
  }
}

const sample = Array.from({ length: 500_000 }, (_, i) => toRow(event(i) as any))
console.log(`raw insert ceiling: ${sample.length.toLocaleString()} rows in 50k-row inserts (the server's format), 3 repetitions…`)
const ceiling = await rawCeiling(sample)
console.log(`  ${Math.round(ceiling).toLocaleString()} rows/s (median)`)
console.log(`HTTP: ${CLIENTS} clients × ${BATCH}-event batches for ${seconds}s…`)
const http = await throughHttp()
const ratio = http.eventsPerSecond / ceiling
console.log(
  `  ${Math.round(http.eventsPerSecond).toLocaleString()} events/s acknowledged (${http.acked.toLocaleString()} events, ${http.refused} refused with 503), p50 ${http.p50Ms.toFixed(1)} ms, p99 ${http.p99Ms.toFixed(1)} ms per batch, server RSS max ${Math.round(http.maxRssMiB)} MiB; CPU: server ${http.serverCores} cores, load generator ${http.loadGeneratorCores}`,
)
console.log(`  ratio to raw ceiling: ${(ratio * 100).toFixed(1)}%`)
writeResult('ingest', {
  seconds,
  clients: CLIENTS,
  batch: BATCH,
  rawInsertRowsPerSecond: Math.round(ceiling),
  http: { ...http, eventsPerSecond: Math.round(http.eventsPerSecond) },
  ratioToCeiling: +ratio.toFixed(3),
})
