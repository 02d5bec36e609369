import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { referenceFeatures } from '../helpers/features-reference.ts'
import type { RawEvent } from '../helpers/raw-event.ts'
import type { CustomerFeatures } from '../../api/segments/features.ts'

/**
 * Targeting by segment or feature (issue 20): /v1/assign and /v1/decide look up `features.<name>` and `segments`
 * server-side when an experiment's targeting names them, and the caller's own attributes win when sent. Every
 * customer of a seeded world is checked against the brute-force features of the events sent.
 */

const DAY = 86_400_000
const NOW = Date.parse('2026-06-01T00:00:00Z')
const CUSTOMERS = 60
const events: RawEvent[] = []
const expected = new Map<string, CustomerFeatures>()
let h: Harness

function world() {
  for (let c = 0; c < CUSTOMERS; c++) {
    const customerId = `t-${c}`
    // c % 6 + 1 purchases 20 days apart, the last c * 4 days ago: active, slipping, lapsed and dormant customers.
    const last = NOW - c * 4 * DAY - 3_600_000
    for (let k = 0; k < (c % 6) + 1; k++)
      events.push({ eventId: `${customerId}:o${k}`, customerId, type: 'purchase', ts: last - k * 20 * DAY, revenue: 20 + ((c * 37) % 90) })
    if (c % 4 === 0) events.push({ eventId: `${customerId}:s`, customerId, type: 'offer_sent', ts: last - DAY })
  }
  events.push({ eventId: 't-sent:s', customerId: 't-sent', type: 'offer_sent', ts: NOW - 3 * DAY })
  const byCustomer = new Map<string, RawEvent[]>()
  for (const e of events) byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e])
  for (const [id, es] of byCustomer) expected.set(id, referenceFeatures(es, NOW))
}

const NOBODY = 'never-seen-before'
const customers = () => [...expected.keys(), NOBODY]
const featuresOf = (id: string) => expected.get(id) ?? referenceFeatures([], NOW)
const isLapsedRegular = (f: CustomerFeatures) => (f.lapse_stage === 'lapsed' || f.lapse_stage === 'dormant') && f.orders_365d >= 2

const assign = (experimentId: string, customerId: string, attributes?: Record<string, unknown>) =>
  h.call('POST', '/v1/assign', { experimentId, customerId, ...(attributes ? { attributes } : {}) })
/** Whether targeting let the customer in: any answer but not_eligible (the global holdout comes after targeting). */
async function eligible(experimentId: string, customerId: string, attributes?: Record<string, unknown>) {
  const res = await assign(experimentId, customerId, attributes)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.reason !== 'not_eligible'
}

async function startExperiment(id: string, targeting: unknown, extra: Record<string, unknown> = {}) {
  const res = await h.call('POST', '/v1/experiments', twoArmExperiment(id, { targeting, ...extra }))
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  expect((await h.call('POST', `/v1/experiments/${id}/start`)).status).toBe(200)
}
const segment = async (key: string, rule: unknown) => expect((await h.call('POST', '/v1/segments', { key, name: key, rule })).status).toBe(201)

beforeAll(async () => {
  world()
  h = await openHarness({ now: () => NOW })
  const res = await h.call('POST', '/v1/events', events)
  expect(res.status).toBe(200)
  expect(res.body.rejected).toEqual([])
  await segment('lapsed_regulars', { lapse_stage: { $in: ['lapsed', 'dormant'] }, orders_365d: { $gte: 2 } })
  // A rule on rfm_group makes membership need the RFM cut points too.
  await segment('champions', { rfm_group: 'champions' })
  await segment('retired', { orders_365d: { $gte: 0 } })
  expect((await h.call('POST', '/v1/segments/retired/archive')).status).toBe(200)
  await startExperiment('by-segment', { segments: { $elemMatch: { $eq: 'lapsed_regulars' } } })
  await startExperiment('by-any-segment', { segments: { $in: ['lapsed_regulars', 'champions'] } })
  await startExperiment('by-feature', { 'features.lapse_stage': 'lapsed' })
  await startExperiment('by-rfm-group', { 'features.rfm_group': { $in: ['champions', 'loyal'] } })
  await startExperiment('never-bought', { 'features.recency_days': { $exists: false } })
  await startExperiment('plain', { cartValue: { $gte: 20 } })
  expect((await h.call('POST', '/v1/triggers', { key: 'cart_abandoned', name: 'Cart abandoned' })).status).toBe(201)
  await startExperiment('cart-lapsed', { segments: { $in: ['lapsed_regulars'] } }, { trigger: 'cart_abandoned' })
})

