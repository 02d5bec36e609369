import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'
import { jsonClient, type Reply } from '../helpers/server-client.ts'
import { startPostgresServer } from '../helpers/postgres-server.ts'
import { openPostgres } from '../../api/stores/postgres.ts'
import { asLeader } from '../../api/decisioning/locks.ts'

// Two API processes on one real PostgreSQL server (Debian's, started in a temp directory), each with its own
// embedded chDB. The config poll is ten minutes, so only a change notice can explain one process seeing the
// other's change within the test.
const KEY = 'rl_multi_process_admin_key_at_least_32_chars'
const UNIT_COST = 2
const BUDGET = 60

let postgres: Awaited<ReturnType<typeof startPostgresServer>>
const servers: Array<Awaited<ReturnType<typeof startServer>>> = []
let a: ReturnType<typeof jsonClient>['call']
let b: ReturnType<typeof jsonClient>['call']
let control: pg.Client
const dirs: string[] = []

beforeAll(async () => {
  postgres = await startPostgresServer()
  // One after the other: the first migrates the shared database.
  for (const name of ['a', 'b']) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `rl-multi-${name}-`))
    dirs.push(dataDir)
    servers.push(await startServer({ dataDir, port: await freePort(), adminKey: KEY, env: { DATABASE_URL: postgres.url, CONFIG_POLL_MS: '600000' } }))
  }
  ;[a, b] = servers.map((s) => jsonClient((url, init) => fetch(`${s.base}${url}`, init), KEY).call)
  control = new pg.Client({ connectionString: postgres.url })
  await control.connect()
  expect((await a('PUT', '/v1/settings', { globalHoldoutPct: 0 })).status).toBe(200)
}, 180_000)

afterAll(async () => {
  await control?.end()
  for (const s of servers) await s.kill('SIGTERM')
  await postgres?.stop()
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
}, 60_000)

/** Waits until `check` holds (a condition, never a fixed delay); fails after `timeoutMs` with what it last saw. */
async function until<T>(probe: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (check(v)) return v
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function pool<T>(tasks: Array<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length)
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tasks.length) {
        const i = next++
        out[i] = await tasks[i]()
      }
    }),
  )
  return out
}

const rows = async <T>(text: string, values: unknown[] = []) => (await control.query(text, values)).rows as T[]

