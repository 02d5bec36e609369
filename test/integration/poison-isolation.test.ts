import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { EventWriter } from '../../api/ingest/event-writer.ts'
import { StoreError, storeErrorToApi } from '../../api/http/store-errors.ts'
import type { EventRow } from '../../api/ingest/event-schema.ts'

let h: Harness
beforeAll(async () => {
  h = await openHarness()
  expect((await h.call('POST', '/v1/experiments', twoArmExperiment('poison'))).status).toBe(201)
  expect((await h.call('POST', '/v1/experiments/poison/start')).status).toBe(200)
})
afterAll(() => h.close())

const T0 = Date.now() - 3_600_000
const purchase = (id: string, customer: string) => ({ eventId: id, customerId: customer, type: 'purchase', ts: T0, revenue: 10 })

async function count(table: 'events' | 'exposures', prefix: string) {
  const [r] = await h.chQuery<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE startsWith(customer_id, {p:String})`, { p: prefix })
  return Number(r.n)
}

describe('one client’s unstorable strings never fail another client’s writes', () => {
  it('refuses lone surrogates and NULs by row and field while a clean client beside it loses nothing', async () => {
    const rounds = 40
    const clean: Promise<{ status: number; body: any }>[] = []
    const dirty: Promise<{ status: number; body: any }>[] = []
    for (let i = 0; i < rounds; i++) {
      // The clean client: an event batch and an assignment per round.
      clean.push(h.call('POST', '/v1/events', [purchase(`good-${i}-a`, `good-${i}`), purchase(`good-${i}-b`, `good-${i}`)]))
      clean.push(h.call('POST', '/v1/assign', { experimentId: 'poison', customerId: `good-${i}` }))
      // The bad client, interleaved so its rows would share the same inserts.
      dirty.push(h.call('POST', '/v1/events', [purchase(`bad-${i}`, `bad-${i}\ud800`)]))
      dirty.push(
        h.call('POST', '/v1/events', [
          { eventId: `bad-r-${i}`, customerId: `bad-r-${i}`, type: 'offer_redeemed', ts: T0, cost: 3, experimentId: 'x\u0000y', arm: 'pct15' },
        ]),
      )
      dirty.push(h.call('POST', '/v1/assign', { experimentId: 'poison', customerId: `bad-${i}\udfff` }))
      dirty.push(h.call('POST', '/v1/assign', { experimentId: 'poison', customerId: `bad-a-${i}`, attributes: { ['k\u0000']: 1 } }))
    }
    const goods = await Promise.all(clean)
    const bads = await Promise.all(dirty)

    expect(goods.map((g) => g.status)).toEqual(goods.map(() => 200))
    expect(goods.filter((g) => 'accepted' in g.body).reduce((s, g) => s + g.body.accepted, 0)).toBe(rounds * 2)
    expect(await count('events', 'good-')).toBe(rounds * 2)
    expect(await count('exposures', 'good-')).toBe(rounds)

    for (let i = 0; i < rounds; i++) {
      const [surrogateEvent, nulRedemption, surrogateAssign, nulKey] = bads.slice(i * 4, i * 4 + 4)
      expect(surrogateEvent.status).toBe(422)
      expect(surrogateEvent.body.rejected).toEqual([{ index: 0, field: 'customerId', message: expect.stringContaining('lone surrogate'), code: 'invalid' }])
      expect(nulRedemption.status).toBe(422)
      expect(nulRedemption.body.rejected).toEqual([{ index: 0, field: 'experimentId', message: expect.stringContaining('NUL'), code: 'invalid' }])
      expect(surrogateAssign.status).toBe(400)
      expect(surrogateAssign.body.error.field).toBe('customerId')
      expect(nulKey.status).toBe(400)
      expect(nulKey.body.error.field).toBe('attributes.k\u0000')
    }
    expect(await count('events', 'bad-')).toBe(0)
    expect(await count('exposures', 'bad-')).toBe(0)
    const [ledger] = (await h.db
      .selectFrom('redemptions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('event_id', 'like', 'bad-%')
      .execute()) as Array<{ n: string }>
    expect(Number(ledger.n)).toBe(0)
  })

  it('names the offending row in a mixed batch and stores its neighbours', async () => {
    const res = await h.call('POST', '/v1/events', [
      purchase('mix-1', 'mix-1'),
      { ...purchase('mix-2', 'mix-2'), properties: { note: 'a\u0000b' } },
      purchase('mix-3', 'mix-3'),
    ])
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [{ index: 1, field: 'properties.note', message: expect.stringContaining('NUL'), code: 'invalid' }],
    })
    expect(await count('events', 'mix-')).toBe(2)
  })

  it('refuses NULs in paths and query strings with a 400 instead of a store error', async () => {
    const path = await h.call('GET', '/v1/experiments/x%00y')
    expect(path.status).toBe(400)
    const query = await h.call('GET', '/v1/experiments/poison/report?dimension=a%00b')
    expect(query.status).toBe(400)
  })

  it('refuses bodies nested deeper than the limit without overflowing the stack', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`
    const res = await h.call('POST', '/v1/assign', `{"experimentId":"poison","customerId":"deep","attributes":{"x":${deep}}}`)
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/nested more than/)
  })
})

describe('a shared insert that the store refuses', () => {
  const row = (id: string, customer: string): EventRow => ({
    event_id: id,
    customer_id: customer,
    type: 'purchase',
    ts: T0,
    experiment_id: '',
    arm: '',
    revenue: 1,
    margin: null,
    cost: 0,
    order_id: '',
    properties: '',
  })

  it('is split so that only the request holding the unstorable row fails, for good, and without the store’s text', async () => {
    // Bypasses validation on purpose: the store itself must be the one refusing.
    const writer = new EventWriter(h.ch)
    // Once the stored ids are loaded, new ids need no lookup and the three requests share one insert.
    await writer.ready
    const results = await Promise.allSettled([
      writer.write([row('split-1', 'split-1')]),
      writer.write([row('split-2', 'split-2\ud800')]),
      writer.write([row('split-3', 'split-3'), row('split-4', 'split-4')]),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const reason = (results[1] as PromiseRejectedResult).reason
    expect(reason).toBeInstanceOf(StoreError)
    const error = storeErrorToApi(reason)
    expect(error.status).toBe(422)
    expect(error.code).toBe('rows_refused_by_store')
    expect(error.message).not.toMatch(/DB::Exception|Code:/)
    expect(await count('events', 'split-')).toBe(3)
    await writer.close()
  })

  it('answers 503 with a generic message when the store refuses everything', async () => {
    const writer = new EventWriter(h.ch)
    // Simulates an outage at the store boundary: the batcher's write is the only thing replaced.
    ;(writer.batcher as unknown as { opts: { write(rows: unknown[]): Promise<void> } }).opts.write = async () => {
      throw new Error('Code: 241. DB::Exception: Memory limit exceeded for customer secret-123')
    }
    const results = await Promise.allSettled([
      writer.write([row('out-1', 'out-1')]),
      writer.write([row('out-2', 'out-2')]),
      writer.write([row('out-3', 'out-3')]),
      writer.write([row('out-4', 'out-4')]),
    ])
    for (const r of results) {
      expect(r.status).toBe('rejected')
      const error = storeErrorToApi((r as PromiseRejectedResult).reason)
      expect(error.status).toBe(503)
      expect(error.message).not.toContain('secret-123')
    }
  })
})
