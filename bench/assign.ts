import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import autocannon from 'autocannon'
import { freePort, startServer } from '../test/helpers/server-process.ts'
import { assignCompiled, compileExperiment, evalCondition, type AssignableExperiment } from '../api/assignment/index.ts'
import { cpuSeconds, median, rssMiB, writeResult } from './machine.ts'
import { runParity, sdkRates } from './parity.ts'

// Assignment throughput: in-process (beside the GrowthBook SDK's rate), HTTP /v1/assign (durable single
// assignments) against a bare Hono route in the same run, and the batch endpoint; then a parity run against the
// GrowthBook SDK (BENCH_PARITY comparisons, 1M by default, 0 to skip).
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const parityComparisons = Number(process.env.BENCH_PARITY ?? 1_000_000)
// Other work on a shared machine slows every figure; the load average says how much there was.
const loadAtStart = os.loadavg()[0]
const KEY = 'rl_bench_admin_key_at_least_32_characters'

const experiment: AssignableExperiment = {
  id: 'bench',
  seed: 'bench',
  status: 'running',
  holdoutPct: 0.1,
  coverage: 1,
  namespace: null,
  targeting: { recency: { $gte: 60 } },
  arms: [
    { key: 'control', weight: 0.25, isControl: true, offer: { type: 'none', value: 0 } },
    { key: 'pct15', weight: 0.25, isControl: false, offer: { type: 'percent_off', value: 15 } },
    { key: 'freeship', weight: 0.25, isControl: false, offer: { type: 'free_shipping', value: 0 } },
    { key: 'points', weight: 0.25, isControl: false, offer: { type: 'loyalty_points', value: 500 } },
  ],
}

function inProcess() {
  const compiled = compileExperiment(experiment)
  const global = { pct: 0.05, seed: 'global-holdout' }
  const attrs = { recency: 90 }
  const rates: number[] = []
  for (let rep = 0; rep < 5; rep++) {
    const n = 1_000_000
    const t = performance.now()
    for (let i = 0; i < n; i++) assignCompiled(compiled, `customer-${i}`, attrs, global)
    rates.push(n / ((performance.now() - t) / 1000))
  }
  return median(rates)
}

async function cannon(url: string, body: string, headers: Record<string, string>, serverPid: number) {
  const options = { url, method: 'POST' as const, connections: 50, headers: { 'content-type': 'application/json', ...headers }, body, idReplacement: true }
  // A short warm-up (JIT, connection pools) that is not counted, for the baseline and the API alike.
  await autocannon({ ...options, duration: 3 })
  const client = process.cpuUsage()
  const server = cpuSeconds(serverPid)
  const t = performance.now()
  const result = await autocannon({ ...options, duration: seconds })
  const elapsed = (performance.now() - t) / 1000
  const c = process.cpuUsage(client)
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    // Where the 2 cores went: the server process (all threads) and autocannon in this process.
    serverCores: +((cpuSeconds(serverPid) - server) / elapsed).toFixed(2),
    loadGeneratorCores: +((c.user + c.system) / 1e6 / elapsed).toFixed(2),
  }
}

async function bareBaseline() {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-server.ts'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve) => child.stdout!.on('data', (d) => String(d).includes('ready') && resolve()))
  const r = await cannon(
    `http://127.0.0.1:${port}/v1/assign`,
    JSON.stringify({ experimentId: 'bench', customerId: 'c-[<id>]', attributes: { recency: 90 } }),
    {},
    child.pid!,
  )
  child.kill('SIGTERM')
  return r
}

