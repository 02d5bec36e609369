import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { freePort, startServer } from '../test/helpers/server-process.ts'
import { startPostgresServer } from '../test/helpers/postgres-server.ts'
import { median, rssMiB, writeResult } from './machine.ts'

// /v1/decide with 5 experiments bound to one trigger and pacing policies on, autocannon at 50 connections,
// beside /v1/assign in the same run. Customers come from a pool of 20,000 so caps and cooldowns really bite.
// Twice: on the embedded stores (PGlite + chDB) and with the control plane on a PostgreSQL server (Debian's,
// started in a temp directory). BENCH_ROUNDS runs each that many times and keeps the median round (by decisions/s),
// since the machine may be shared.
// BENCH_SEGMENTS=1 turns segment targeting on: every customer of the pool first gets a purchase history through
// /v1/events (so customer_timeline has data), and the 5 experiments also target `segments: { $in: ['regulars'] }`
// (4 in 5 customers; a second live segment reads rfm_group, so membership needs the RFM cut points too). Each round
// then runs two servers on the same setup: one as configured by default, whose first lookup starts the feature
// refresher (api/segments/feature-refresh.ts: the pool's histories are preloaded while the decisions run); and one
// with FEATURE_REFRESH_MS=0, where every customer is looked up as they come — the pool is visited about once in a
// run, so nearly every decision waits for a lookup (api/segments/feature-cache.ts batches them): what a world larger
// than the cache gets. /v1/assign then runs on the first server on an experiment without segment targeting (plain),
// and on one with it. Results go to decide-segments.json (and decide-segments-postgres.json).
const segmentTargeting = process.env.BENCH_SEGMENTS === '1'
// BENCH_SERVER_ENV=NAME=value,… sets the environment of the server as configured (e.g. FEATURE_REFRESH_MS=60000 to
// see what the feature polls cost).
const serverEnv = Object.fromEntries(
  (process.env.BENCH_SERVER_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => kv.split('=', 2)),
)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const rounds = Number(process.env.BENCH_ROUNDS ?? 1)
const modes = (process.env.BENCH_MODES ?? 'embedded,postgres').split(',') as Array<'embedded' | 'postgres'>
const KEY = 'rl_bench_admin_key_at_least_32_characters'
const POOL = 20_000
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
const offers = [
  { type: 'percent_off', value: 10 },
  { type: 'free_shipping', value: 0 },
  { type: 'loyalty_points', value: 500 },
  { type: 'amount_off', value: 5 },
  { type: 'trial_extension', value: 7 },
]

const DAY = 86_400_000

/** 1–5 purchases 25 days apart for each customer of the pool, the last up to 200 days ago: 4 in 5 have two or more. */
function* purchaseHistory(now: number) {
  for (let i = 0; i < POOL; i++) {
    const last = now - ((i * 13) % 200) * DAY - 3_600_000
    for (let k = 0; k <= i % 5; k++)
      yield { eventId: `h-${i}-${k}`, customerId: `cust-${i}`, type: 'purchase', ts: last - k * 25 * DAY, revenue: 20 + ((i * 37) % 90) }
  }
}

