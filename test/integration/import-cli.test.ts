import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { openClickHouse } from '../../api/stores/clickhouse.ts'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-import-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function runImport(file: string) {
  return execFileSync(process.execPath, ['--import', 'tsx', 'bin/import.ts', file], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, DATA_DIR: path.join(dir, 'data') },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

describe('npm run import', () => {
  it('streams NDJSON and CSV through the API validation, reports duplicates on re-import and writes rejections with reasons', async () => {
    const ndjson = path.join(dir, 'history.ndjson')
    const lines = Array.from({ length: 25_000 }, (_, i) =>
      JSON.stringify({ eventId: `h-${i}`, customerId: `c${i % 700}`, type: 'purchase', ts: Date.UTC(2025, 0, 1) + i * 60_000, revenue: (i % 50) + 0.5 }),
    )
    lines.splice(100, 0, '{"eventId":"neg","customerId":"c1","type":"purchase","ts":1735689600000,"revenue":-3}', 'not json at all')
    fs.writeFileSync(ndjson, lines.join('\n') + '\n')
    const csv = path.join(dir, 'history.csv')
    fs.writeFileSync(
      csv,
      'eventId,customerId,type,ts,revenue,properties\ncsv-1,c1,purchase,2025-03-01T10:00:00Z,12.5,"{""sku"": ""a,b""}"\ncsv-2,c2,refund,2025-03-02T10:00:00Z,5,\ncsv-3,c3,purchase,2025-03-02T10:00:00Z,abc,\n',
    )

    expect(runImport(ndjson)).toContain('25,000 accepted, 0 duplicates (already stored), 2 rejected')
    const rejected = fs
      .readFileSync(`${ndjson}.rejected.ndjson`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(rejected).toEqual([
      { line: 101, field: 'revenue', message: expect.stringContaining('negative'), raw: expect.objectContaining({ eventId: 'neg' }) },
      { line: 102, field: null, message: expect.stringContaining('not valid JSON'), raw: 'not json at all' },
    ])
    expect(runImport(ndjson)).toContain('0 accepted, 25,000 duplicates (already stored), 2 rejected')
    expect(runImport(csv)).toContain('2 accepted, 0 duplicates (already stored), 1 rejected')
    // A stored eventId reused for another event (another customer, another amount) is refused by line, never stored.
    const reused = path.join(dir, 'reused.ndjson')
    fs.writeFileSync(
      reused,
      [
        JSON.stringify({ eventId: 'h-7', customerId: 'someone-else', type: 'purchase', ts: Date.UTC(2025, 0, 1), revenue: 999 }),
        JSON.parse(JSON.stringify(lines[7])),
      ].join('\n') + '\n',
    )
    expect(runImport(reused)).toContain('0 accepted, 1 duplicates (already stored), 1 rejected')
    expect(
      fs
        .readFileSync(`${reused}.rejected.ndjson`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      {
        line: 1,
        field: 'eventId',
        message: expect.stringContaining('already stored for a different event'),
        raw: expect.objectContaining({ eventId: 'h-7', revenue: 999 }),
      },
    ])

    const ch = await openClickHouse({
      dataDir: path.join(dir, 'data'),
      clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null },
    })
    const [totals] = await (
      await ch.client.query({ query: `SELECT count() AS n, sum(revenue) AS revenue FROM events FINAL WHERE startsWith(event_id, 'h-')`, format: 'JSONEachRow' })
    ).json<any>()
    const [csvRow] = await (
      await ch.client.query({ query: `SELECT properties, revenue FROM events FINAL WHERE event_id = 'csv-1'`, format: 'JSONEachRow' })
    ).json<any>()
    await ch.close()
    expect(Number(totals.n)).toBe(25_000)
    expect(totals.revenue).toBeCloseTo(
      lines.filter((l) => l.includes('"h-')).reduce((s, l) => s + JSON.parse(l).revenue, 0),
      6,
    )
    expect(csvRow).toEqual({ properties: '{"sku":"a,b"}', revenue: 12.5 })
  }, 120_000)
})