async function throughApi() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-assign-'))
  const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
  const auth = { authorization: `Bearer ${KEY}` }
  const post = (p: string, body: unknown) =>
    fetch(`${server.base}${p}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const { status: _status, ...design } = experiment
  await post('/v1/experiments', { ...design, name: 'Bench', arms: experiment.arms.map((a) => ({ ...a, name: a.key })) })
  await post('/v1/experiments/bench/start', {})
  let maxRss = 0
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(server.child.pid!))), 250)
  const single = await cannon(
    `${server.base}/v1/assign`,
    JSON.stringify({ experimentId: 'bench', customerId: 'c-[<id>]', attributes: { recency: 90, tier: 'gold' } }),
    auth,
    server.child.pid!,
  )

  // Batch: 10,000 customers per request from 4 concurrent clients, bodies prepared before timing.
  const bodies = Array.from({ length: 8 }, (_, b) =>
    JSON.stringify({
      experimentId: 'bench',
      customers: Array.from({ length: 10_000 }, (_, i) => ({ customerId: `cust_b${b}-${i}`, attributes: { recency: 90 } })),
    }),
  )
  let assigned = 0
  let next = 0
  const deadline = performance.now() + seconds * 1000
  const t = performance.now()
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (performance.now() < deadline) {
        const body = bodies[next++ % bodies.length].replaceAll('"cust_b', `"cust_r${next}-`)
        const res = await fetch(`${server.base}/v1/assign/batch`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body })
        const json: any = await res.json()
        if (res.status === 200) assigned += json.assignments.length
      }
    }),
  )
  const batchRate = assigned / ((performance.now() - t) / 1000)
  clearInterval(sampler)
  await server.kill('SIGTERM')
  fs.rmSync(dataDir, { recursive: true, force: true })
  return { single, batchAssignmentsPerSecond: batchRate, maxRssMiB: maxRss }
}

// The ReDoS case from the targeting issue: ^(a+)+$ against the largest email the API accepts, "aaaa…!".
function regexWorstCase() {
  const condition = { email: { $regex: '^(a+)+$' } }
  const email = 'a'.repeat(16_384 - 13) + '!'
  const evaluate = (input: string) => {
    const t = performance.now()
    if (evalCondition({ email: input }, condition)) throw new Error('must not match')
    return performance.now() - t
  }
  // The first evaluation compiles the pattern and builds the DFA's first states; later ones reuse them.
  const firstMs = evaluate(email)
  const times = Array.from({ length: 21 }, (_, i) => evaluate(i % 2 ? email : email.slice(1)))
  // JavaScript's backtracking RegExp, which targeting used before, after a warm-up (the time doubles per "a").
  const backtracking = new RegExp('^(a+)+$')
  backtracking.test('a'.repeat(12) + '!')
  const jsRegExp = [18, 20, 22].map((n) => {
    const t = performance.now()
    backtracking.test('a'.repeat(n) + '!')
    return { characters: n + 1, ms: +(performance.now() - t).toFixed(1) }
  })
  return { inputCharacters: email.length, firstMs: +firstMs.toFixed(2), medianMs: +median(times).toFixed(2), maxMs: +Math.max(...times).toFixed(2), jsRegExp }
}
console.log('in-process assignCompiled, 5 × 1M customers…')
const inProc = inProcess()
console.log(`  ${Math.round(inProc).toLocaleString()} assignments/s (median)`)
console.log(
  'in-process, same experiment, interleaved: ours (500k) beside @growthbook/growthbook GrowthBookClient (100k) and a new GrowthBook per request (100k), 5 reps…',
)
const sdk = sdkRates(experiment, { recency: 90 })
console.log(
  `  ours ${sdk.oursPerSecond.toLocaleString()}/s; GrowthBookClient ${sdk.growthBookClientPerSecond.toLocaleString()}/s (ours ${sdk.oursToClient}×); new GrowthBook per request ${sdk.growthBookPerRequestPerSecond.toLocaleString()}/s (ours ${sdk.oursToPerRequest}×)`,
)
console.log('targeting ^(a+)+$ on a 16 KB "aaaa…!" attribute, 1 + 21 evaluations (RE2)…')
const redos = regexWorstCase()
console.log(
  `  first ${redos.firstMs} ms, then median ${redos.medianMs} ms, max ${redos.maxMs} ms (JavaScript RegExp: ${redos.jsRegExp.map((b) => `${b.characters} chars ${b.ms} ms`).join(', ')})`,
)

