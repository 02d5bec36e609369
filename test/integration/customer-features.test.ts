import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { referenceFeatures } from '../helpers/features-reference.ts'
import type { RawEvent } from '../helpers/raw-event.ts'
import { featureColumns } from '../../api/segments/features-sql.ts'
import { customerFeatures, parseFeatures, rfmCutsAsOf } from '../../api/segments/profile.ts'
import { FEATURE_NAMES, type CustomerFeatures } from '../../api/segments/features.ts'

/**
 * Customer features against a brute force (issue 20): a random world's events go through POST /v1/events, and
 * every customer's features at three instants — from customer_timeline, the materialised state — must agree with
 * docs/segments.md's definitions recomputed here from the raw events sent. Events at and after an instant must
 * never change the features as of it.
 */

const DAY = 86_400_000
const START = Date.parse('2024-06-01T00:00:00Z')
const INSTANTS = [Date.parse('2025-03-15T12:00:00Z'), Date.parse('2025-09-01T00:00:00Z'), Date.parse('2026-02-10T08:30:00Z')]
const CUSTOMERS = 150
const rng = mulberry32(20)
const events: RawEvent[] = []
let h: Harness

const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)]
const money = () => Math.round((5 + rng() * 200) * 100) / 100

function world() {
  for (let c = 0; c < CUSTOMERS; c++) {
    const customerId = `cust-${c}`
    let k = 0
    const add = (e: Omit<RawEvent, 'eventId' | 'customerId'>) => events.push({ eventId: `${customerId}:${k++}`, customerId, ...e })
    const style = c % 10
    if (style === 0) continue // never any event
    if (style === 1) {
      add({ type: 'offer_sent', ts: Math.round(START + rng() * 600 * DAY) })
      continue
    }
    // Cadences from a few days to months; some customers stop buying part way.
    const gap = pick([3, 12, 30, 75, 160]) * DAY
    const stop = START + rng() * 650 * DAY
    for (let t = START + rng() * gap; t < stop; t += gap * (0.3 + rng() * 1.4)) {
      const ts = Math.round(t)
      const revenue = money()
      add({ type: 'purchase', ts, revenue, orderId: `${customerId}-o${k}` })
      if (rng() < 0.15) add({ type: 'refund', ts: ts + Math.round(rng() * 5 * DAY), revenue: Math.round(revenue * rng() * 100) / 100 })
      if (rng() < 0.3) add({ type: 'offer_redeemed', ts: ts + 1000, cost: Math.round(rng() * 2000) / 100 })
      if (rng() < 0.3) add({ type: 'offer_sent', ts: ts - Math.round(rng() * 10 * DAY) })
      if (rng() < 0.2) add({ type: 'offer_opened', ts: ts - DAY })
    }
    if (rng() < 0.4) add({ type: 'offer_sent', ts: Math.round(stop + rng() * 40 * DAY) })
  }
  // Edges: an event exactly at an instant (not before it: excluded), purchases exactly 90 and 365 days before
  // one (included) and a millisecond earlier (excluded), and a purchase a day-fraction before (recency 0).
  const [i1, i2] = INSTANTS
  const edge = (customerId: string, type: string, ts: number, value: Partial<RawEvent> = {}) =>
    events.push({ eventId: `${customerId}:edge${ts}`, customerId, type, ts, ...value })
  edge('cust-2', 'purchase', i1, { revenue: 40 })
  edge('cust-3', 'purchase', i1 - 90 * DAY, { revenue: 50 })
  edge('cust-4', 'purchase', i1 - 90 * DAY - 1, { revenue: 60 })
  edge('cust-5', 'purchase', i2 - 365 * DAY, { revenue: 70 })
  edge('cust-6', 'purchase', i2 - 365 * DAY - 1, { revenue: 80 })
  edge('cust-7', 'purchase', i2 - 1, { revenue: 90 })
  edge('cust-8', 'offer_sent', i2)
  edge('cust-8', 'offer_redeemed', i2 - 5, { cost: 3 })
}

async function send(batch: RawEvent[]) {
  for (let i = 0; i < batch.length; i += 5000) {
    const res = await h.call('POST', '/v1/events', batch.slice(i, i + 5000))
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
    expect((res.body as { rejected: unknown[] }).rejected).toEqual([])
  }
}

/** Every customer's features as of `asOf`, in one pass over customer_timeline (as the reports read it). */
async function allFeatures(asOf: number): Promise<Map<string, CustomerFeatures>> {
  const rows = await h.chQuery<Record<string, unknown>>(
    `SELECT customer_id, ${featureColumns('h', '{asOf:Int64}')}
     FROM (SELECT customer_id, groupUniqArrayMerge(history) AS h FROM customer_timeline GROUP BY customer_id)`,
    { asOf },
  )
  return new Map(rows.map((r) => [String(r.customer_id), parseFeatures(r)]))
}

const noFeatures = referenceFeatures([], 0)

function byCustomerId() {
  const out = new Map<string, RawEvent[]>()
  for (const e of events) out.set(e.customerId, [...(out.get(e.customerId) ?? []), e])
  return out
}

