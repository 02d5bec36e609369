import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../../api/stores/clickhouse.ts'
import { withSettingsClause } from '../../../api/stores/chdb-settings.ts'

let dataDir: string
let ch: ClickHouse
beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-chdb-settings-'))
  ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
})
afterAll(async () => {
  await ch.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const setting = async (name: string) =>
  (await (await ch.client.query({ query: 'SELECT getSetting({n:String}) AS v', query_params: { n: name }, format: 'JSONEachRow' })).json<{ v: unknown }>())[0].v

describe('settings on embedded chDB', () => {
  it('apply to the one statement that carries them, not to the session after it', async () => {
    const before = await setting('max_threads')
    const r = await ch.client.query({ query: "SELECT getSetting('max_threads') AS v", format: 'JSONEachRow', clickhouse_settings: { max_threads: 1 } })
    expect(Number((await r.json<{ v: unknown }>())[0].v)).toBe(1)
    expect(await setting('max_threads')).toEqual(before)
    expect(Number(before)).not.toBe(1)
    await ch.client.command({ query: 'CREATE TABLE s (a UInt8) ENGINE = MergeTree ORDER BY a', clickhouse_settings: { max_threads: 1 } })
    expect(await setting('max_threads')).toEqual(before)
  })

  it('refuse an exec with settings, which could only become session-wide', async () => {
    expect(() => ch.client.exec({ query: 'INSERT INTO s FORMAT TSV\n1\n', clickhouse_settings: { max_threads: 1 } })).toThrow(/statement/)
  })

  it('join a SETTINGS clause the statement ends with, and quote text', () => {
    expect(withSettingsClause('SELECT 1', { max_threads: 1, x: true })).toBe('SELECT 1\nSETTINGS max_threads = 1, x = 1')
    expect(withSettingsClause('SELECT 1 SETTINGS a = 2', { b: "it's" })).toBe("SELECT 1 SETTINGS a = 2,\nb = 'it''s'")
    expect(withSettingsClause('SELECT * FROM (SELECT 1 SETTINGS a = 2) WHERE 1', { b: 3 })).toBe(
      'SELECT * FROM (SELECT 1 SETTINGS a = 2) WHERE 1\nSETTINGS b = 3',
    )
    expect(withSettingsClause('SELECT 1', {})).toBeNull()
    expect(() => withSettingsClause('SELECT 1', { 'a; DROP': 1 })).toThrow(/setting name/)
  })
})
