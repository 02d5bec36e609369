import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import jStat from 'jstat'
import { openHarness, type Harness } from '../helpers/harness.ts'

const DAY = 86_400_000
let clock = Date.parse('2026-09-01T12:00:00Z')
let h: Harness

const arm = (key: string, weight: number, offer: Record<string, unknown>, isControl = false, extra: Record<string, unknown> = {}) => ({
  key,
  name: key,
  weight,
  isControl,
  offer,
  ...extra,
})
const pct = (value: number) => ({ type: 'percent_off', value, unitCost: 5 })
const none = { type: 'none', value: 0 }

async function experiment(id: string, trigger: string, arms: unknown[], extra: Record<string, unknown> = {}) {
  const res = await h.call('POST', '/v1/experiments', { id, name: id, trigger, arms, ...extra })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  expect((await h.call('POST', `/v1/experiments/${id}/start`)).status).toBe(200)
}
const decide = (customerId: string, trigger: string, tier?: string) => h.call('POST', '/v1/decide', { customerId, trigger, ...(tier ? { tier } : {}) })
/** Σ cost of an experiment's stored redemptions: its spend (dup-spend is no experiment, so it has no budget counters). */
const spent = async (experimentId = 'dup-spend') =>
  Number(
    (
      await h.db
        .selectFrom('redemptions')
        .select((eb) => eb.fn.sum<number>('cost').as('cost'))
        .where('experiment_id', '=', experimentId)
        .executeTakeFirst()
    )?.cost ?? 0,
  )
const incentivesOf = async (customerId: string) => (await h.db.selectFrom('incentives').selectAll().where('customer_id', '=', customerId).execute()).length

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  // No global holdout here: these tests are about policies, and a held-out customer would get nothing anyway.
  expect((await h.call('PUT', '/v1/settings', { globalHoldoutPct: 0 })).status).toBe(200)
  for (const [key, tiers] of [
    ['cart_abandoned', ['low', 'medium', 'high']],
    ['lapsed_30d', []],
    ['downgrade', []],
    ['sim', []],
    ['budgeted', []],
  ] as const) {
    expect((await h.call('POST', '/v1/triggers', { key, name: key, tiers })).status).toBe(201)
  }
  expect(
    (
      await h.call('POST', '/v1/policies', {
        id: 'one-discount-a-month',
        name: '1 discount / 30 days',
        offerTypes: ['percent_off'],
        maxIncentives: 1,
        windowDays: 30,
      })
    ).status,
  ).toBe(201)
  expect(
    (
      await h.call('POST', '/v1/policies', {
        id: 'shipping-cooldown',
        name: 'No free shipping for 7 days after a redemption',
        offerTypes: ['free_shipping'],
        cooldownDays: 7,
      })
    ).status,
  ).toBe(201)
  await experiment('cart-a', 'cart_abandoned', [arm('ten', 0.5, pct(10), true), arm('twenty', 0.5, pct(20))], { priority: 1 })
  await experiment('cart-b', 'cart_abandoned', [arm('fifteen', 0.5, pct(15), true), arm('twentyfive', 0.5, pct(25))], { priority: 2 })
  await experiment('tiered', 'lapsed_30d', [arm('control', 0.5, none, true), arm('by-intent', 0.5, pct(15), false, { tierOffers: {} })])
}, 60_000)
afterAll(() => h.close())