async function setUp(base: string) {
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${base}${p}`, { method: 'POST', headers, body: JSON.stringify(body) })
    if (res.status >= 300) throw new Error(`${p}: ${res.status} ${await res.text()}`)
  }
  const plainTargeting = { cartValue: { $gte: 20 } }
  const targeting = segmentTargeting ? { ...plainTargeting, segments: { $in: ['regulars'] } } : plainTargeting
  if (segmentTargeting) {
    let chunk: unknown[] = []
    for (const event of purchaseHistory(Date.now())) {
      chunk.push(event)
      if (chunk.length === 10_000) {
        await post('/v1/events', chunk)
        chunk = []
      }
    }
    if (chunk.length) await post('/v1/events', chunk)
    await post('/v1/segments', { key: 'regulars', name: 'Regulars', rule: { orders_365d: { $gte: 2 } } })
    await post('/v1/segments', { key: 'champions', name: 'Champions', rule: { rfm_group: 'champions' } })
  }
  await post('/v1/triggers', { key: 'cart_abandoned', name: 'Cart abandoned', tiers: ['low', 'medium', 'high'] })
  await post('/v1/policies', { id: 'discounts', name: '1 discount / 30 days', offerTypes: ['percent_off', 'amount_off'], maxIncentives: 1, windowDays: 30 })
  await post('/v1/policies', { id: 'gap', name: '48 h between incentives', offerTypes: 'all', minGapHours: 48 })
  await post('/v1/policies', { id: 'cooldown', name: 'No incentive 14 days after a redemption', offerTypes: 'all', cooldownDays: 14 })
  for (let i = 0; i < 5; i++) {
    await post('/v1/experiments', {
      id: `cart-${i}`,
      name: `Cart recovery ${i}`,
      trigger: 'cart_abandoned',
      priority: i,
      holdoutPct: 0.1,
      namespace: { name: 'cart', range: [i / 5, (i + 1) / 5] },
      targeting,
      arms: [
        { key: 'control', name: 'Reminder', weight: 0.5, isControl: true },
        { key: 'offer', name: offers[i].type, weight: 0.5, offer: offers[i], tierOffers: { high: { type: 'none', value: 0 } } },
      ],
    })
    await post(`/v1/experiments/cart-${i}/start`, {})
  }
  if (segmentTargeting) {
    // cart-0 without the segment (and without the trigger) for plain /v1/assign beside the segment-targeted decisions.
    const arms = [
      { key: 'control', name: 'Reminder', weight: 0.5, isControl: true },
      { key: 'offer', name: 'percent_off', weight: 0.5, offer: offers[0] },
    ]
    await post('/v1/experiments', {
      id: 'plain',
      name: 'Plain',
      holdoutPct: 0.1,
      namespace: { name: 'cart', range: [0, 0.2] },
      targeting: plainTargeting,
      arms,
    })
    await post('/v1/experiments/plain/start', {})
  }
}

async function cannon(base: string, route: string, body: (n: number) => unknown) {
  let n = 0
  const result = await autocannon({
    url: `${base}${route}`,
    connections: 50,
    duration: seconds,
    requests: [{ method: 'POST', headers, setupRequest: (req: any) => ({ ...req, body: JSON.stringify(body(n++)) }) }],
  })
  return { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors }
}

const tiers = ['low', 'medium', 'high']
const decideBody = (n: number) => ({
  customerId: `cust-${(n * 7919) % POOL}`,
  trigger: 'cart_abandoned',
  tier: tiers[n % 3],
  attributes: { cartValue: 20 + (n % 200) },
})

/** A server on fresh stores (and a PostgreSQL server in postgres mode), set up, for the length of `run`. */
async function withServer<T>(mode: 'embedded' | 'postgres', env: Record<string, string>, run: (base: string, pid: number) => Promise<T>): Promise<T> {
  const postgres = mode === 'postgres' ? await startPostgresServer() : null
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-decide-'))
  const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY, env: { ...env, ...(postgres ? { DATABASE_URL: postgres.url } : {}) } })
  try {
    await setUp(server.base)
    return await run(server.base, server.child.pid!)
  } finally {
    await server.kill('SIGTERM')
    fs.rmSync(dataDir, { recursive: true, force: true })
    await postgres?.stop()
  }
}

async function round(mode: 'embedded' | 'postgres') {
  const onDemand = segmentTargeting ? await withServer(mode, { FEATURE_REFRESH_MS: '0' }, (base) => cannon(base, '/v1/decide', decideBody)) : undefined
  return withServer(mode, serverEnv, async (base, pid) => {
    let maxRss = 0
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(pid))), 250)
    const decide = await cannon(base, '/v1/decide', decideBody)
    // With segment targeting the first run also carries the preload, which its first lookup started.
    const decideAgain = segmentTargeting ? await cannon(base, '/v1/decide', decideBody) : undefined
    const assign = await cannon(base, '/v1/assign', (n) => ({
      experimentId: segmentTargeting ? 'plain' : 'cart-0',
      customerId: `a-${n}`,
      attributes: { cartValue: 50 },
    }))
    const assignSegment = segmentTargeting
      ? await cannon(base, '/v1/assign', (n) => ({ experimentId: 'cart-0', customerId: `cust-${(n * 7919) % POOL}`, attributes: { cartValue: 50 } }))
      : undefined
    clearInterval(sampler)
    // undefined fields (segment targeting off) are left out of the JSON.
    return { decide, decideAgain, decideOnDemand: onDemand, assign, assignSegment, serverMaxRssMiB: Math.round(maxRss) }
  })
}

const fmt = (r: { requestsPerSecond: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number }, unit: string) =>
  `${Math.round(r.requestsPerSecond).toLocaleString('en-US')} ${unit}/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, non-2xx ${r.non2xx}, errors ${r.errors}`

for (const mode of modes) {
  const label = mode === 'embedded' ? 'embedded stores (PGlite + chDB)' : 'PostgreSQL 15 server + chDB'
  const runs = []
  for (let i = 0; i < rounds; i++) {
    console.log(
      `${label}, round ${i + 1}/${rounds}: POST /v1/decide (5 experiments on one trigger${segmentTargeting ? ' targeting a segment' : ''}, 3 policies, ${POOL.toLocaleString('en-US')} customers, 50 connections × ${seconds}s), then POST /v1/assign…`,
    )
    const r = await round(mode)
    if (r.decideOnDemand)
      console.log(`  decide ${fmt(r.decideOnDemand, 'decisions')} (segment targeting on, FEATURE_REFRESH_MS=0: features looked up as customers arrive)`)
    console.log(
      `  decide ${fmt(r.decide, 'decisions')}${segmentTargeting ? ' (segment targeting on, as configured: the first lookup starts the preload)' : ''}`,
    )
    if (r.decideAgain) console.log(`  decide ${fmt(r.decideAgain, 'decisions')} (the next ${seconds} s on that server: preloaded, polls every 5 s)`)
    console.log(`  assign ${fmt(r.assign, 'assignments')} (same run${segmentTargeting ? ', no segment targeting' : ''})`)
    if (r.assignSegment) console.log(`  assign ${fmt(r.assignSegment, 'assignments')} (same run, segment targeting on)`)
    runs.push(r)
  }
  const mid = median(runs.map((r) => r.decide.requestsPerSecond))
  const chosen = runs.find((r) => r.decide.requestsPerSecond === mid) ?? runs[Math.floor(runs.length / 2)]
  console.log(`${label}: median round ${fmt(chosen.decide, 'decisions')}; /v1/assign in that run ${fmt(chosen.assign, 'assignments')}`)
  const name = `decide${segmentTargeting ? '-segments' : ''}${mode === 'embedded' ? '' : '-postgres'}`
  writeResult(name, {
    stores: label,
    seconds,
    connections: 50,
    customers: POOL,
    segmentTargeting,
    rounds: runs.map(({ serverMaxRssMiB: _, ...r }) => r),
    ...chosen,
  })
}
