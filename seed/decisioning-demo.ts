/**
 * The decision layer of the demo world: a "cart abandoned" trigger with intent tiers, pacing and cooldown
 * policies, and a budgeted cart-recovery experiment whose offer depends on intent. Three weeks of trigger
 * firings run through the real decider (backdated), and the offers' outcomes through the real ingestion path,
 * so the report shows suppressions by reason, per-tier lift and the budget being reached: each offer reserves its
 * expected cost when issued, so redemptions that arrive days later never take spend past the budget.
 */
import type { Kysely } from 'kysely'
import type { RetentionApp } from '../api/app.ts'
import type { Database } from '../api/stores/schema.ts'
import { createPolicy, createTrigger } from '../api/decisioning/store.ts'
import { createExperiment, transitionExperiment } from '../api/experiments/store.ts'
import { ExperimentCreate } from '../api/experiments/schema.ts'
import { PolicyCreate, Trigger } from '../api/decisioning/schema.ts'
import type { EventRow } from '../api/ingest/event-schema.ts'
import { logNormal, streamFor } from './random.ts'

const DAY = 86_400_000
const HOUR = 3_600_000

/** Base chance of buying within a week after abandoning a cart, by intent, and what each offer adds. */
const buyChance = { low: 0.08, medium: 0.2, high: 0.45 } as const
const offerLift: Record<string, number> = { none: 1.1, free_shipping: 1.45, percent_off: 1.8 }

export async function seedDecisioningDemo(
  db: Kysely<Database>,
  app: RetentionApp,
  opts: { customers?: number; days?: number; seed?: number; now?: number } = {},
) {
  const now = opts.now ?? Date.now()
  const days = opts.days ?? 21
  const customers = opts.customers ?? 4000
  const start = now - days * DAY
  const at = (ms: number) => new Date(ms)
  const { decider, cache, events } = app

  await createTrigger(
    db,
    Trigger.parse({
      key: 'cart_abandoned',
      name: 'Cart abandoned',
      description: 'Fired by the storefront 2 hours after a cart is left with items in it',
      tiers: ['low', 'medium', 'high'],
    }),
    'demo',
    at(start - DAY),
  )
  await createPolicy(
    db,
    PolicyCreate.parse({
      id: 'one-discount-a-month',
      name: 'At most 1 discount per customer per 30 days',
      offerTypes: ['percent_off', 'amount_off'],
      maxIncentives: 1,
      windowDays: 30,
    }),
    'demo',
    at(start - DAY),
  )
  await createPolicy(
    db,
    PolicyCreate.parse({ id: 'redemption-cooldown', name: 'No incentive for 7 days after a redemption', offerTypes: 'all', cooldownDays: 7 }),
    'demo',
    at(start - DAY),
  )
  await createExperiment(
    db,
    ExperimentCreate.parse({
      id: 'cart-recovery',
      name: 'Cart recovery: incentive by intent',
      hypothesis:
        'Only low-intent cart abandoners need a discount; high-intent ones come back with a reminder, so a tiered offer keeps the conversions and spends less.',
      trigger: 'cart_abandoned',
      priority: 10,
      holdoutPct: 0.1,
      budget: { amount: 2500, currency: 'USD', maxCostPerIncrementalConversion: 25 },
      arms: [
        { key: 'reminder', name: 'Reminder only', weight: 1 / 3, isControl: true, offer: { type: 'none', value: 0, channel: 'push' } },
        { key: 'flat15', name: '15% off for everyone', weight: 1 / 3, offer: { type: 'percent_off', value: 15, unitCost: 9, validityDays: 7 } },
        {
          key: 'by-intent',
          name: 'Offer by intent',
          weight: 1 / 3,
          offer: { type: 'percent_off', value: 15, unitCost: 9, validityDays: 7 },
          tierOffers: { high: { type: 'none', value: 0 }, medium: { type: 'free_shipping', value: 0, unitCost: 6.95, validityDays: 7 } },
        },
      ],
      analysis: { primaryMetric: 'net_value', guardrails: ['unsubscribe'], attributionDays: 7, ltvDays: 30 },
      tags: ['decisioning', 'demo'],
    }),
    'demo',
    at(start - DAY / 2),
  )
  await transitionExperiment(db, 'cart-recovery', 'start', 'demo', at(start))
  await cache.refresh()
  await decider.refresh()

  // Trigger firings: a pool of shoppers, some abandoning carts several times (so pacing has work to do).
  const rng = streamFor(opts.seed ?? 7, 0, 9)
  const firings = Array.from({ length: Math.round(customers * 1.6) }, () => ({
    customer: `shopper-${Math.floor(rng() * customers)}`,
    ts: start + Math.floor(rng() * (days - 1) * DAY),
  })).sort((a, b) => a.ts - b.ts)
  let eventId = 0
  // Outcomes happen after the decision; they are ingested only once simulated time has reached them, so a
  // budget runs out (and cooldowns start) in the order they would in production.
  let pending: EventRow[] = []
  const ingestUntil = async (t: number) => {
    const due = pending.filter((e) => e.ts <= t).sort((a, b) => a.ts - b.ts)
    if (!due.length) return
    pending = pending.filter((e) => e.ts > t)
    // Through the same writer and ledger hook as POST /v1/events: redemptions start cooldowns and spend budget.
    await events.write(due)
    await decider.onEvents(due)
  }
  // The scheduled work at simulated time: offers past their validity release their reservations.
  const expireUntil = (t: number) => decider.runScheduled(t)
  for (let i = 0; i < firings.length; i += 50) {
    const batch = firings.slice(i, i + 50)
    await ingestUntil(batch[0].ts)
    await expireUntil(batch[0].ts)
    // One batch of firings is decided together (one control-plane transaction, in firing order), then its outcomes drawn.
    const asked = batch.map((f) => {
      const r = rng()
      const tier: keyof typeof buyChance = r < 0.4 ? 'low' : r < 0.75 ? 'medium' : 'high'
      return { f, tier, channel: rng() < 0.6 ? 'push' : 'email' }
    })
    const answers = await Promise.all(
      asked.map(({ f, tier, channel }) => decider.decide({ customerId: f.customer, trigger: 'cart_abandoned', tier, attributes: { channel } }, f.ts)),
    )
    for (const [k, d] of answers.entries()) {
      const { f, tier } = asked[k]
      if (d.reason && d.reason !== 'holdout') continue
      const offer = d.offer
      const incentive = offer && offer.type !== 'none'
      const chance = Math.min(0.95, buyChance[tier] * (offer ? (offerLift[offer.type] ?? 1) : 1))
      if (rng() >= chance) continue
      // Within the offers' 7-day validity.
      const ts = f.ts + Math.floor(rng() * 5 * DAY) + HOUR
      const revenue = Math.round(logNormal(rng, 4, 0.6) * 100) / 100
      const base = { customer_id: f.customer, experiment_id: 'cart-recovery', arm: d.arm ?? '', order_id: '', properties: '', margin: null }
      if (incentive) {
        const cost = offer.type === 'percent_off' ? Math.round(revenue * offer.value) / 100 : (offer.unitCost ?? 0)
        pending.push({ ...base, event_id: `cart-demo-${eventId++}`, type: 'offer_redeemed', ts, revenue: 0, cost })
      }
      pending.push({ ...base, event_id: `cart-demo-${eventId++}`, type: 'purchase', ts: ts + 60_000, revenue, cost: 0, experiment_id: '', arm: '' })
    }
  }
  await ingestUntil(Number.MAX_SAFE_INTEGER)
  await expireUntil(now)
  return { firings: firings.length, events: eventId }
}