describe('POST /v1/decide', () => {
  it('caps discounts across experiments on one trigger and issues again once the window has passed', async () => {
    const first = await decide('alice', 'cart_abandoned', 'medium')
    expect(first.body).toMatchObject({ experimentKey: 'cart-a', reason: null, tier: 'medium' })
    expect(first.body.offer.type).toBe('percent_off')
    // cart-a is capped for alice and so is cart-b (same offer type): no second discount within 30 days.
    clock += 10 * DAY
    const second = await decide('alice', 'cart_abandoned', 'medium')
    expect(second.body).toMatchObject({ offer: null, reason: 'pacing', experimentKey: 'cart-a' })
    expect(await incentivesOf('alice')).toBe(1)
    const suppressed = await h.chQuery<{ experiment_id: string; reason: string }>(
      `SELECT experiment_id, reason FROM suppressions WHERE customer_id = 'alice' ORDER BY experiment_id`,
    )
    expect(suppressed).toEqual([
      { experiment_id: 'cart-a', reason: 'pacing' },
      { experiment_id: 'cart-b', reason: 'pacing' },
    ])
    clock += 21 * DAY
    const third = await decide('alice', 'cart_abandoned', 'medium')
    expect(third.body.reason).toBeNull()
    expect(third.body.offer.type).toBe('percent_off')
    expect(await incentivesOf('alice')).toBe(2)
  })

  it('issues at most the capped number of incentives under 50 concurrent calls for one customer', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => decide('bob', 'cart_abandoned')))
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(answers.filter((a) => a.body.offer !== null)).toHaveLength(1)
    expect(answers.filter((a) => a.body.reason === 'pacing')).toHaveLength(49)
    expect(await incentivesOf('bob')).toBe(1)
  })

  it('starts a cooldown at the redemption event', async () => {
    await experiment('ship', 'downgrade', [
      arm('ship-a', 0.5, { type: 'free_shipping', value: 0, unitCost: 7 }, true),
      arm('ship-b', 0.5, { type: 'free_shipping', value: 0, unitCost: 7 }),
    ])
    const offered = await decide('carol', 'downgrade')
    expect(offered.body.offer.type).toBe('free_shipping')
    // No redemption yet: free shipping may be offered again (this policy has no cap, only a cooldown).
    clock += DAY
    expect((await decide('carol', 'downgrade')).body.reason).toBeNull()
    const redeemedAt = clock + 3_600_000
    expect(
      (
        await h.call('POST', '/v1/events', [
          { eventId: 'carol-redeem', customerId: 'carol', type: 'offer_redeemed', ts: redeemedAt, cost: 7, experimentId: 'ship', arm: offered.body.arm },
        ])
      ).status,
    ).toBe(200)
    clock = redeemedAt + 2 * DAY
    expect((await decide('carol', 'downgrade')).body).toMatchObject({ offer: null, reason: 'cooldown' })
    clock = redeemedAt + 8 * DAY
    expect((await decide('carol', 'downgrade')).body.reason).toBeNull()
  })

  it('gives the tier-specific offer of the arm', async () => {
    const res = await h.call('PATCH', '/v1/triggers/lapsed_30d', { tiers: ['low', 'high'] })
    expect(res.status).toBe(200)
    await experiment(
      'intent',
      'lapsed_30d',
      [arm('control', 0.5, none, true), arm('by-intent', 0.5, pct(15), false, { tierOffers: { high: none, low: pct(20) } })],
      { priority: 0 },
    )
    let seen = 0
    for (let i = 0; i < 40 && seen < 2; i++) {
      const low = await decide(`tier-low-${i}`, 'lapsed_30d', 'low')
      const high = await decide(`tier-high-${i}`, 'lapsed_30d', 'high')
      if (low.body.arm === 'by-intent') {
        expect(low.body.offer).toMatchObject({ type: 'percent_off', value: 20 })
        seen++
      }
      if (high.body.arm === 'by-intent') expect(high.body.offer.type).toBe('none')
    }
    expect(seen).toBeGreaterThan(0)
    const [row] = await h.chQuery<any>(`SELECT attributes FROM exposures WHERE experiment_id = 'intent' AND customer_id = 'tier-low-0'`)
    expect(row.attributes.tier).toBe('low')
  })

  it('stops only incentive arms when the budget is spent', async () => {
    await experiment('budgeted', 'budgeted', [arm('message', 0.5, none, true), arm('discount', 0.5, pct(10))], { budget: { amount: 100, currency: 'USD' } })
    const before = await Promise.all(Array.from({ length: 40 }, (_, i) => decide(`bud-${i}`, 'budgeted')))
    const discounted = before.filter((d) => d.body.arm === 'discount')
    expect(discounted.length).toBeGreaterThan(5)
    const redemptions = discounted.slice(0, 4).map((d, i) => ({
      eventId: `bud-r${i}`,
      customerId: `bud-${before.indexOf(d)}`,
      type: 'offer_redeemed',
      ts: clock,
      cost: 25,
      experimentId: 'budgeted',
      arm: 'discount',
    }))
    expect((await h.call('POST', '/v1/events', redemptions)).status).toBe(200)
    // Resending the same redemptions must not count the spend twice (nothing changes).
    await h.call('POST', '/v1/events', redemptions)
    const exp = await h.call('GET', '/v1/experiments/budgeted')
    expect(exp.body.budgetExhaustedAt).toBeTruthy()
    clock += 3_600_000
    const after = await Promise.all(Array.from({ length: 60 }, (_, i) => decide(`bud-new-${i}`, 'budgeted')))
    const reasons = new Set(after.map((d) => d.body.reason ?? d.body.arm))
    expect(reasons).toEqual(new Set(['budget', 'message']))
    const audit = await h.call('GET', '/v1/audit?entityType=experiment&entityId=budgeted')
    expect(audit.body.entries.map((e: any) => e.action)).toContain('experiment.budget_exhausted')
    const report = await h.call('GET', '/v1/experiments/budgeted/report?metrics=redemption&include=immature')
    expect(report.body.decisioning).toMatchObject({ budget: { amount: 100, spent: 100 }, suppressions: { budget: expect.any(Number) } })
    // Only customers enrolled before the budget ran out are compared: the control-only enrolments after it
    // would otherwise unbalance the arms.
    expect(report.body.enrolledUntil).toBe(exp.body.budgetExhaustedAt)
    expect(report.body.totalCustomers).toBe(40)
  })

  it('counts the cost of a redemption once when it is repeated in a request and sent by concurrent requests', async () => {
    const r = (i: number) => ({
      eventId: `dup-r${i}`,
      customerId: `dup-${i}`,
      type: 'offer_redeemed',
      ts: clock,
      cost: 10,
      experimentId: 'dup-spend',
      arm: 'discount',
    })
    expect((await h.call('POST', '/v1/events', [r(1), r(1), r(2)])).body).toMatchObject({ accepted: 2, duplicates: 1 })
    expect(await spent()).toBe(20)
    const concurrent = await Promise.all(Array.from({ length: 6 }, () => h.call('POST', '/v1/events', [r(3), r(4), r(1)])))
    expect(concurrent.every((x) => x.status === 200)).toBe(true)
    expect(await spent()).toBe(40)
    const stored = await h.db
      .selectFrom('redemptions')
      .select((eb) => eb.fn.sum<number>('cost').as('cost'))
      .where('experiment_id', '=', 'dup-spend')
      .executeTakeFirst()
    expect(Number(stored!.cost)).toBe(40)
  })

  it('keeps commas, quotes and spaces in the ids of a redemption, and counts a copy of it once', async () => {
    const before = await spent()
    const event = {
      eventId: 'r,"odd" id',
      customerId: 'cust, "quoted"',
      type: 'offer_redeemed',
      ts: clock,
      cost: 10,
      experimentId: 'dup-spend',
      arm: 'discount',
    }
    const fresh = { ...event, eventId: 'r-plain' }
    expect((await h.call('POST', '/v1/events', [event])).body).toMatchObject({ accepted: 1 })
    // A copy next to a new redemption in one request: the new one is counted, the copy is not.
    const again = await h.call('POST', '/v1/events', [event, fresh])
    expect(again.status).toBe(200)
    expect(await spent()).toBe(before + 20)
    const stored = await h.db
      .selectFrom('redemptions')
      .select(['event_id', 'customer_id', 'cost'])
      .where('event_id', 'in', [event.eventId, fresh.eventId])
      .orderBy('event_id')
      .execute()
    expect(stored).toEqual([
      { event_id: 'r,"odd" id', customer_id: 'cust, "quoted"', cost: 10 },
      { event_id: 'r-plain', customer_id: 'cust, "quoted"', cost: 10 },
    ])
  })

  it('counts a redemption once when its event insert failed and the client sent it again', async () => {
    const before = await spent()
    const event = { eventId: 'dup-retry', customerId: 'dup-9', type: 'offer_redeemed', ts: clock, cost: 10, experimentId: 'dup-spend', arm: 'discount' }
    // The ledger write runs beside the event insert; make only the ClickHouse insert fail, once.
    const opts = (h.retention.events.batcher as unknown as { opts: { write(rows: unknown[]): Promise<void> } }).opts
    const write = opts.write
    opts.write = async () => {
      throw new Error('disk full (injected)')
    }
    const failed = await h.call('POST', '/v1/events', [event])
    opts.write = write
    expect(failed.status).toBe(503)
    const copies = async () => Number((await h.chQuery<{ n: number }>("SELECT count() AS n FROM events FINAL WHERE event_id = 'dup-retry'"))[0].n)
    expect(await copies()).toBe(0)
    const retried = await h.call('POST', '/v1/events', [event])
    expect(retried.body).toMatchObject({ accepted: 1, duplicates: 0 })
    expect(await copies()).toBe(1)
    expect(await spent()).toBe(before + 10)
    const stored = await h.db
      .selectFrom('redemptions')
      .select((eb) => eb.fn.count<number>('event_id').as('n'))
      .where('event_id', '=', 'dup-retry')
      .executeTakeFirst()
    expect(Number(stored!.n)).toBe(1)
  })

  it('never changes arm shares when suppression is on (100,000 customers)', async () => {
    await experiment('sim', 'sim', [arm('control', 0.4, pct(5), true), arm('b', 0.3, pct(10)), arm('c', 0.3, { type: 'loyalty_points', value: 500 })], {
      holdoutPct: 0.1,
    })
    // A third of the customers already had a discount recently: the cap suppresses them whatever their arm.
    const capped = Array.from({ length: 100_000 }, (_, i) => `sim-${i}`).filter((_, i) => i % 3 === 0)
    for (let i = 0; i < capped.length; i += 5000) {
      await h.db
        .insertInto('incentives')
        .values(
          capped.slice(i, i + 5000).map((c) => ({
            customer_id: c,
            experiment_id: 'earlier',
            arm: 'x',
            offer_type: 'percent_off',
            trigger_key: 'sim',
            tier: null,
            issued_at: new Date(clock - DAY),
          })),
        )
        .execute()
    }
    await h.retention.decider.ledger.init()
    const reasons: Record<string, number> = {}
    const ids = Array.from({ length: 100_000 }, (_, i) => `sim-${i}`)
    for (let i = 0; i < ids.length; i += 500) {
      const out = await Promise.all(ids.slice(i, i + 500).map((customerId) => h.retention.decider.decide({ customerId, trigger: 'sim' }, clock)))
      for (const d of out) reasons[d.reason ?? d.arm!] = (reasons[d.reason ?? d.arm!] ?? 0) + 1
    }
    expect(reasons.pacing).toBe(capped.length)
    const counts = await h.chQuery<{ arm: string; n: string }>(`SELECT arm, count() AS n FROM exposures WHERE experiment_id = 'sim' GROUP BY arm ORDER BY arm`)
    const observed = Object.fromEntries(counts.map((r) => [r.arm, Number(r.n)]))
    const expected = { holdout: 0.1, control: 0.36, b: 0.27, c: 0.27 }
    const total = Object.values(observed).reduce((a, b) => a + b, 0)
    expect(total).toBe(100_000 - capped.length)
    const chi = Object.entries(expected).reduce((s, [k, p]) => s + (observed[k] - total * p) ** 2 / (total * p), 0)
    expect(1 - (jStat as any).chisquare.cdf(chi, 3)).toBeGreaterThan(0.001)
    const report = await h.call('GET', '/v1/experiments/sim/report?metrics=redemption')
    expect(report.body.srm.mismatch).toBe(false)
    expect(report.body.decisioning.suppressions.pacing).toBe(capped.length)
  }, 180_000)

  describe('rejects bad input with a 4xx and writes nothing', () => {
    const state = async () =>
      JSON.stringify([
        (
          await h.db
            .selectFrom('audit_log')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
        (
          await h.db
            .selectFrom('incentives')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
        (await h.chQuery('SELECT count() AS n FROM exposures'))[0],
      ])
    const cases: Array<[string, string, string, unknown, number, string]> = [
      ['unknown trigger', 'POST', '/v1/decide', { customerId: 'x', trigger: 'nope' }, 400, 'trigger'],
      ['tier not defined on the trigger', 'POST', '/v1/decide', { customerId: 'x', trigger: 'cart_abandoned', tier: 'urgent' }, 400, 'tier'],
      ['negative cap', 'POST', '/v1/policies', { id: 'neg', name: 'neg', maxIncentives: -1, windowDays: 30 }, 400, 'maxIncentives'],
      ['negative cooldown', 'POST', '/v1/policies', { id: 'neg2', name: 'neg', cooldownDays: -2 }, 400, 'cooldownDays'],
      ['a cap without its window', 'POST', '/v1/policies', { id: 'nowin', name: 'x', maxIncentives: 2 }, 400, 'windowDays'],
      [
        'budget below zero',
        'POST',
        '/v1/experiments',
        { id: 'negbudget', name: 'x', arms: [arm('a', 0.5, none, true), arm('b', 0.5, pct(5))], budget: { amount: -5 } },
        400,
        'budget.amount',
      ],
      [
        'experiment on an unknown trigger',
        'POST',
        '/v1/experiments',
        { id: 'notrig', name: 'x', trigger: 'nope', arms: [arm('a', 0.5, none, true), arm('b', 0.5, pct(5))] },
        400,
        'trigger',
      ],
      [
        'tier offer for a tier the trigger lacks',
        'POST',
        '/v1/experiments',
        {
          id: 'badtier',
          name: 'x',
          trigger: 'cart_abandoned',
          arms: [arm('a', 0.5, none, true), arm('b', 0.5, pct(5), false, { tierOffers: { urgent: none } })],
        },
        400,
        'arms.1.tierOffers.urgent',
      ],
      ['duplicate trigger', 'POST', '/v1/triggers', { key: 'sim', name: 'again' }, 409, 'key'],
    ]
    for (const [name, method, url, body, status, field] of cases) {
      it(name, async () => {
        const before = await state()
        const res = await h.call(method, url, body)
        expect(res.status).toBe(status)
        expect(res.body.error).toMatchObject({ field })
        expect(await state()).toBe(before)
      })
    }
  })
})
