/**
 * The feature refresher (api/segments/feature-refresh.ts) on real chDB: it preloads the most recently active
 * customers, a poll re-reads exactly the cached customers with new events (reaching further back for entries read
 * while an insert was in flight), a cached customer then answers past the TTL as long as polls complete, and when too many customers changed to re-read, every entry falls back to its TTL.
 * Features are checked against the brute force from the raw events (features-reference.ts).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../api/stores/clickhouse.ts'
import { migrateClickHouse } from '../../api/stores/migrate.ts'
import { insertEvents, type EventRow } from '../../api/stores/events-table.ts'
import { CustomerFeatureCache } from '../../api/segments/feature-cache.ts'
import { FeatureRefresher } from '../../api/segments/feature-refresh.ts'
import { referenceFeatures } from '../helpers/features-reference.ts'
import type { RawEvent } from '../helpers/raw-event.ts'

const DAY = 86_400_000
const TTL = 60_000
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-refresh-'))
let ch: ClickHouse
let clock = Date.now()
const now = () => clock
const sent = new Map<string, RawEvent[]>()
let serial = 0

/** `n` purchases per customer, `daysAgo` apart, stored as the API stores them and remembered for the brute force. */
async function purchases(customers: string[], n: number, daysAgo: number) {
  const rows: EventRow[] = []
  for (const customerId of customers) {
    for (let k = 0; k < n; k++) {
      const e: RawEvent = { eventId: `p-${serial++}`, customerId, type: 'purchase', ts: clock - (k + 1) * daysAgo * DAY, revenue: 10 + k }
      sent.set(customerId, [...(sent.get(customerId) ?? []), e])
      rows.push({
        event_id: e.eventId,
        customer_id: customerId,
        type: 'purchase',
        ts: e.ts,
        experiment_id: '',
        arm: '',
        revenue: e.revenue!,
        margin: null,
        cost: 0,
        order_id: '',
        properties: '',
      })
    }
  }
  await insertEvents(ch, rows)
}

