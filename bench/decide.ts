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

async function setUp(base: string) {
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${base}${p}`, { method: 'POST', headers, body: JSON.stringify(body) })
    if (res.status >= 300) throw new Error(`${p}: ${res.status} ${await res.text()}`)
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
      targeting: { cartValue: { $gte: 20 } },
      arms: [
        { key: 'control', name: 'Reminder', weight: 0.5, isControl: true },
        { key: 'offer', name: offers[i].type, weight: 0.5, offer: offers[i], tierOffers: { high: { type: 'none', value: 0 } } },
      ],
    })
    await post(`/v1/experiments/cart-${i}/start`, {})
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

async function round(mode: 'embedded' | 'postgres') {
  const postgres = mode === 'postgres' ? await startPostgresServer() : null
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-decide-'))
  const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY, env: postgres ? { DATABASE_URL: postgres.url } : {} })
  try {
    await setUp(server.base)
    let maxRss = 0
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(server.child.pid!))), 250)
    const tiers = ['low', 'medium', 'high']
    const decide = await cannon(server.base, '/v1/decide', (n) => ({
      customerId: `cust-${(n * 7919) % POOL}`,
      trigger: 'cart_abandoned',
      tier: tiers[n % 3],
      attributes: { cartValue: 20 + (n % 200) },
    }))
    const assign = await cannon(server.base, '/v1/assign', (n) => ({ experimentId: 'cart-0', customerId: `a-${n}`, attributes: { cartValue: 50 } }))
    clearInterval(sampler)
    return { decide, assign, serverMaxRssMiB: Math.round(maxRss) }
  } finally {
    await server.kill('SIGTERM')
    fs.rmSync(dataDir, { recursive: true, force: true })
    await postgres?.stop()
  }
}

const fmt = (r: { requestsPerSecond: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number }, unit: string) =>
  `${Math.round(r.requestsPerSecond).toLocaleString('en-US')} ${unit}/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, non-2xx ${r.non2xx}, errors ${r.errors}`

for (const mode of modes) {
  const label = mode === 'embedded' ? 'embedded stores (PGlite + chDB)' : 'PostgreSQL 15 server + chDB'
  const runs = []
  for (let i = 0; i < rounds; i++) {
    console.log(
      `${label}, round ${i + 1}/${rounds}: POST /v1/decide (5 experiments on one trigger, 3 policies, ${POOL.toLocaleString('en-US')} customers, 50 connections × ${seconds}s), then POST /v1/assign…`,
    )
    const r = await round(mode)
    console.log(`  decide ${fmt(r.decide, 'decisions')}`)
    console.log(`  assign ${fmt(r.assign, 'assignments')} (same run)`)
    runs.push(r)
  }
  const mid = median(runs.map((r) => r.decide.requestsPerSecond))
  const chosen = runs.find((r) => r.decide.requestsPerSecond === mid) ?? runs[Math.floor(runs.length / 2)]
  console.log(`${label}: median round ${fmt(chosen.decide, 'decisions')}; /v1/assign in that run ${fmt(chosen.assign, 'assignments')}`)
  writeResult(mode === 'embedded' ? 'decide' : 'decide-postgres', {
    stores: label,
    seconds,
    connections: 50,
    customers: POOL,
    rounds: runs.map((r) => ({ decide: r.decide, assign: r.assign })),
    ...chosen,
  })
}
