import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { freePort, startServer } from '../test/helpers/server-process.ts'
import { rssMiB, writeResult } from './machine.ts'

// /v1/decide with 5 experiments bound to one trigger and pacing policies on, autocannon at 50 connections,
// beside /v1/assign in the same run. Customers come from a pool of 20,000 so caps and cooldowns really bite.
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const KEY = 'rl_bench_admin_key_at_least_32_characters'
const POOL = 20_000

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-decide-'))
const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
const post = async (p: string, body: unknown) => {
  const res = await fetch(`${server.base}${p}`, { method: 'POST', headers, body: JSON.stringify(body) })
  if (res.status >= 300) throw new Error(`${p}: ${res.status} ${await res.text()}`)
}
await post('/v1/triggers', { key: 'cart_abandoned', name: 'Cart abandoned', tiers: ['low', 'medium', 'high'] })
await post('/v1/policies', { id: 'discounts', name: '1 discount / 30 days', offerTypes: ['percent_off', 'amount_off'], maxIncentives: 1, windowDays: 30 })
await post('/v1/policies', { id: 'gap', name: '48 h between incentives', offerTypes: 'all', minGapHours: 48 })
await post('/v1/policies', { id: 'cooldown', name: 'No incentive 14 days after a redemption', offerTypes: 'all', cooldownDays: 14 })
const offers = [
  { type: 'percent_off', value: 10 },
  { type: 'free_shipping', value: 0 },
  { type: 'loyalty_points', value: 500 },
  { type: 'amount_off', value: 5 },
  { type: 'trial_extension', value: 7 },
]
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

async function cannon(route: string, body: (n: number) => unknown) {
  let n = 0
  const result = await autocannon({
    url: `${server.base}${route}`,
    connections: 50,
    duration: seconds,
    requests: [{ method: 'POST', headers, setupRequest: (req: any) => ({ ...req, body: JSON.stringify(body(n++)) }) }],
  })
  return { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors }
}

let maxRss = 0
const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(server.child.pid!))), 250)
const tiers = ['low', 'medium', 'high']
console.log(`POST /v1/decide: 5 experiments on one trigger, 3 policies, ${POOL.toLocaleString()} customers, 50 connections × ${seconds}s…`)
const decide = await cannon('/v1/decide', (n) => ({
  customerId: `cust-${(n * 7919) % POOL}`,
  trigger: 'cart_abandoned',
  tier: tiers[n % 3],
  attributes: { cartValue: 20 + (n % 200) },
}))
console.log(
  `  ${Math.round(decide.requestsPerSecond).toLocaleString()} decisions/s, p50 ${decide.p50Ms} ms, p99 ${decide.p99Ms} ms, non-2xx ${decide.non2xx}, errors ${decide.errors}`,
)
console.log(`POST /v1/assign on one of the same experiments, same run…`)
const assign = await cannon('/v1/assign', (n) => ({ experimentId: 'cart-0', customerId: `a-${n}`, attributes: { cartValue: 50 } }))
console.log(`  ${Math.round(assign.requestsPerSecond).toLocaleString()} assignments/s, p50 ${assign.p50Ms} ms, p99 ${assign.p99Ms} ms`)
clearInterval(sampler)
await server.kill('SIGTERM')
fs.rmSync(dataDir, { recursive: true, force: true })
console.log(`server RSS max ${Math.round(maxRss)} MiB`)
writeResult('decide', { seconds, connections: 50, customers: POOL, decide, assign, serverMaxRssMiB: Math.round(maxRss) })