/** On ClickHouse's clock, how long ago customer_timeline last changed. */
async function msSinceLastChange(): Promise<number> {
  const r = await ch.client.query({
    query: 'SELECT toUnixTimestamp64Milli(now64(3)) - toUnixTimestamp64Milli(max(updated_at)) FROM customer_timeline',
    format: 'JSONCompactEachRow',
  })
  const [[ms]] = await r.json<[string]>()
  return Number(ms)
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
const older = ids('old', 30)
const recent = ids('new', 20)

beforeAll(async () => {
  ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
  await migrateClickHouse(ch)
  await purchases(older, 2, 20)
  // Stored after: their updated_at is later, so they are the most recently active.
  await purchases(recent, 3, 10)
}, 60_000)
afterAll(async () => {
  await ch?.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

/** No overlap unless asked: a poll then sees exactly the events stored since the previous one started. */
function setUp(opts: { preload: number; maxRereads?: number; overlapMs?: number }) {
  const cache = new CustomerFeatureCache(ch, now, { ttlMs: TTL })
  // An interval no test reaches: polls run when a test calls pollNow.
  const refresher = new FeatureRefresher(ch, cache, { intervalMs: 3_600_000, overlapMs: 0, ...opts })
  return { cache, refresher }
}

describe('feature refresher', () => {
  it('preloads the most recently active customers, whose lookups then need no query', async () => {
    const { cache, refresher } = setUp({ preload: recent.length })
    refresher.start()
    await refresher.pollNow()
    expect(cache.stats.preloaded).toBe(recent.length)
    expect(cache.cachedAmong([...older, ...recent])).toEqual(recent)
    for (const id of recent) expect(await cache.get(id)).toEqual(referenceFeatures(sent.get(id)!, clock))
    expect(cache.stats.queries).toBe(0)
    // Not preloaded: looked up on demand.
    expect(await cache.get(older[0])).toEqual(referenceFeatures(sent.get(older[0])!, clock))
    expect(cache.stats.queries).toBe(1)
    await refresher.close()
  })

  it('re-reads the cached customers with new events at the next poll, and keeps them past the TTL while polls complete', async () => {
    const { cache, refresher } = setUp({ preload: 0 })
    refresher.start()
    await refresher.pollNow()
    const watched = [older[1], older[2], recent[1]]
    await Promise.all(watched.map((id) => cache.get(id)))
    expect(cache.stats.queries).toBe(1)

    await purchases([older[1], older[3]], 1, 1)
    // Three TTLs later, a poll: older[3] changed too, but is not cached, so only older[1] is read again.
    clock += 3 * TTL
    await refresher.pollNow()
    expect(cache.stats.reread).toBe(1)
    expect(cache.cachedAmong([older[3]])).toEqual([])
    for (const id of watched) expect(await cache.get(id), id).toEqual(referenceFeatures(sent.get(id)!, clock))
    expect(cache.stats.queries).toBe(1)

    // Two TTLs without a complete poll: the entries are no longer known current and are looked up again.
    clock += 2 * TTL
    await Promise.all(watched.map((id) => cache.get(id)))
    expect(cache.stats.queries).toBe(2)
    await refresher.close()
  })

  it('does not re-read a customer whose entry was read after the change', async () => {
    const { cache, refresher } = setUp({ preload: 0, overlapMs: 0 })
    refresher.start()
    await refresher.pollNow()
    await purchases([older[25], older[26]], 1, 3)
    // older[25] is looked up after its new event, older[26] was cached before it.
    await cache.get(older[26])
    await purchases([older[26]], 1, 4)
    await cache.get(older[25])
    await refresher.pollNow()
    expect(cache.stats.reread).toBe(1)
    expect(await cache.get(older[26])).toEqual(referenceFeatures(sent.get(older[26])!, clock))
    await refresher.close()
  })

  it('falls back to each entry’s TTL when more customers changed than it may re-read', async () => {
    const { cache, refresher } = setUp({ preload: 0, maxRereads: 2 })
    refresher.start()
    await refresher.pollNow()
    await Promise.all(older.slice(10, 14).map((id) => cache.get(id)))
    expect(cache.stats.queries).toBe(1)
    await purchases(older.slice(10, 14), 1, 2)
    // Had the poll re-read them, they would answer from memory after it however late.
    clock += 2 * TTL
    await refresher.pollNow()
    expect(cache.stats.reread).toBe(0)
    // Nor does a later complete poll vouch for them: it knows nothing of what the skipped one missed.
    await refresher.pollNow()
    const got = await Promise.all(older.slice(10, 14).map((id) => cache.get(id)))
    expect(cache.stats.queries).toBe(2)
    got.forEach((f, i) => expect(f).toEqual(referenceFeatures(sent.get(older[10 + i])!, clock)))
    await refresher.close()
  })

  it('reaches back overlapMs before the previous poll for entries read while an insert was in flight', async () => {
    const { cache, refresher } = setUp({ preload: 0, overlapMs: 3_600_000 })
    // Read with no event insert in flight (settled): it holds every event stamped over a second before it.
    await vi.waitFor(async () => expect(await msSinceLastChange()).toBeGreaterThan(1_000), { timeout: 60_000, interval: 100 })
    await cache.load([older[21], recent[3]], 'preloaded')
    // Read while an insert is in flight (its counter is taken as the read starts): an insert still committing may
    // hold events stamped before the read that the read did not see. Both before the refresher starts: not covered,
    // yet still re-read when their events are recent enough.
    const inFlight = purchases(ids('bulk', 2_000), 1, 5)
    const unsettled = cache.load([older[20], recent[2]], 'preloaded')
    await Promise.all([inFlight, unsettled])
    refresher.start()
    await refresher.pollNow()
    // All of this file's events were stored within the hour: only the entries read during the insert are read again.
    expect(cache.stats.reread).toBe(2)
    for (const id of [older[20], recent[2], older[21], recent[3]]) expect(await cache.get(id), id).toEqual(referenceFeatures(sent.get(id)!, clock))
    expect(cache.stats.queries).toBe(0)
    await refresher.close()
  })

  it('does nothing with an interval of 0', async () => {
    const { cache, refresher } = setUp({ preload: 10 })
    const off = new FeatureRefresher(ch, cache, { intervalMs: 0, preload: 10 })
    off.start()
    await off.pollNow()
    await off.close()
    await refresher.close()
    expect(cache.stats).toEqual({ queries: 0, customers: 0, preloaded: 0, reread: 0 })
  })
})
