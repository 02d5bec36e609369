import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openClickHouse, type ClickHouse } from '../api/stores/clickhouse.ts'
import { migrateClickHouse } from '../api/stores/migrate.ts'
import { insertEvents, type EventRow } from '../api/stores/events-table.ts'
import { customerFeatures } from '../api/segments/profile.ts'
import { featuresOfCustomers } from '../api/segments/feature-cache.ts'
import { featureColumns } from '../api/segments/features-sql.ts'
import { mulberry32 } from '../test/helpers/prng.ts'
import { median } from './machine.ts'

// One world (customers and their event history) in its own embedded chDB, run as a child of
// bench/feature-refresh.ts and driven over IPC: chDB holds one store per process, and two worlds in two processes
// can be measured turn about, so a change in the machine's load moves both alike instead of skewing the ratio.

const NOW = Date.parse('2026-12-01T00:00:00Z')
const DAY = 86_400_000
/** EventWriter's maxBatchRows: production writes events in inserts of this many rows. */
const CHUNK = 50_000
/** Cumulative shares of event types; offer_opened and page_view are not history and the view skips them. */
const TYPES: Array<[number, string]> = [
  [0.5, 'purchase'],
  [0.65, 'offer_sent'],
  [0.73, 'offer_redeemed'],
  [0.78, 'refund'],
  [0.9, 'offer_opened'],
  [1, 'page_view'],
]
const HISTORY_TYPES = new Set(['purchase', 'refund', 'offer_redeemed', 'offer_sent'])

const customerId = (i: number) => `c-${String(i).padStart(7, '0')}`

/** `count` events with ids `${prefix}${i}` over `customers` customers, at instants in [from, from + spanMs). */
function events(prefix: string, count: number, customers: number, from: number, spanMs: number, seed: number): EventRow[] {
  const rand = mulberry32(seed)
  return Array.from({ length: count }, (_, i) => {
    const u = rand()
    const type = TYPES.find(([share]) => u < share)![1]
    const money = Math.round(rand() * 12_000) / 100
    return {
      event_id: `${prefix}${i}`,
      customer_id: customerId(Math.floor(rand() * customers)),
      type,
      ts: from + Math.floor(rand() * spanMs),
      experiment_id: type.startsWith('offer') ? 'bench' : '',
      arm: type.startsWith('offer') ? 'pct15' : '',
      revenue: type === 'purchase' || type === 'refund' ? money : 0,
      margin: type === 'purchase' ? Math.round(money * 30) / 100 : null,
      cost: type === 'offer_redeemed' ? 5 : 0,
      order_id: type === 'purchase' ? `o-${prefix}${i}` : '',
      properties: '',
    }
  })
}

/** The new events of one refresh: the same rows in every world, so only the history behind them differs. */
const newEvents = (n: number, rep: number, customers: number) => events(`n${rep}-${n}-`, n, customers, NOW, DAY, 1_000_003 * rep + n)

async function insertInChunks(ch: ClickHouse, rows: EventRow[]) {
  for (let i = 0; i < rows.length; i += CHUNK) await insertEvents(ch, rows.slice(i, i + CHUNK))
}

let ch: ClickHouse
let dataDir = ''
let worldCustomers = 0
let tuples = 0
/** Parts written by the last refresh, dropped by `undo` so every repetition meets the same world. */
let added: Array<{ table: string; name: string }> = []

const rows = async <T>(query: string, params: Record<string, unknown> = {}) =>
  (await ch.client.query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } })).json<T>()
const command = (query: string) => ch.client.command({ query })
const activeParts = () =>
  rows<{ table: string; name: string }>(
    `SELECT table, name FROM system.parts WHERE active AND database = currentDatabase() AND table IN ('events', 'customer_timeline')`,
  )
const seconds = (since: number) => (performance.now() - since) / 1000

/** History tuples in customer_timeline, merged per customer: what the view stored, each event once. */
async function storedTuples() {
  const [r] = await rows<{ n: number }>(
    'SELECT sum(length(h)) AS n FROM (SELECT groupUniqArrayMerge(history) AS h FROM customer_timeline GROUP BY customer_id)',
  )
  return Number(r.n)
}