afterAll(() => h?.close())

describe('targeting by segment or feature in /v1/assign', () => {
  it('looks each customer up once, in batched queries, however many experiments ask at once', async () => {
    const stats = h.retention.serverAttributes.features.stats
    const ids = customers()
    await Promise.all(ids.flatMap((id) => ['by-segment', 'by-any-segment', 'by-feature', 'by-rfm-group', 'never-bought'].map((e) => eligible(e, id))))
    expect(stats.customers).toBe(ids.length)
    expect(stats.queries).toBeLessThan(ids.length)
  })

  it('admits exactly the customers whose brute-force features put them in the segment or give the feature', async () => {
    const world = { lapsed: 0, regulars: 0 }
    for (const id of customers()) {
      const f = featuresOf(id)
      world.regulars += Number(isLapsedRegular(f))
      world.lapsed += Number(f.lapse_stage === 'lapsed')
      expect(await eligible('by-segment', id), `${id} by segment`).toBe(isLapsedRegular(f))
      expect(await eligible('by-feature', id), `${id} by feature`).toBe(f.lapse_stage === 'lapsed')
      expect(await eligible('never-bought', id), `${id} never bought`).toBe(f.recency_days === null)
    }
    // Both groups are neither empty nor everyone, so each expectation above could fail either way.
    expect(world.regulars).toBeGreaterThan(3)
    expect(world.regulars).toBeLessThan(CUSTOMERS - 3)
    expect(world.lapsed).toBeGreaterThan(3)
    expect(world.lapsed).toBeLessThan(CUSTOMERS - 3)
  })

  it("agrees with the customer profile's RFM group and segments", async () => {
    const groups = new Set<string>()
    for (const id of customers()) {
      const profile = (await h.call('GET', `/v1/customers/${id}/profile`)).body
      const keys = profile.segments.map((s: { key: string }) => s.key)
      groups.add(profile.rfmGroup)
      expect(await eligible('by-rfm-group', id), `${id} ${profile.rfmGroup}`).toBe(['champions', 'loyal'].includes(profile.rfmGroup))
      expect(await eligible('by-any-segment', id), `${id} ${keys}`).toBe(keys.includes('lapsed_regulars') || keys.includes('champions'))
    }
    expect(groups).toContain('champions')
    expect(groups.size).toBeGreaterThanOrEqual(4)
  })

  it('answers a batch as it answers each customer alone', async () => {
    const ids = customers()
    const res = await h.call('POST', '/v1/assign/batch', { experimentId: 'by-segment', customers: ids.map((customerId) => ({ customerId })) })
    expect(res.status).toBe(200)
    const admitted = res.body.assignments.map((a: { reason: string | null }) => a.reason !== 'not_eligible')
    expect(admitted).toEqual(ids.map((id) => isLapsedRegular(featuresOf(id))))
  })

  it('lets the attributes the caller sends win over the lookup', async () => {
    const member = customers().find((id) => isLapsedRegular(featuresOf(id)))!
    const outsider = customers().find((id) => !isLapsedRegular(featuresOf(id)) && featuresOf(id).lapse_stage !== 'lapsed')!
    expect(await eligible('by-segment', member, { segments: [] })).toBe(false)
    expect(await eligible('by-segment', outsider, { segments: ['lapsed_regulars'] })).toBe(true)
    expect(await eligible('by-feature', outsider, { features: { lapse_stage: 'lapsed' } })).toBe(true)
    expect(await eligible('by-feature', NOBODY, { features: { lapse_stage: 'lapsed' } })).toBe(true)
    // Sending features does not stand in for segments: membership still comes from the looked-up features.
    expect(await eligible('by-segment', outsider, { features: { lapse_stage: 'dormant', orders_365d: 9 } })).toBe(false)
  })

  it('never looks anything up for targeting that names neither features nor segments', async () => {
    const stats = { ...h.retention.serverAttributes.features.stats }
    for (let i = 0; i < 20; i++) expect(await eligible('plain', `plain-${i}`, { cartValue: 30 })).toBe(true)
    expect(await eligible('plain', 'plain-x', { cartValue: 5 })).toBe(false)
    expect(h.retention.serverAttributes.features.stats).toEqual(stats)
  })
})

