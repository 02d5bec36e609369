import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'

let h: Harness
beforeAll(async () => {
  h = await openHarness()
})
afterAll(() => h.close())

const T = Date.now() - 3_600_000
const purchase = (id: string, extra: Record<string, unknown> = {}) => ({ eventId: id, customerId: `c-${id}`, type: 'purchase', ts: T, revenue: 10, ...extra })
const stored = async (prefix: string) =>
  Number((await h.chQuery<{ n: string }>('SELECT count() AS n FROM events WHERE startsWith(event_id, {p:String})', { p: prefix }))[0].n)

describe('values that would reach a false statistic are refused by row and field', () => {
  it('refuses a day that does not exist instead of rolling it over', async () => {
    const res = await h.call('POST', '/v1/events', [purchase('cal-1', { ts: '2026-02-30T10:00:00Z' }), purchase('cal-2', { ts: '2024-02-29T10:00:00Z' })])
    expect(res.status).toBe(200)
    expect(res.body.rejected).toEqual([{ index: 0, field: 'ts', message: expect.stringContaining('not a calendar date'), code: 'invalid' }])
    expect(res.body.accepted).toBe(1)
    expect(await stored('cal-')).toBe(1)
  })

  it('bounds revenue, margin and cost so two purchases of 1e308 cannot overflow a report', async () => {
    const res = await h.call('POST', '/v1/events', [
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
    expect(await stored('big-')).toBe(1)
  })

  it('refuses unknown fields on /v1/decide as /v1/events does', async () => {
    const res = await h.call('POST', '/v1/decide', { customerId: 'c1', trigger: 'cart_abandoned', tierr: 'high' })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/tierr/)
  })
})
