import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../api/stores/clickhouse.ts'
import { migrateClickHouse } from '../../api/stores/migrate.ts'
import { exposureWriter } from '../../api/exposures/writer.ts'
import { exposureLine, insertExposureLines, type ExposureRow } from '../../api/stores/exposures-table.ts'
import { StoreError } from '../../api/stores/errors.ts'
import type { BatcherObserver } from '../../api/stores/batcher.ts'

let dataDir: string
let ch: ClickHouse
beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-journal-'))
  ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
  await migrateClickHouse(ch)
})
afterAll(async () => {
  await ch.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const rowsFor = (experiment: string, n: number): ExposureRow[] =>
  Array.from({ length: n }, (_, i) => ({
    experiment_id: experiment,
    customer_id: `c${i}`,
    arm: 'a',
    ts: Date.parse('2026-11-01T00:00:00Z') + i,
    attributes: { k: 'v' },
    source: 'assign',
  }))

async function count(client: ClickHouse['client'], experiment: string): Promise<number> {
  const [r] = await (
    await client.query({ query: 'SELECT count() AS n FROM exposures WHERE experiment_id = {e:String}', query_params: { e: experiment }, format: 'JSONEachRow' })
  ).json<{ n: string }>()
  return Number(r.n)
}

const segments = (table: string) => fs.readdirSync(path.join(dataDir, 'journal', table)).filter((f) => f.endsWith('.jsonl'))

describe('the embedded exposure journal', () => {
  it('acknowledges rows once they are journaled, and a read right after sees them', async () => {
    const writer = exposureWriter(ch)
    await writer.add(rowsFor('ack', 40))
    // Acknowledged, on disk, not yet in chDB: the raw client (no barrier) does not see them.
    expect(writer.pendingRows).toBe(40)
    expect(segments('exposures')).toHaveLength(1)
    expect(await count(ch.journals!.raw, 'ack')).toBe(0)
    // The application's client waits for the rows acknowledged before the read.
    expect(await count(ch.client, 'ack')).toBe(40)
    expect(writer.pendingRows).toBe(0)
    expect(segments('exposures')).toEqual([])
    await writer.close()
  })

  it('leaves no deduplication token behind for the inserts that follow it', async () => {
    const writer = exposureWriter(ch)
    await writer.add(rowsFor('token', 3))
    await writer.flush()
    // chdb/connection makes clickhouse_settings session-wide; a token left set would drop this insert as a repeat.
    await ch.client.insert({ table: 'exposures', values: rowsFor('token-after', 3).map((r) => ({ ...r, ts: Math.floor(r.ts / 1000) })), format: 'JSONEachRow' })
    expect(await count(ch.client, 'token-after')).toBe(3)
    await writer.close()
  })

  it('makes a statement wait only when the statement itself names the table, not the rows an INSERT carries', async () => {
    const writer = exposureWriter(ch)
    await writer.add(rowsFor('barrier', 2))
    const journals = ch.journals!
    expect(journals.before('INSERT INTO events (event_id) FORMAT JSONCompactEachRow\n["exposures"]')).toBeNull()
    expect(journals.before('SELECT count() FROM events')).toBeNull()
    expect(writer.pendingRows).toBe(2)
    expect(journals.before('INSERT INTO t SELECT * FROM exposures')).not.toBeNull()
    await writer.close()
  })

  it('groups the rows of many requests into one insert per interval', async () => {
    const writer = exposureWriter(ch)
    await Promise.all(Array.from({ length: 200 }, (_, i) => writer.add(rowsFor('group', 1).map((r) => ({ ...r, customer_id: `g${i}` })))))
    await writer.flush()
    expect(writer.rowsWritten).toBe(200)
    expect(writer.batches).toBeLessThanOrEqual(2)
    expect(await count(ch.client, 'group')).toBe(200)
    await writer.close()
  })

  it('sets aside a row chDB refuses and stores the rest of its segment', async () => {
    const journals = ch.journals!
    const rejected: Array<[number, string]> = []
    const journal = journals.open<ExposureRow>({
      table: 'exposures',
      // A value chDB cannot parse as a DateTime64, as a row that slipped past validation would carry.
      line: (r) => (r.customer_id === 'c3' ? exposureLine(r).replace(/,\d+,/, ',"not a time",') : exposureLine(r)),
      insert: (lines, token) => insertExposureLines(journals.raw, lines, token),
      maxBatchRows: 1000,
      maxPendingRows: 1000,
    })
    journal.observer = { insert: () => undefined, rejected: (rows, code) => rejected.push([rows, code]) } satisfies BatcherObserver
    await journal.add(rowsFor('refused', 6))
    await journal.flush()
    expect(await count(ch.client, 'refused')).toBe(5)
    expect(rejected).toEqual([[1, 'rows_refused']])
    const setAside = fs.readFileSync(path.join(dataDir, 'journal', 'exposures.rejected.jsonl'), 'utf8')
    expect(setAside).toContain('"c3"')
    expect(setAside.trim().split('\n')).toHaveLength(1)
    await journal.close()
  })

  it('refuses rows beyond maxPendingRows with 503 overloaded and changes nothing', async () => {
    const journals = ch.journals!
    const journal = journals.open<ExposureRow>({
      table: 'exposures',
      line: exposureLine,
      insert: (lines, token) => insertExposureLines(journals.raw, lines, token),
      maxBatchRows: 1000,
      maxPendingRows: 10,
      flushIntervalMs: 3_600_000,
    })
    await journal.add(rowsFor('full', 8))
    const err = await journal.add(rowsFor('full', 5)).catch((e) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect(err.kind).toBe('overloaded')
    expect(journal.pendingRows).toBe(8)
    await journal.close()
    expect(await count(ch.client, 'full')).toBe(8)
  })

  it('stores what it took when closed and refuses new rows after', async () => {
    const writer = exposureWriter(ch)
    const taken = writer.add(rowsFor('closing', 25))
    await writer.close()
    await taken
    expect(await count(ch.journals!.raw, 'closing')).toBe(25)
    const err = await writer.add(rowsFor('closing', 1)).catch((e) => e)
    expect(err.kind).toBe('shutting_down')
  })
})