describe('targeting by segment in /v1/decide', () => {
  it('offers only to members of the segment', async () => {
    let offered = 0
    for (const id of customers()) {
      const res = await h.call('POST', '/v1/decide', { customerId: id, trigger: 'cart_abandoned' })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      if (isLapsedRegular(featuresOf(id))) {
        expect(res.body.reason, id).not.toBe('not_targeted')
        expect(res.body.experimentKey).toBe('cart-lapsed')
        if (res.body.reason === null) offered++
      } else {
        expect(res.body, id).toMatchObject({ offer: null, reason: 'not_targeted' })
      }
    }
    expect(offered).toBeGreaterThan(0)
  })

  it('lets the segments the caller sends win', async () => {
    const outsider = customers().find((id) => !isLapsedRegular(featuresOf(id)))!
    const res = await h.call('POST', '/v1/decide', { customerId: outsider, trigger: 'cart_abandoned', attributes: { segments: ['lapsed_regulars'] } })
    expect(res.body.reason).not.toBe('not_targeted')
    expect(res.body.experimentKey).toBe('cart-lapsed')
  })
})

describe('saving targeting that names features or segments', () => {
  const refused = async (id: string, targeting: unknown, field: string, message: RegExp) => {
    const res = await h.call('POST', '/v1/experiments', twoArmExperiment(id, { targeting }))
    expect(res.status, JSON.stringify(res.body)).toBe(400)
    expect(res.body.error.field).toBe(field)
    expect(res.body.error.message).toMatch(message)
    expect((await h.call('GET', `/v1/experiments/${id}`)).status).toBe(404)
  }

  it('refuses an unknown feature, a feature compared with what it cannot hold, and a whole-list test of segments', async () => {
    await refused('bad-feature', { 'features.nope': 1 }, 'targeting.features.nope', /unknown feature "nope"; features: recency_days/)
    await refused('bad-value', { $or: [{ cartValue: 1 }, { 'features.lapse_stage': 'asleep' }] }, 'targeting.$or[1].features.lapse_stage', /must be one of/)
    await refused('bad-bare', { segments: 'lapsed_regulars' }, 'targeting.segments', /\$in/)
    await refused('bad-whole', { features: { lapse_stage: 'lapsed' } }, 'targeting.features', /features\.<name>/)
  })

  it('refuses an unknown or archived segment, naming where it is', async () => {
    await refused('bad-segment', { segments: { $in: ['lapsed_regulars', 'nope'] } }, 'targeting.segments.$in[1]', /unknown segment "nope"; live segments: /)
    await refused('archived-segment', { $and: [{ segments: { $elemMatch: { $eq: 'retired' } } }] }, 'targeting.$and[0].segments.$elemMatch.$eq', /archived/)
  })

  it('refuses the same in a change to a draft and leaves its targeting as it was', async () => {
    expect((await h.call('POST', '/v1/experiments', twoArmExperiment('draft-1', { targeting: { segments: { $in: ['champions'] } } }))).status).toBe(201)
    const res = await h.call('PATCH', '/v1/experiments/draft-1', { targeting: { 'features.orders_90d': { $gte: 'two' } } })
    expect(res.status).toBe(400)
    expect(res.body.error.field).toBe('targeting.features.orders_90d.$gte')
    expect((await h.call('GET', '/v1/experiments/draft-1')).body.targeting).toEqual({ segments: { $in: ['champions'] } })
  })
})

describe('segment changes', () => {
  it('reach targeting at once in this process', async () => {
    const single = customers().find((id) => {
      const f = featuresOf(id)
      return (f.lapse_stage === 'lapsed' || f.lapse_stage === 'dormant') && f.orders_365d === 1
    })!
    expect(await eligible('by-segment', single)).toBe(false)
    const res = await h.call('POST', '/v1/segments/lapsed_regulars/versions', {
      key: 'lapsed_regulars',
      name: 'lapsed_regulars',
      rule: { lapse_stage: { $in: ['lapsed', 'dormant'] }, orders_365d: { $gte: 1 } },
    })
    expect(res.status).toBe(201)
    expect(await eligible('by-segment', single)).toBe(true)
    expect((await h.call('POST', '/v1/segments/lapsed_regulars/archive')).status).toBe(200)
    expect(await eligible('by-segment', single)).toBe(false)
  })
})
