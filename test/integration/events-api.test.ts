import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { EventWriter } from '../../api/ingest/event-writer.ts'
import { ingestEvents } from '../../api/ingest/ingest-events.ts'

let h: Harness
beforeAll(async () => {
  h = await openHarness({ events: { maxPendingRows: 3_000 } })
})
afterAll(() => h.close())

const T0 = Date.parse('2026-10-01T00:00:00Z')
const purchase = (id: string, customer: string, revenue: number, extra: Record<string, unknown> = {}) => ({
  eventId: id,
  customerId: customer,
  type: 'purchase',
  ts: T0 + 3600_000,
  revenue,
  ...extra,
})

/** What any report sees: counts and sums over the deduplicated table. */
async function totals(prefix: string) {
  const [r] = await h.chQuery<{ n: string; revenue: number; ids: string }>(
    `SELECT count() AS n, sum(revenue) AS revenue, uniqExact(event_id) AS ids FROM events FINAL WHERE startsWith(event_id, {p:String})`,
    { p: prefix },
  )
  return { n: Number(r.n), revenue: r.revenue, ids: Number(r.ids) }
}

const post = (body: unknown, headers: Record<string, string> = {}) => h.call('POST', '/v1/events', body, undefined, headers)

describe('POST /v1/events', () => {
  it('stores a JSON array and answers with counts', async () => {
    const res = await post([
      purchase('a-1', 'c1', 10),
      purchase('a-2', 'c2', 20.5),
      { eventId: 'a-3', customerId: 'c1', type: 'offer_redeemed', ts: '2026-10-01T12:00:00Z', cost: 4, experimentId: 'wb', arm: 'pct15' },
    ])
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ accepted: 3, duplicates: 0, rejected: [] })
    expect(await totals('a-')).toEqual({ n: 3, revenue: 30.5, ids: 3 })
    const [row] = await h.chQuery<any>(`SELECT type, cost, experiment_id, arm, toUnixTimestamp64Milli(ts) AS ms FROM events FINAL WHERE event_id = 'a-3'`)
    expect(row).toMatchObject({ type: 'offer_redeemed', cost: 4, experiment_id: 'wb', arm: 'pct15' })
    expect(Number(row.ms)).toBe(Date.parse('2026-10-01T12:00:00Z'))
  })

  it('accepts NDJSON, epoch milliseconds and ISO timestamps', async () => {
    const lines =
      [purchase('n-1', 'c1', 5), { ...purchase('n-2', 'c1', 7), ts: '2026-10-02T08:30:00.250+02:00' }].map((e) => JSON.stringify(e)).join('\n') + '\n'
    const res = await post(lines, { 'content-type': 'application/x-ndjson' })
    expect(res.body).toEqual({ accepted: 2, duplicates: 0, rejected: [] })
    const [row] = await h.chQuery<any>(`SELECT toUnixTimestamp64Milli(ts) AS ms FROM events FINAL WHERE event_id = 'n-2'`)
    expect(Number(row.ms)).toBe(Date.parse('2026-10-02T06:30:00.250Z'))
  })

  it('counts an event once when it is repeated within a batch, across batches and across concurrent requests', async () => {
    const batch = [purchase('d-1', 'c1', 10), purchase('d-2', 'c2', 20), purchase('d-1', 'c1', 10)]
    expect((await post(batch)).body).toMatchObject({ accepted: 2, duplicates: 1 })
    expect((await post(batch)).body).toMatchObject({ accepted: 0, duplicates: 3 })
    const one = await post([purchase('d-2', 'c2', 20)])
    expect(one.body).toMatchObject({ accepted: 0, duplicates: 1 })
    const concurrent = Array.from({ length: 20 }, (_, i) => [purchase('d-3', 'c3', 30), purchase(`d-c${i % 4}`, 'c4', 1)])
    const answers = await Promise.all(concurrent.map((b) => post(b)))
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(answers.reduce((s, a) => s + a.body.accepted, 0)).toBe(5)
    expect(await totals('d-')).toEqual({ n: 7, revenue: 10 + 20 + 30 + 4, ids: 7 })
  })

  it('answers a resend the same way through a process that has never seen the events (as after a restart)', async () => {
    const events = [purchase('r-1', 'c1', 11), purchase('r-2', 'c2', 12)]
    expect((await post(events)).body.accepted).toBe(2)
    // A fresh writer has no memory of those ids, as after a restart: it answers from storage, whether or not the
    // caller waited for its Bloom filter of stored ids to load.
    for (const wait of [false, true]) {
      const other = new EventWriter(h.ch)
      if (wait) await other.ready
      const again = await ingestEvents(new TextEncoder().encode(JSON.stringify(events)), 'application/json', other)
      expect(again).toEqual({ accepted: 0, duplicates: 2, rejected: [] })
      await other.close()
    }
    expect(await totals('r-')).toEqual({ n: 2, revenue: 23, ids: 2 })
    const [raw] = await h.chQuery<{ n: string }>(`SELECT count() AS n FROM events WHERE startsWith(event_id, 'r-')`)
    expect(Number(raw.n)).toBeGreaterThanOrEqual(2)
  })

  it('rejects malformed rows by index and field while storing their valid neighbours', async () => {
    const rows: unknown[] = [
      purchase('m-ok-1', 'c1', 1),
      { customerId: 'c1', type: 'purchase', ts: T0, revenue: 1 },
      purchase('m-2', 'c1', 1, { color: 'red' }),
      purchase('m-3', 'c1', '12.50' as unknown as number),
      purchase('m-4', 'c1', -5),
      purchase('m-5', 'c1', 1, { ts: 'yesterday' }),
      purchase('m-6', 'c1', 1, { ts: 1_700_000_000 }),
      purchase('m-7', 'x'.repeat(10 * 1024), 1),
      { eventId: 'm-8', customerId: 'c1', type: 'purchase', ts: T0 },
      { eventId: 'm-9', customerId: 'c1', type: 'offer_redeemed', ts: T0 },
      purchase('m-10', 'c1', 1, { ts: Date.now() + 7 * 86400_000 }),
      { eventId: 'm-11', customerId: 'c1', type: 'Purchase!', ts: T0 },
      purchase('m-ok-2', 'c2', 2),
    ]
    const res = await post(rows)
    expect(res.status).toBe(200)
    expect(res.body.accepted).toBe(2)
    const byIndex = Object.fromEntries(res.body.rejected.map((r: any) => [r.index, r]))
    expect(byIndex[1].field).toBe('eventId')
    expect(byIndex[2]).toMatchObject({ field: 'color', message: expect.stringContaining('unknown field') })
    expect(byIndex[3].field).toBe('revenue')
    expect(byIndex[4]).toMatchObject({ field: 'revenue', message: expect.stringContaining('negative') })
    expect(byIndex[5].field).toBe('ts')
    expect(byIndex[6]).toMatchObject({ field: 'ts', message: expect.stringContaining('out of range') })
    expect(byIndex[7].field).toBe('customerId')
    expect(byIndex[8]).toMatchObject({ field: 'revenue', message: expect.stringContaining('required') })
    expect(byIndex[9].field).toBe('cost')
    expect(byIndex[10].field).toBe('ts')
    expect(byIndex[11].field).toBe('type')
    expect(res.body.rejected).toHaveLength(11)
    expect(await totals('m-')).toEqual({ n: 2, revenue: 3, ids: 2 })
  })

  it('rejects NaN, Infinity and invalid UTF-8 lines of NDJSON by index', async () => {
    const enc = new TextEncoder()
    const good = (id: string) => enc.encode(JSON.stringify(purchase(id, 'c1', 1)) + '\n')
    const badUtf8 = new Uint8Array([
      ...enc.encode('{"eventId":"u-bad","customerId":"c\u00e9'),
      0xff,
      0xfe,
      ...enc.encode('","type":"purchase","ts":1759276800000,"revenue":1}\n'),
    ])
    const body = Buffer.concat([
      good('u-ok-1'),
      enc.encode('{"eventId":"u-nan","customerId":"c1","type":"purchase","ts":1759276800000,"revenue":NaN}\n'),
      enc.encode('{"eventId":"u-inf","customerId":"c1","type":"purchase","ts":1759276800000,"revenue":1e999}\n'),
      badUtf8,
      good('u-ok-2'),
    ])
    const res = await h.retention.app.request('/v1/events', {
      method: 'POST',
      body,
      headers: { authorization: 'Bearer rl_test_admin_key', 'content-type': 'application/x-ndjson' },
    })
    const json: any = await res.json()
    expect(res.status).toBe(200)
    expect(json.accepted).toBe(2)
    expect(json.rejected).toEqual([
      { index: 1, field: null, message: expect.stringContaining('not valid JSON'), code: 'invalid' },
      { index: 2, field: 'revenue', message: expect.stringContaining('finite'), code: 'invalid' },
      { index: 3, field: null, message: expect.stringContaining('UTF-8'), code: 'invalid' },
    ])
    expect(await totals('u-')).toMatchObject({ n: 2 })
  })

  it('answers 400 for a body that is not JSON or NDJSON, 422 when no row is valid, and stores nothing', async () => {
    const before = await totals('')
    const notJson = await post('eventId,customerId\n1,2', { 'content-type': 'text/plain' })
    expect(notJson.status).toBe(400)
    expect(notJson.body.error.code).toBe('invalid_body')
    const brokenArray = await post('[{"eventId": "x", ', { 'content-type': 'application/json' })
    expect(brokenArray.status).toBe(400)
    expect(brokenArray.body.error.code).toBe('invalid_json')
    const allBad = await post([{ eventId: 'z' }])
    expect(allBad.status).toBe(422)
    expect(allBad.body.error.code).toBe('all_rejected')
    expect(allBad.body.rejected).toHaveLength(1)
    expect(await totals('')).toEqual(before)
  })

  it('accepts a 10,000-event body of more than 1 MB (its limit is 5 MB, not the generic 1 MB)', async () => {
    const events = Array.from({ length: 10_000 }, (_, i) =>
      purchase(`big-ok-${i}`, `customer-with-a-longer-id-${i}`, 1, { orderId: `order-${'x'.repeat(40)}-${i}` }),
    )
    expect(JSON.stringify(events).length).toBeGreaterThan(1.5 * 1024 * 1024)
    const res = await post(events)
    expect(res.status).toBe(200)
    expect(res.body.accepted).toBe(10_000)
  })

  it('answers 413 for more than 10,000 events or more than 5 MB', async () => {
    const before = await totals('')
    const many = Array.from({ length: 10_001 }, (_, i) => purchase(`big-${i}`, 'c1', 1))
    const tooMany = await post(many)
    expect(tooMany.status).toBe(413)
    expect(tooMany.body.error.code).toBe('too_many_events')
    const huge = await post([purchase('huge', 'c1', 1, { properties: { blob: 'x'.repeat(5 * 1024 * 1024) } })])
    expect(huge.status).toBe(413)
    expect(huge.body.error.code).toBe('payload_too_large')
    expect(await totals('')).toEqual(before)
  })

  it('answers 503 with Retry-After when the write buffer is full, and stores exactly the acknowledged requests', async () => {
    // The harness caps the buffer at 3,000 rows: 8 concurrent 1,000-row requests cannot all fit.
    const requests = Array.from({ length: 8 }, (_, r) => Array.from({ length: 1000 }, (_, i) => purchase(`bp-${r}-${i}`, `c${i}`, 1)))
    const answers = await Promise.all(requests.map((b) => post(b)))
    const refused = answers.filter((a) => a.status === 503)
    expect(refused.length).toBeGreaterThan(0)
    for (const a of refused) {
      expect(a.headers.get('retry-after')).toBe('1')
      expect(a.body.error.code).toBe('overloaded')
    }
    const ok = answers.filter((a) => a.status === 200)
    expect(ok.length).toBeGreaterThan(0)
    expect(await totals('bp-')).toMatchObject({ n: ok.length * 1000 })
    // Retrying the refused ones later succeeds.
    for (const [r, a] of answers.entries()) if (a.status === 503) expect((await post(requests[r])).status).toBe(200)
    expect(await totals('bp-')).toMatchObject({ n: 8000 })
  })

  it('requires the ingest or admin role', async () => {
    expect((await h.call('POST', '/v1/events', [purchase('role-1', 'c1', 1)], await h.keyFor('viewer'))).status).toBe(403)
    expect((await h.call('POST', '/v1/events', [purchase('role-1', 'c1', 1)], await h.keyFor('ingest'))).status).toBe(200)
  })
})