const commands = {
  async build({ customers, history }: { customers: number; history: number }) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-feature-refresh-'))
    ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
    await migrateClickHouse(ch)
    worldCustomers = customers
    let insertSeconds = 0
    // Generated a chunk at a time so a 10M-event history never sits in memory; only the inserts are timed.
    for (let i = 0; i < history; i += CHUNK) {
      const chunk = events(`h${i}-`, Math.min(CHUNK, history - i), customers, NOW - 730 * DAY, 730 * DAY, i + 1)
      tuples += chunk.filter((r) => HISTORY_TYPES.has(r.type)).length
      const t = performance.now()
      await insertEvents(ch, chunk)
      insertSeconds += seconds(t)
    }
    // A history that has been there a while is merged; the refreshes then add parts beside it.
    await command('OPTIMIZE TABLE events FINAL')
    const t = performance.now()
    await command('OPTIMIZE TABLE customer_timeline FINAL')
    const mergeSeconds = seconds(t)
    const stored = await storedTuples()
    if (stored !== tuples) throw new Error(`customer_timeline holds ${stored} tuples after the build, expected ${tuples}`)
    // Background merges would fold a refresh's parts into the history before `undo` could drop them.
    await command('SYSTEM STOP MERGES events')
    await command('SYSTEM STOP MERGES customer_timeline')
    const [{ n: historyCustomers }] = await rows<{ n: number }>('SELECT count() AS n FROM customer_timeline')
    return { insertSeconds, eventsPerSecond: Math.round(history / insertSeconds), mergeSeconds, historyCustomers: Number(historyCustomers), tuples }
  },

  /**
   * Seconds to insert n new events the way production does, the view's update of customer_timeline included; with
   * `view: false` the view is detached for the insert, so the difference is what keeping the features costs.
   */
  async refresh({ n, rep, customers, view = true }: { n: number; rep: number; customers: number; view?: boolean }) {
    const fresh = newEvents(n, rep, customers)
    const before = new Set((await activeParts()).map((p) => `${p.table}/${p.name}`))
    if (!view) await command('DETACH TABLE customer_timeline_mv')
    const t = performance.now()
    await insertInChunks(ch, fresh)
    const s = seconds(t)
    if (!view) await command('ATTACH TABLE customer_timeline_mv')
    added = (await activeParts()).filter((p) => !before.has(`${p.table}/${p.name}`))
    return { seconds: s, tuples: fresh.filter((r) => HISTORY_TYPES.has(r.type)).length }
  },

  async undo() {
    for (const p of added) await command(`ALTER TABLE ${p.table} DROP PART '${p.name}'`)
    added = []
  },

  /** That the refresh reached customer_timeline: every tuple of the world and of the new events, once. */
  async check({ expected }: { expected: number }) {
    const stored = await storedTuples()
    if (stored !== expected) throw new Error(`customer_timeline holds ${stored} tuples after the refresh, expected ${expected}`)
    return { stored }
  },

  /** Features of `lookups` random customers of the world: one customerFeatures each, then all in one query. */
  async read({ lookups }: { lookups: number }) {
    const rand = mulberry32(7)
    const ids = Array.from({ length: lookups }, () => customerId(Math.floor(rand() * worldCustomers)))
    const asOf = NOW + DAY
    const each: number[] = []
    for (const id of ids) {
      const t = performance.now()
      await customerFeatures(ch, id, asOf)
      each.push(performance.now() - t)
    }
    each.sort((a, b) => a - b)
    const t = performance.now()
    const batch = await featuresOfCustomers(ch, ids, asOf)
    const batchMs = performance.now() - t
    return { medianMs: median(each), p99Ms: each[Math.floor(each.length * 0.99)], batchMs, batchCustomers: batch.size }
  },

  /** The alternative to keeping history: every customer's features recomputed from the raw events. */
  async rescan() {
    const history = `groupUniqArray((sipHash64(event_id), toUInt8(indexOf(['purchase', 'refund', 'offer_redeemed', 'offer_sent'], type)),
      toUnixTimestamp64Milli(ts), if(type = 'offer_redeemed', cost, if(type = 'offer_sent', 0, revenue))))`
    const t = performance.now()
    // Aggregated in ClickHouse so the figure is the computation, not a million rows sent to Node.
    const [r] = await rows<{ customers: number }>(
      `SELECT count() AS customers, countIf(lapse_stage = 'active') AS active FROM (
        SELECT ${featureColumns('h', '{asOf:Int64}')}
        FROM (SELECT customer_id, ${history} AS h FROM events FINAL WHERE type IN ('purchase', 'refund', 'offer_redeemed', 'offer_sent') GROUP BY customer_id))`,
      { asOf: NOW + DAY },
    )
    return { seconds: seconds(t), customers: Number(r.customers) }
  },

  /** Seconds for OPTIMIZE … FINAL to fold a refresh of n events into the merged history (what merges do lazily). */
  async merge({ n, customers }: { n: number; customers: number }) {
    await command('SYSTEM START MERGES customer_timeline')
    await insertInChunks(ch, newEvents(n, 999, customers))
    const t = performance.now()
    await command('OPTIMIZE TABLE customer_timeline FINAL')
    return { seconds: seconds(t) }
  },

  async close() {
    await ch?.close()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
    return {}
  },
}

export type WorldCommands = typeof commands

// The parent closes the channel after `close`; chDB's threads would otherwise keep this process alive.
process.on('disconnect', () => process.exit(0))
process.on('message', async (m: { id: number; cmd: keyof WorldCommands; args: any }) => {
  try {
    const result = await commands[m.cmd](m.args)
    process.send!({ id: m.id, result })
  } catch (e) {
    process.send!({ id: m.id, error: e instanceof Error ? e.stack : String(e) })
  }
})
