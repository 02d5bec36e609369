import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openServer, type OpenServer } from '../helpers/server-client.ts'

// Issue 16, item 7 (event amounts and dates, unknown fields), against the server as `npm start` runs it, over HTTP.
let s: OpenServer
beforeAll(async () => {
  s = await openServer('inputs')
})
afterAll(async () => {
  await s?.close()
})

const T = Date.now() - 3_600_000
const purchase = (id: string, extra: Record<string, unknown> = {}) => ({ eventId: id, customerId: `c-${id}`, type: 'purchase', ts: T, revenue: 10, ...extra })

describe('values that would reach a false statistic are refused by row and field', () => {
  it('refuses a day that does not exist instead of rolling it over', async () => {
    const res = await s.call('POST', '/v1/events', [purchase('cal-1', { ts: '2026-02-30T10:00:00Z' }), purchase('cal-2', { ts: '2024-02-29T10:00:00Z' })])
    expect(res.status).toBe(200)
    expect(res.body.rejected).toEqual([{ index: 0, field: 'ts', message: expect.stringContaining('not a calendar date'), code: 'invalid' }])
    expect(res.body.accepted).toBe(1)
  })

  it('bounds revenue, margin and cost so two purchases of 1e308 cannot overflow a report', async () => {
    const res = await s.call('POST', '/v1/events', [
      purchase('big-1', { revenue: 1e308 }),
      purchase('big-2', { margin: -1e12 }),
      { eventId: 'big-3', customerId: 'c', type: 'offer_redeemed', ts: T, cost: 2e9 },
      purchase('big-4', { revenue: 999_999_999 }),
    ])
    expect(res.body.rejected.map((r: any) => [r.index, r.field])).toEqual([
      [0, 'revenue'],
      [1, 'margin'],
      [2, 'cost'],
    ])
    expect(res.body.accepted).toBe(1)
  })

  it('refuses unknown fields on /v1/decide as /v1/events does', async () => {
    const res = await s.call('POST', '/v1/decide', { customerId: 'c1', trigger: 'cart_abandoned', tierr: 'high' })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/tierr/)
  })

  // Last, since it stops the server: chDB opens a data directory in one process at a time, and no API lists
  // stored events. SIGTERM flushes pending writes, so what the server acknowledged is on disk.
  it('stores only the accepted rows of each request above', async () => {
    const stored = await s.readClickHouse<{ event_id: string }>(
      "SELECT event_id FROM events WHERE startsWith(event_id, 'cal-') OR startsWith(event_id, 'big-') ORDER BY event_id",
    )
    expect(stored.filter((r) => r.event_id.startsWith('cal-'))).toEqual([{ event_id: 'cal-2' }])
    expect(stored.filter((r) => r.event_id.startsWith('big-'))).toEqual([{ event_id: 'big-4' }])
  })
})
