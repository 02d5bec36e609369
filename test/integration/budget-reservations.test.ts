import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'

const DAY = 86_400_000
const HOUR = 3_600_000
const UNIT_COST = 10
const BUDGET = 400
// Far enough in the past that every world's events are before the real clock (ingestion refuses the future).
let clock = Date.parse('2026-05-01T08:00:00Z')
let h: Harness

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  expect((await h.call('PUT', '/v1/settings', { globalHoldoutPct: 0 })).status).toBe(200)
}, 60_000)
afterAll(() => h.close())

/** Spend (Σ stored redemption costs) and open reservations of an experiment, read from the control plane. */
async function budgetState(experimentId: string) {
  const spent = await h.db
    .selectFrom('redemptions')
    .select((eb) => eb.fn.sum<number>('cost').as('v'))
    .where('experiment_id', '=', experimentId)
    .executeTakeFirst()
  const reserved = await h.db
    .selectFrom('incentives')
    .select((eb) => eb.fn.sum<number>('reserved').as('v'))
    .where('experiment_id', '=', experimentId)
    .where('status', '=', 'open')
    .executeTakeFirst()
  return { spent: Number(spent?.v ?? 0), reserved: Number(reserved?.v ?? 0) }
}

/**
 * Forty cart abandoners a day for five weeks; a third of the discounted ones redeem, one to six days after the
 * decision (within the offer's 7-day validity), and their redemptions are ingested only once the clock reaches
 * them, as in production. The scheduled expiry runs once a day. Returns the budget state seen at each day's end.
 */
async function runWorld(id: string, reservation: 'expected_cost' | 'max_cost', seed: number) {
  expect((await h.call('POST', '/v1/triggers', { key: id, name: id })).status).toBe(201)
  const created = await h.call('POST', '/v1/experiments', {
    id,
    name: id,
    trigger: id,
    budget: { amount: BUDGET, currency: 'USD', reservation },
    arms: [
      { key: 'reminder', name: 'Reminder', weight: 0.5, isControl: true, offer: { type: 'none', value: 0 } },
      { key: 'discount', name: 'Discount', weight: 0.5, offer: { type: 'amount_off', value: 10, unitCost: UNIT_COST, validityDays: 7 } },
    ],
  })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  expect((await h.call('POST', `/v1/experiments/${id}/start`)).status).toBe(200)
  const rng = mulberry32(seed)
  const pending: Array<Record<string, unknown> & { ts: number }> = []
  const daily: Array<{ spent: number; reserved: number }> = []
  let issued = 0
  const start = clock
  for (let day = 0; day < 35; day++) {
    for (let k = 0; k < 40; k++) {
      clock = start + day * DAY + k * 15 * 60_000
      const due = pending.filter((e) => e.ts <= clock)
      if (due.length) {
        const sent = await h.call('POST', '/v1/events', due)
        expect(sent.status, JSON.stringify(sent.body)).toBe(200)
        pending.splice(0, pending.length, ...pending.filter((e) => e.ts > clock))
      }
      const customerId = `${id}-${day}-${k}`
      const d = await h.call('POST', '/v1/decide', { customerId, trigger: id })
      expect(d.status).toBe(200)
      if (d.body.offer?.type !== 'amount_off') continue
      issued++
      if (rng() < 1 / 3)
        pending.push({
          eventId: `${customerId}-r`,
          customerId,
          type: 'offer_redeemed',
          ts: clock + DAY + Math.floor(rng() * 5 * DAY) + HOUR,
          cost: UNIT_COST,
          experimentId: id,
          arm: 'discount',
        })
    }
    await h.retention.decider.runScheduled(clock)
    daily.push(await budgetState(id))
  }
  clock = start + 50 * DAY
  if (pending.length) expect((await h.call('POST', '/v1/events', pending)).status).toBe(200)
  await h.retention.decider.runScheduled(clock)
  return { daily, final: await budgetState(id), issued }
}

describe('budget reservations', () => {
  it('never lets spend plus open reservations pass the budget by more than one unit cost when each offer reserves its whole cost', async () => {
    const { daily, final, issued } = await runWorld('reserve-max', 'max_cost', 11)
    for (const s of daily) expect(s.spent + s.reserved).toBeLessThanOrEqual(BUDGET + UNIT_COST + 1e-9)
    expect(final.reserved).toBe(0)
    expect(final.spent).toBeLessThanOrEqual(BUDGET + UNIT_COST)
    // Released reservations let the arm issue again: far more offers than the budget would buy outright.
    expect(issued).toBeGreaterThan(BUDGET / UNIT_COST)
  })

  it('ends within the budget plus one unit cost when offers reserve their expected cost, and spends most of it', async () => {
    const { final, issued } = await runWorld('reserve-expected', 'expected_cost', 12)
    expect(final.reserved).toBe(0)
    expect(final.spent + final.reserved).toBeLessThanOrEqual(BUDGET + UNIT_COST)
    // Without reservations the same world pays for every redemption of offers issued before spend caught up.
    expect(issued).toBeGreaterThan(BUDGET / UNIT_COST)
    expect(final.spent).toBeGreaterThan(BUDGET / 2)
    const report = await h.call('GET', '/v1/experiments/reserve-expected/report?metrics=redemption&include=immature')
    expect(report.body.decisioning.budget).toMatchObject({ amount: BUDGET, reserved: 0, openOffers: 0 })
    expect(report.body.decisioning.budget.spent).toBeCloseTo(final.spent, 6)
  })

  it('reports the reservations of open offers beside the spend', async () => {
    expect((await h.call('POST', '/v1/triggers', { key: 'open-offers', name: 'open offers' })).status).toBe(201)
    const created = await h.call('POST', '/v1/experiments', {
      id: 'open-offers',
      name: 'open offers',
      trigger: 'open-offers',
      budget: { amount: 1000, currency: 'USD', reservation: 'max_cost' },
      arms: [
        { key: 'a', name: 'A', weight: 0.5, isControl: true, offer: { type: 'free_shipping', value: 0, unitCost: 4 } },
        { key: 'b', name: 'B', weight: 0.5, offer: { type: 'free_shipping', value: 0, unitCost: 4 } },
      ],
    })
    expect(created.status).toBe(201)
    expect((await h.call('POST', '/v1/experiments/open-offers/start')).status).toBe(200)
    for (let i = 0; i < 5; i++) expect((await h.call('POST', '/v1/decide', { customerId: `open-${i}`, trigger: 'open-offers' })).body.reason).toBeNull()
    const report = await h.call('GET', '/v1/experiments/open-offers/report?metrics=redemption&include=immature')
    expect(report.body.decisioning.budget).toMatchObject({ spent: 0, reserved: 20, openOffers: 5, remaining: 980 })
  })
})