// BENCH_HTTP=0 skips the server runs and keeps the HTTP figures of the previous result, with their date and machine.
let http: Record<string, unknown>
if (process.env.BENCH_HTTP === '0') {
  const previous = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, 'results/assign.json'), 'utf8'))
  const { bareHono, singleAssign, ratioToBare, batchAssignmentsPerSecond, serverMaxRssMiB } = previous
  http = {
    httpMeasuredAt: previous.httpMeasuredAt ?? previous.at,
    httpMachine: previous.httpMachine ?? previous.machine,
    bareHono,
    singleAssign,
    ratioToBare,
    batchAssignmentsPerSecond,
    serverMaxRssMiB,
  }
  console.log(`HTTP runs skipped (BENCH_HTTP=0): keeping the figures measured at ${http.httpMeasuredAt}`)
} else {
  console.log(`bare Hono route, autocannon 50 connections × ${seconds}s…`)
  const bare = await bareBaseline()
  console.log(
    `  ${Math.round(bare.requestsPerSecond).toLocaleString()} req/s, p50 ${bare.p50Ms} ms, p99 ${bare.p99Ms} ms; CPU: server ${bare.serverCores} cores, autocannon ${bare.loadGeneratorCores}`,
  )
  console.log(`POST /v1/assign (durable: answered after the exposure insert), autocannon 50 connections × ${seconds}s…`)
  const api = await throughApi()
  console.log(
    `  ${Math.round(api.single.requestsPerSecond).toLocaleString()} assignments/s, p50 ${api.single.p50Ms} ms, p99 ${api.single.p99Ms} ms, non-2xx ${api.single.non2xx}, errors ${api.single.errors}; CPU: server ${api.single.serverCores} cores, autocannon ${api.single.loadGeneratorCores}`,
  )
  console.log(`  ratio to the bare route: ${((api.single.requestsPerSecond / bare.requestsPerSecond) * 100).toFixed(1)}%`)
  console.log(
    `POST /v1/assign/batch, 10,000 customers per request, 4 clients: ${Math.round(api.batchAssignmentsPerSecond).toLocaleString()} assignments/s; server RSS max ${Math.round(api.maxRssMiB)} MiB`,
  )
  http = {
    bareHono: bare,
    singleAssign: api.single,
    ratioToBare: +(api.single.requestsPerSecond / bare.requestsPerSecond).toFixed(3),
    batchAssignmentsPerSecond: Math.round(api.batchAssignmentsPerSecond),
    serverMaxRssMiB: Math.round(api.maxRssMiB),
  }
}

let parity: ReturnType<typeof runParity> | null = null
if (parityComparisons > 0) {
  console.log(`parity with @growthbook/growthbook: ${parityComparisons.toLocaleString()} random assignments and as many random conditions…`)
  parity = runParity(parityComparisons)
  console.log(
    `  ${parity.assignmentsAgreeing.toLocaleString()} of ${parity.assignmentComparisons.toLocaleString()} assignments agree (${parity.assignmentsInExperiment.toLocaleString()} in the experiment), ${parity.conditionComparisons.toLocaleString()} conditions compared; unexplained mismatches: ${parity.unexplained} (${parity.seconds} s)`,
  )
  if (parity.unexplained > 0) console.log(parity.firstUnexplained)
}
writeResult('assign', {
  seconds,
  loadAverage1m: { atStart: +loadAtStart.toFixed(2), atEnd: +os.loadavg()[0].toFixed(2) },
  inProcessAssignmentsPerSecond: Math.round(inProc),
  growthBookSdkInProcess: sdk,
  targetingRegexWorstCase16Kb: redos,
  ...http,
  growthBookParity: parity,
})