describe('two API processes on one PostgreSQL server', () => {
  it('sees a trigger and an experiment created through the other process without waiting for the poll', async () => {
    expect((await a('POST', '/v1/triggers', { key: 'notice', name: 'Notice' })).status).toBe(201)
    // Unknown to B until it hears of it: a 400 naming the trigger.
    await until(
      () => b('POST', '/v1/decide', { customerId: 'notice-probe', trigger: 'notice' }),
      (r) => r.status === 200,
    )
    const created = await a('POST', '/v1/experiments', {
      id: 'notice-exp',
      name: 'Notice experiment',
      trigger: 'notice',
      arms: [
        { key: 'control', name: 'Control', weight: 0.5, isControl: true, offer: { type: 'none', value: 0 } },
        { key: 'message', name: 'Message', weight: 0.5, offer: { type: 'none', value: 0 } },
      ],
    })
    expect(created.status).toBe(201)
    expect((await a('POST', '/v1/experiments/notice-exp/start')).status).toBe(200)
    const seen = await until(
      () => b('POST', '/v1/decide', { customerId: 'notice-probe', trigger: 'notice' }),
      (r) => r.body.experimentKey === 'notice-exp',
    )
    expect(seen.body.reason).toBeNull()
    // And a policy: B answers under it as soon as A has saved it.
    expect((await a('POST', '/v1/policies', { id: 'quiet-all-day', name: 'Quiet', offerTypes: 'all', quietHours: { startHour: 0, endHour: 0 } })).status).toBe(
      201,
    )
    const policies = await until(
      () => b('GET', '/v1/policies'),
      (r) => r.body.policies?.some((p: { id: string }) => p.id === 'quiet-all-day'),
    )
    expect(policies.status).toBe(200)
    expect((await a('DELETE', '/v1/policies/quiet-all-day')).status).toBe(204)
  })

  it('never gives a customer two incentives inside the policy window nor passes the budget by more than one reservation when both decide for the same customers at once', async () => {
    expect((await a('POST', '/v1/triggers', { key: 'hammer', name: 'Hammer' })).status).toBe(201)
    expect(
      (await a('POST', '/v1/policies', { id: 'one-a-month', name: '1 incentive / 30 days', offerTypes: 'all', maxIncentives: 1, windowDays: 30 })).status,
    ).toBe(201)
    const created = await a('POST', '/v1/experiments', {
      id: 'hammer',
      name: 'Hammer',
      trigger: 'hammer',
      budget: { amount: BUDGET, currency: 'USD', reservation: 'max_cost' },
      arms: [
        { key: 'reminder', name: 'Reminder', weight: 0.5, isControl: true, offer: { type: 'none', value: 0 } },
        { key: 'discount', name: 'Discount', weight: 0.5, offer: { type: 'amount_off', value: 5, unitCost: UNIT_COST } },
      ],
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect((await a('POST', '/v1/experiments/hammer/start')).status).toBe(200)
    await until(
      () => b('POST', '/v1/decide', { customerId: 'hammer-probe', trigger: 'hammer' }),
      (r) => r.body.experimentKey === 'hammer',
    )

    // 150 customers (about 75 in the discount arm, more than the budget buys), each asked 8 times, half through each process.
    const customers = Array.from({ length: 150 }, (_, i) => `shopper-${i}`)
    const asks = customers.flatMap((c) => Array.from({ length: 8 }, (_, k) => ({ customerId: c, via: k % 2 ? 'b' : 'a' })))
    const answers = await pool(
      asks.map((q) => async () => ({ ...q, reply: await (q.via === 'a' ? a : b)('POST', '/v1/decide', { customerId: q.customerId, trigger: 'hammer' }) })),
      64,
    )
    expect(answers.every((x) => x.reply.status === 200)).toBe(true)
    const offered = answers.filter((x) => x.reply.body.offer?.type === 'amount_off')
    expect(offered.filter((x) => x.via === 'a').length).toBeGreaterThan(0)
    expect(offered.filter((x) => x.via === 'b').length).toBeGreaterThan(0)
    expect(answers.filter((x) => x.reply.body.reason === 'budget').length).toBeGreaterThan(0)
    expect(answers.filter((x) => x.reply.body.reason === 'pacing').length).toBeGreaterThan(0)

    const twice = await rows<{ customer_id: string; n: number }>(
      `select customer_id, count(*)::int as n from incentives where experiment_id = 'hammer' group by customer_id having count(*) > 1`,
    )
    expect(twice).toEqual([])
    const issued = await rows<{ customer_id: string; reserved: number }>(`select customer_id, reserved from incentives where experiment_id = 'hammer'`)
    expect(issued.length).toBe(offered.length + (await rows(`select 1 from incentives where customer_id = 'hammer-probe'`)).length)
    const reserved = issued.reduce((s, r) => s + Number(r.reserved), 0)
    expect(reserved).toBeLessThanOrEqual(BUDGET + UNIT_COST)
    expect(reserved).toBeGreaterThanOrEqual(BUDGET)

    // Each issued incentive redeemed once, sent through both processes at once (and twice over): spent once each.
    const redemptions = issued.map((r, i) => ({
      eventId: `hammer-r-${i}`,
      customerId: r.customer_id,
      type: 'offer_redeemed',
      ts: Date.now(),
      cost: UNIT_COST,
      experimentId: 'hammer',
      arm: 'discount',
    }))
    const sent: Reply[] = await Promise.all([a('POST', '/v1/events', redemptions), b('POST', '/v1/events', redemptions), b('POST', '/v1/events', redemptions)])
    expect(sent.map((r) => r.status)).toEqual([200, 200, 200])
    const [stored] = await rows<{ spent: number; n: number }>(`select sum(cost) as spent, count(*)::int as n from redemptions where experiment_id = 'hammer'`)
    expect(Number(stored.spent)).toBe(UNIT_COST * issued.length)
    const [counters] = await rows<{ spent: number; reserved: number; redeemed: number }>(
      `select sum(spent) as spent, sum(reserved) as reserved, sum(redeemed)::int as redeemed from budget_arms where experiment_id = 'hammer'`,
    )
    expect(Number(counters.spent)).toBe(UNIT_COST * issued.length)
    expect(Number(counters.reserved)).toBeCloseTo(0, 9)
    expect(counters.redeemed).toBe(issued.length)
    expect(Number(counters.spent) + Number(counters.reserved)).toBeLessThanOrEqual(BUDGET + UNIT_COST)
    const [open] = await rows<{ n: number }>(`select count(*)::int as n from incentives where experiment_id = 'hammer' and status = 'open'`)
    expect(open.n).toBe(0)
  })

  it('runs scheduled work in one process at a time: the others skip while the leader lock is held', async () => {
    const [one, two] = await Promise.all(dirs.map((dataDir) => openPostgres({ databaseUrl: postgres.url, dataDir })))
    try {
      let release!: () => void
      const held = new Promise<void>((r) => (release = r))
      let entered!: () => void
      const inside = new Promise<void>((r) => (entered = r))
      const first = asLeader(one, 'test-job', async () => {
        entered()
        await held
        return 'one'
      })
      await inside
      expect(await asLeader(two, 'test-job', async () => 'two')).toBeNull()
      release()
      expect(await first).toBe('one')
      // The lock ends with the leader's transaction: the next round may run anywhere.
      expect(await asLeader(two, 'test-job', async () => 'two')).toBe('two')
    } finally {
      await Promise.all([one.destroy(), two.destroy()])
    }
  })
})
