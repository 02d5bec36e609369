/**
 * Migration 006 rebuilds 005's customer_history as customer_timeline with 64-row granules (key lookups read whole
 * granules). On a store that ran 005 and holds histories, it must keep every customer's history exactly, leave no
 * trace of the old table or its view (which would keep doubling every insert's work), feed the new table from later
 * inserts, and do nothing when run again.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../api/stores/clickhouse.ts'
import { migrateClickHouse } from '../../api/stores/migrate.ts'
import { insertEvents, type EventRow } from '../../api/stores/events-table.ts'
import { mulberry32 } from '../helpers/prng.ts'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')
const MIGRATION = '006_customer_timeline.sql'
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-timeline-'))
let ch: ClickHouse

function events(prefix: string, customers: number, seed: number): EventRow[] {
  const rand = mulberry32(seed)
  const types = ['purchase', 'refund', 'offer_redeemed', 'offer_sent', 'cart_viewed']
  const rows: EventRow[] = []
  for (let c = 0; c < customers; c++) {
    for (let k = Math.floor(rand() * 6); k > 0; k--) {
      const type = types[Math.floor(rand() * types.length)]
      const amount = Math.round(rand() * 10_000) / 100
      rows.push({
        event_id: `${prefix}-${c}-${k}`,
        customer_id: `tl-${c}`,
        type,
        ts: T0 - Math.floor(rand() * 400 * DAY),
        experiment_id: '',
        arm: '',
        revenue: type === 'offer_redeemed' ? 0 : amount,
        margin: null,
        cost: type === 'offer_redeemed' ? amount : 0,
        order_id: '',
        properties: '',
      })
    }
  }
  return rows
}

/** Every customer's merged history, tuples sorted, from `table`. */
async function histories(table: string): Promise<Record<string, unknown[]>> {
  const r = await ch.client.query({
    query: `SELECT customer_id, arraySort(groupUniqArrayMerge(history)) AS h FROM ${table} GROUP BY customer_id ORDER BY customer_id`,
    format: 'JSONCompactEachRow',
  })
  return Object.fromEntries((await r.json<[string, unknown[]]>()).map(([id, h]) => [id, h]))
}

async function tables(): Promise<string[]> {
  const r = await ch.client.query({
    query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'customer%' ORDER BY name",
    format: 'JSONCompactEachRow',
  })
  return (await r.json<[string]>()).map(([name]) => name)
}

/** A store as 005 left it: customer_history and its view, no 006 row in schema_migrations. */
async function backTo005() {
  await ch.client.command({ query: 'DROP VIEW customer_timeline_mv' })
  await ch.client.command({ query: 'DROP TABLE customer_timeline' })
  await ch.client.command({ query: `ALTER TABLE schema_migrations DELETE WHERE name = '${MIGRATION}'`, clickhouse_settings: { mutations_sync: '1' } })
  const text = fs.readFileSync(path.resolve(import.meta.dirname, '../../migrations/clickhouse/005_customer_history.sql'), 'utf8')
  for (const statement of text.split(/;\s*(?:\n|$)/).map((s) => s.replace(/^\s*--.*$/gm, '').trim())) {
    if (statement) await ch.client.command({ query: statement })
  }
}

beforeAll(async () => {
  ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
  await migrateClickHouse(ch)
  await insertEvents(ch, events('a', 300, 11))
  await backTo005()
  // Stored through 005's view, after its backfill.
  await insertEvents(ch, events('b', 300, 12))
}, 120_000)
afterAll(async () => {
  await ch?.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('migration 006 (customer_timeline)', () => {
  it("keeps every customer's history, drops the old table and view, and feeds the new table from later inserts", async () => {
    const before = await histories('customer_history')
    expect(Object.keys(before).length).toBeGreaterThan(200)
    expect(await tables()).toEqual(['customer_history', 'customer_history_mv'])

    expect(await migrateClickHouse(ch)).toEqual([MIGRATION])
    expect(await tables()).toEqual(['customer_timeline', 'customer_timeline_mv'])
    expect(await histories('customer_timeline')).toEqual(before)
    const r = await ch.client.query({ query: "SELECT create_table_query FROM system.tables WHERE name = 'customer_timeline'", format: 'JSONCompactEachRow' })
    expect((await r.json<[string]>())[0][0]).toMatch(/index_granularity = 64\b/)

    // A resent copy changes nothing; a new event is added.
    const again = events('b', 300, 12)
    const added = { ...again[0], event_id: 'late-1', type: 'purchase', revenue: 12.5 }
    await insertEvents(ch, [...again, added])
    const after = await histories('customer_timeline')
    expect(after[added.customer_id]).toHaveLength(before[added.customer_id].length + 1)
    expect({ ...after, [added.customer_id]: before[added.customer_id] }).toEqual(before)

    expect(await migrateClickHouse(ch)).toEqual([])
    expect(await histories('customer_timeline')).toEqual(after)
  })
})
