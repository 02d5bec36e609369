/**
 * A small retention world built through the public API, as a CRM and an event pipeline would: triggers and a
 * pacing policy, a large win-back experiment with planted effects (assigned in daily cohorts over five weeks),
 * a trigger-bound experiment with tier offers, suppressions and an exhausted budget (through /v1/decide), a
 * stopped experiment with a recorded decision (for the offer library), a running experiment nobody has been
 * assigned to yet, and a draft. The server's clock is moved so exposures spread over past days.
 */

import type { ClickHouse } from '../../api/stores/clickhouse.ts'
import { insertExposures, type ExposureRow } from '../../api/stores/exposures-table.ts'

const DAY = 86_400_000

export type Call = (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any }>

export interface WorldClock {
  /** Pretend the server's "now" is this instant; null goes back to the real time. */
  set(ms: number | null): void
}

export const WINBACK = 'winback-demo'
export const CART = 'cart-recovery'
export const SHIP = 'ship-threshold'
export const EMPTY = 'sms-reminder'
export const DRAFT = 'points-pilot'
export const SRM = 'subject-line'

// A tiny seeded PRNG so the world is the same on every run.
function mulberry32(seed: number) {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Event {
  eventId: string
  customerId: string
  type: string
  ts: number
  revenue?: number
  margin?: number
  cost?: number
  experimentId?: string
  arm?: string
}

const TIERS = ['low', 'mid', 'high'] as const
const CHANNELS = ['email', 'sms', 'push'] as const
const RECENCY = ['at_risk', 'lapsed', 'dormant'] as const
const BASE_RATE: Record<(typeof TIERS)[number], number> = { low: 0.1, mid: 0.15, high: 0.22 }

async function ok(call: Call, method: string, url: string, body?: unknown, expected = [200, 201, 204]) {
  const res = await call(method, url, body)
  if (!expected.includes(res.status)) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

/**
 * Customers assigned in daily cohorts, then their purchases (a pre-period too, for CUPED), redemptions,
 * refunds and unsubscribes. `lift` multiplies the base reactivation rate per arm (global holdout included).
 */
async function runCohorts(
  call: Call,
  clock: WorldClock,
  opts: {
    experimentId: string
    prefix: string
    customers: number
    startMs: number
    days: number
    rand: () => number
    lift: (arm: string, attrs: Record<string, string>) => number
    redeemCost: Record<string, (revenue: number) => number>
    unsubscribe: Record<string, number>
  },
): Promise<Event[]> {
  const { rand } = opts
  const perDay = Math.ceil(opts.customers / opts.days)
  const events: Event[] = []
  let n = 0
  const now = Date.now()
  for (let day = 0; day < opts.days; day++) {
    const t0 = opts.startMs + day * DAY + 9 * 3_600_000
    clock.set(t0)
    const cohort = Array.from({ length: Math.min(perDay, opts.customers - day * perDay) }, (_, i) => {
      const id = `${opts.prefix}-${day * perDay + i}`
      const attributes = {
        value_tier: TIERS[rand() < 0.5 ? 0 : rand() < 0.7 ? 1 : 2],
        channel: CHANNELS[Math.floor(rand() * CHANNELS.length)],
        recency: RECENCY[Math.floor(rand() * RECENCY.length)],
      }
      return { customerId: id, attributes }
    })
    if (!cohort.length) break
    const res = await ok(call, 'POST', '/v1/assign/batch', { experimentId: opts.experimentId, customers: cohort })
    const attrsOf = new Map(cohort.map((c) => [c.customerId, c.attributes]))
    for (const a of res.assignments as Array<{ customerId: string; arm: string | null; reason: string | null }>) {
      const arm = a.arm ?? (a.reason === 'global_holdout' ? 'global_holdout' : null)
      if (!arm) continue
      const attrs = attrsOf.get(a.customerId)!
      const propensity = 0.4 + rand() * 1.2
      // The pre-period: purchases in the 90 days before exposure, as many as the customer's propensity suggests.
      const pre = Math.floor(propensity * 2 * rand())
      for (let k = 0; k < pre; k++) {
        events.push({
          eventId: `${opts.prefix}-e${n++}`,
          customerId: a.customerId,
          type: 'purchase',
          ts: t0 - Math.round((5 + rand() * 85) * DAY),
          revenue: Math.round(Math.exp(3.6 + rand() * 0.8) * 100) / 100,
        })
      }
      const p = Math.min(0.95, BASE_RATE[attrs.value_tier as keyof typeof BASE_RATE] * propensity * opts.lift(arm, attrs))
      if (rand() < p) {
        const orders = rand() < 0.25 ? 2 : 1
        let first = true
        for (let k = 0; k < orders; k++) {
          const ts = t0 + Math.round(Math.min(29.5, -Math.log(1 - rand()) * 8) * DAY)
          if (ts > now) continue
          const revenue = Math.round(Math.exp(3.7 + rand() * 0.9) * 100) / 100
          events.push({
            eventId: `${opts.prefix}-e${n++}`,
            customerId: a.customerId,
            type: 'purchase',
            ts,
            revenue,
            margin: Math.round(revenue * 0.35 * 100) / 100,
          })
          const cost = opts.redeemCost[arm]
          if (first && cost && rand() < 0.8) {
            events.push({
              eventId: `${opts.prefix}-e${n++}`,
              customerId: a.customerId,
              type: 'offer_redeemed',
              ts: ts + 1000,
              cost: Math.round(cost(revenue) * 100) / 100,
              experimentId: opts.experimentId,
              arm,
            })
          }
          if (rand() < 0.05)
            events.push({ eventId: `${opts.prefix}-e${n++}`, customerId: a.customerId, type: 'refund', ts: Math.min(now, ts + 3 * DAY), revenue })
          first = false
        }
      }
      if (rand() < (opts.unsubscribe[arm] ?? 0.015)) {
        const ts = t0 + Math.round(rand() * 20 * DAY)
        if (ts <= now) events.push({ eventId: `${opts.prefix}-e${n++}`, customerId: a.customerId, type: 'unsubscribe', ts })
      }
    }
  }
  return events
}

async function sendEvents(call: Call, events: Event[]) {
  for (let i = 0; i < events.length; i += 5000) {
    const res = await ok(call, 'POST', '/v1/events', events.slice(i, i + 5000))
    if (res.rejected?.length) throw new Error(`events rejected: ${JSON.stringify(res.rejected.slice(0, 3))}`)
  }
}

/**
 * Builds the world; returns when every event is acknowledged. Leaves the clock on real time. With `ch`, it also
 * plants a fault no API call can make: a second, misconfigured system logging extra exposures for one arm of
 * the subject-line test, which the report's sample-ratio check must catch.
 */
export async function buildWorld(call: Call, clock: WorldClock, opts: { winbackCustomers?: number; ch?: ClickHouse } = {}) {
  const rand = mulberry32(20261126)
  const now = Date.now()

  await ok(call, 'POST', '/v1/triggers', {
    key: 'cart_abandoned',
    name: 'Cart abandoned',
    description: 'A cart with items left for 24 hours',
    tiers: ['low', 'medium', 'high'],
  })
  await ok(call, 'POST', '/v1/triggers', { key: 'lapsed_30d', name: 'Lapsed 30 days', description: 'No purchase for 30 days' })
  await ok(call, 'POST', '/v1/policies', {
    id: 'one-discount-a-month',
    name: 'At most 1 discount per 30 days',
    offerTypes: ['percent_off'],
    maxIncentives: 1,
    windowDays: 30,
  })
  await ok(call, 'POST', '/v1/policies', { id: 'shipping-cooldown', name: 'Free-shipping cooldown', offerTypes: ['free_shipping'], cooldownDays: 7 })

  // The stopped experiment, long ago: free shipping works for low-value customers only.
  clock.set(now - 90 * DAY)
  await ok(call, 'POST', '/v1/experiments', {
    id: SHIP,
    name: 'Free shipping for at-risk customers',
    hypothesis: 'Free shipping brings back low-value customers, for whom shipping is a large share of the basket.',
    holdoutPct: 0,
    arms: [
      { key: 'control', name: 'Reminder only', weight: 0.5, isControl: true, offer: { type: 'none', value: 0 } },
      { key: 'freeship', name: 'Free shipping', weight: 0.5, offer: { type: 'free_shipping', value: 0, unitCost: 5 } },
    ],
    analysis: { primaryMetric: 'reactivation', multipleTesting: 'bh' },
  })
  await ok(call, 'POST', `/v1/experiments/${SHIP}/start`)
  const shipEvents = await runCohorts(call, clock, {
    experimentId: SHIP,
    prefix: 'ship',
    customers: 4000,
    startMs: now - 90 * DAY,
    days: 14,
    rand,
    lift: (arm, attrs) => (arm === 'freeship' ? (attrs.value_tier === 'low' ? 1.8 : 1.05) : arm === 'global_holdout' ? 0.85 : 1),
    redeemCost: { freeship: () => 5 },
    unsubscribe: {},
  })
  await sendEvents(call, shipEvents)
  clock.set(now - 45 * DAY)
  await ok(call, 'POST', `/v1/experiments/${SHIP}/stop`)
  await ok(call, 'POST', `/v1/experiments/${SHIP}/notes`, {
    kind: 'decision',
    chosenArm: 'freeship',
    body: 'Roll out free shipping to low-value at-risk customers only; no detectable gain elsewhere.',
  })

  // The large win-back test, running for six weeks, with a budget and a guardrail that moves.
  const start = now - 42 * DAY
  clock.set(start - DAY)
  await ok(call, 'POST', '/v1/experiments', {
    id: WINBACK,
    name: 'Win-back: 15% off vs free shipping',
    hypothesis: 'Lapsed customers offered 15% off reactivate more than with the message alone, and the extra margin covers the discount.',
    holdoutPct: 0.1,
    trigger: 'lapsed_30d',
    priority: 10,
    budget: { amount: 20_000, currency: 'USD', maxCostPerIncrementalConversion: 40 },
    arms: [
      { key: 'control', name: 'Message only', weight: 0.34, isControl: true, offer: { type: 'none', value: 0 } },
      { key: 'pct15', name: '15% off', weight: 0.33, offer: { type: 'percent_off', value: 15, unitCost: 6 } },
      { key: 'freeship', name: 'Free shipping', weight: 0.33, offer: { type: 'free_shipping', value: 0, unitCost: 4.5 } },
    ],
    analysis: { primaryMetric: 'reactivation', guardrails: ['unsubscribe', 'net_value'] },
  })
  clock.set(start)
  await ok(call, 'POST', `/v1/experiments/${WINBACK}/start`)
  const winbackEvents = await runCohorts(call, clock, {
    experimentId: WINBACK,
    prefix: 'wb',
    customers: opts.winbackCustomers ?? 30_000,
    startMs: start,
    days: 35,
    rand,
    lift: (arm) => ({ pct15: 1.45, freeship: 1.2, holdout: 0.85, global_holdout: 0.8 })[arm] ?? 1,
    redeemCost: { pct15: (revenue) => revenue * 0.15, freeship: () => 4.5 },
    unsubscribe: { control: 0.015, pct15: 0.016, freeship: 0.03, holdout: 0.008 },
  })
  await sendEvents(call, winbackEvents)

  // Decisions on a trigger with intent tiers: a pacing policy suppresses repeat discounts, then the budget runs out.
  clock.set(now - 12 * DAY)
  await ok(call, 'POST', '/v1/experiments', {
    id: CART,
    name: 'Cart recovery by intent tier',
    hypothesis: 'High-intent customers come back with a reminder; the deeper incentive only pays where intent is weak.',
    trigger: 'cart_abandoned',
    priority: 1,
    budget: { amount: 150, currency: 'USD', maxCostPerIncrementalConversion: 25 },
    arms: [
      { key: 'reminder', name: 'Reminder only', weight: 0.5, isControl: true, offer: { type: 'none', value: 0 } },
      {
        key: 'by-intent',
        name: 'Offer by intent',
        weight: 0.5,
        offer: { type: 'percent_off', value: 10, unitCost: 4 },
        tierOffers: {
          high: { type: 'none', value: 0 },
          medium: { type: 'free_shipping', value: 0, unitCost: 5 },
          low: { type: 'percent_off', value: 20, unitCost: 8 },
        },
      },
    ],
  })
  await ok(call, 'POST', `/v1/experiments/${CART}/start`)
  const tiers = ['low', 'medium', 'high']
  const decided: Array<{ customerId: string; arm: string | null; offer: any; tier: string }> = []
  for (let i = 0; i < 300; i += 25) {
    const batch = Array.from({ length: 25 }, (_, j) => ({ customerId: `cart-${i + j}`, tier: tiers[(i + j) % 3] }))
    const answers = await Promise.all(
      batch.map((b, k) =>
        ok(call, 'POST', '/v1/decide', { customerId: b.customerId, trigger: 'cart_abandoned', tier: b.tier, attributes: { channel: CHANNELS[(i + k) % 3] } }),
      ),
    )
    answers.forEach((a, k) => decided.push({ customerId: batch[k].customerId, arm: a.arm, offer: a.offer, tier: batch[k].tier }))
  }
  // The same customers abandon another cart two days later: those who got a discount are paced.
  clock.set(now - 10 * DAY)
  for (let i = 0; i < 120; i += 20) {
    await Promise.all(
      decided.slice(i, i + 20).map((d) => ok(call, 'POST', '/v1/decide', { customerId: d.customerId, trigger: 'cart_abandoned', tier: d.tier })),
    )
  }
  const cartEvents: Event[] = []
  let e = 0
  for (const d of decided) {
    if (!d.arm || d.arm === 'holdout') continue
    const incentive = d.offer && d.offer.type !== 'none'
    const buys = rand() < (d.tier === 'high' ? 0.5 : d.tier === 'medium' ? 0.25 : 0.12) * (incentive ? 1.4 : 1)
    if (!buys) continue
    const ts = now - 12 * DAY + Math.round(rand() * 8 * DAY)
    const revenue = Math.round(Math.exp(3.5 + rand()) * 100) / 100
    cartEvents.push({ eventId: `cart-e${e++}`, customerId: d.customerId, type: 'purchase', ts, revenue })
    if (incentive)
      cartEvents.push({
        eventId: `cart-e${e++}`,
        customerId: d.customerId,
        type: 'offer_redeemed',
        ts: ts + 1000,
        cost: d.offer.unitCost ?? 5,
        experimentId: CART,
        arm: d.arm,
      })
  }
  clock.set(now - 3 * DAY)
  await sendEvents(call, cartEvents)
  // After the budget ran out, incentive arms take nobody new.
  clock.set(now - 2 * DAY)
  // Only the reminder arm grows from here; the report analyses customers enrolled before the budget ran out.
  for (let i = 300; i < 600; i += 25) {
    await Promise.all(
      Array.from({ length: 25 }, (_, j) =>
        ok(call, 'POST', '/v1/decide', { customerId: `cart-${i + j}`, trigger: 'cart_abandoned', tier: tiers[(i + j) % 3] }),
      ),
    )
  }

  // A small test whose exposure log is broken (see above): the SRM banner's case.
  clock.set(now - 8 * DAY)
  await ok(call, 'POST', '/v1/experiments', {
    id: SRM,
    name: 'Email subject line: emoji vs plain',
    arms: [
      { key: 'plain', name: 'Plain subject', weight: 0.5, isControl: true },
      { key: 'emoji', name: 'Emoji subject', weight: 0.5, offer: { type: 'none', value: 0, channel: 'email' } },
    ],
  })
  await ok(call, 'POST', `/v1/experiments/${SRM}/start`)
  const srmEvents = await runCohorts(call, clock, {
    experimentId: SRM,
    prefix: 'subj',
    customers: 2000,
    startMs: now - 8 * DAY,
    days: 4,
    rand,
    lift: () => 1,
    redeemCost: {},
    unsubscribe: {},
  })
  await sendEvents(call, srmEvents)
  if (opts.ch) {
    const rows: ExposureRow[] = Array.from({ length: 300 }, (_, i) => ({
      experiment_id: SRM,
      customer_id: `subj-dup-${i}`,
      arm: 'plain',
      ts: now - 6 * DAY,
      attributes: {},
      source: 'crm-bulk-logger',
    }))
    await insertExposures(opts.ch, rows)
  }

  // Running, but nobody assigned yet; and a draft.
  clock.set(now - DAY)
  await ok(call, 'POST', '/v1/experiments', {
    id: EMPTY,
    name: 'SMS reminder before the discount expires',
    arms: [
      { key: 'control', name: 'No reminder', weight: 0.5, isControl: true },
      { key: 'sms', name: 'SMS reminder', weight: 0.5, offer: { type: 'none', value: 0, channel: 'sms' } },
    ],
  })
  await ok(call, 'POST', `/v1/experiments/${EMPTY}/start`)
  await ok(call, 'POST', '/v1/experiments', {
    id: DRAFT,
    name: 'Loyalty points pilot',
    arms: [
      { key: 'control', name: 'Message only', weight: 0.5, isControl: true },
      { key: 'points', name: '500 points', weight: 0.5, offer: { type: 'loyalty_points', value: 500, unitCost: 2.5 } },
    ],
  })
  clock.set(null)
  return { events: shipEvents.length + winbackEvents.length + cartEvents.length + srmEvents.length }
}