function expectSame(actual: CustomerFeatures, expected: CustomerFeatures, what: string) {
  for (const name of FEATURE_NAMES) {
    const [a, e] = [actual[name], expected[name]]
    if (typeof e === 'number' && typeof a === 'number')
      expect(Math.abs(a - e), `${what} ${name}: ${a} vs ${e}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e)))
    else expect(a, `${what} ${name}`).toBe(e)
  }
}

function compareAll(actual: Map<string, CustomerFeatures>, asOf: number) {
  const byCustomer = byCustomerId()
  let checked = 0
  for (let c = 0; c < CUSTOMERS; c++) {
    const id = `cust-${c}`
    expectSame(actual.get(id) ?? noFeatures, referenceFeatures(byCustomer.get(id) ?? [], asOf), `${id} @ ${new Date(asOf).toISOString()}`)
    checked++
  }
  return checked
}

beforeAll(async () => {
  world()
  h = await openHarness()
  // Shuffled, so the materialised view sees each customer's events over many inserts.
  const shuffled = [...events].sort(() => rng() - 0.5)
  await send(shuffled)
})

afterAll(async () => {
  await h?.close()
})

describe('customer features from the event stream', () => {
  it('agrees with the brute force for every customer at three instants', async () => {
    const stages = new Set<string>()
    for (const asOf of INSTANTS) {
      const actual = await allFeatures(asOf)
      expect(compareAll(actual, asOf)).toBe(CUSTOMERS)
      for (const f of actual.values()) stages.add(f.lapse_stage)
    }
    // The world reaches every stage, so every branch of the definition was compared.
    expect([...stages].sort()).toEqual(['active', 'dormant', 'lapsed', 'none', 'slipping'])
  })

  it('reads one customer by key with the same definitions', async () => {
    for (const id of ['cust-0', 'cust-1', 'cust-3', 'cust-7', 'cust-8', 'cust-42', 'nobody']) {
      const mine = events.filter((e) => e.customerId === id)
      for (const asOf of INSTANTS) expectSame(await customerFeatures(h.ch, id, asOf), referenceFeatures(mine, asOf), id)
    }
  })

  it('never changes a feature as of an instant when events at or after it arrive, or when events are resent', async () => {
    const asOf = INSTANTS[1]
    const before = await allFeatures(asOf)
    const late: RawEvent[] = []
    for (let c = 0; c < CUSTOMERS; c++) {
      const customerId = `cust-${c}`
      late.push({ eventId: `${customerId}:late-a`, customerId, type: 'purchase', ts: asOf, revenue: 999 })
      late.push({ eventId: `${customerId}:late-b`, customerId, type: 'refund', ts: asOf + 3 * DAY, revenue: 500 })
      late.push({ eventId: `${customerId}:late-c`, customerId, type: 'offer_sent', ts: asOf + DAY })
      late.push({ eventId: `${customerId}:late-d`, customerId, type: 'offer_redeemed', ts: asOf + 2 * DAY, cost: 5 })
    }
    await send(late)
    // Resending a slice of the history is acknowledged as duplicates and must not count twice.
    await send(events.slice(0, 1500))
    const after = await allFeatures(asOf)
    for (const [id, f] of before) expectSame(after.get(id)!, f, `${id} after late events`)
    // The late events do count as of a later instant.
    events.push(...late)
    expect(compareAll(await allFeatures(asOf + 4 * DAY), asOf + 4 * DAY)).toBe(CUSTOMERS)
  })

  it('gives the same state when the backfill of stored events runs again, even overlapping the view', async () => {
    const migration = fs.readFileSync(path.resolve(import.meta.dirname, '../../migrations/clickhouse/006_customer_timeline.sql'), 'utf8')
    const start = migration.indexOf('INSERT INTO customer_timeline')
    const backfill = migration.slice(start, migration.indexOf(';', start))
    const asOf = INSTANTS[2]
    const before = await allFeatures(asOf)
    await h.ch.client.command({ query: backfill })
    const twice = await allFeatures(asOf)
    for (const [id, f] of before) expectSame(twice.get(id)!, f, `${id} after a second backfill`)
    await h.ch.client.command({ query: 'TRUNCATE TABLE customer_timeline' })
    await h.ch.client.command({ query: backfill })
    expect(compareAll(await allFeatures(asOf), asOf)).toBe(CUSTOMERS)
  })

  it('cuts RFM quintiles among customers who had purchased, at ⌊level·n⌋ of the sorted values', async () => {
    const asOf = INSTANTS[2]
    const byCustomer = byCustomerId()
    const buyers = [...byCustomer.values()].map((evs) => referenceFeatures(evs, asOf)).filter((f) => f.recency_days !== null)
    const at = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b)
      return [0.2, 0.4, 0.6, 0.8].map((q) => sorted[Math.floor(q * sorted.length)])
    }
    const cuts = await rfmCutsAsOf(h.ch, asOf)
    expect(cuts.recency).toEqual(at(buyers.map((f) => f.recency_days!)))
    expect(cuts.frequency).toEqual(at(buyers.map((f) => f.orders_365d)))
    at(buyers.map((f) => f.monetary_365d)).forEach((v, i) => expect(cuts.monetary[i]).toBeCloseTo(v, 9))
  })
})
