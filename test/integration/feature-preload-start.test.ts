/**
 * When the refresher starts (api/app.ts): with the app when a draft or running experiment's targeting names segments
 * or features — a restarted server preloads before traffic comes — else as soon as an experiment's does, before its
 * first decision; never while none does.
 */
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { createApp } from '../../api/app.ts'

const DAY = 86_400_000
const CUSTOMERS = 40
// An interval no test reaches: polls run when the test asks.
const featureRefresh = { intervalMs: 3_600_000 }
let h: Harness

beforeAll(async () => {
  h = await openHarness({ featureRefresh })
  const ts = Date.now() - 10 * DAY
  const events = Array.from({ length: CUSTOMERS }, (_, i) => ({ eventId: `p-${i}`, customerId: `c-${i}`, type: 'purchase', ts, revenue: 25 }))
  expect((await h.call('POST', '/v1/events', events)).status).toBe(200)
  expect((await h.call('POST', '/v1/segments', { key: 'buyers', name: 'Buyers', rule: { orders_365d: { $gte: 1 } } })).status).toBe(201)
  expect((await h.call('POST', '/v1/experiments', twoArmExperiment('plain', { targeting: { country: 'DE' } }))).status).toBe(201)
  expect((await h.call('POST', '/v1/experiments/plain/start')).status).toBe(200)
})
afterAll(() => h?.close())

describe('feature refresher start', () => {
  it('reads nothing ahead while no experiment names features or segments', async () => {
    await h.retention.serverAttributes.refresher.pollNow()
    expect(h.retention.serverAttributes.features.stats.preloaded).toBe(0)
  })

  it('preloads as soon as an experiment targets a segment, before its first decision', async () => {
    expect((await h.call('POST', '/v1/experiments', twoArmExperiment('by-segment', { targeting: { segments: { $in: ['buyers'] } } }))).status).toBe(201)
    // pollNow waits for the preload the draft started.
    await h.retention.serverAttributes.refresher.pollNow()
    expect(h.retention.serverAttributes.features.stats.preloaded).toBe(CUSTOMERS)
    expect(h.retention.serverAttributes.features.stats.queries).toBe(0)
    expect((await h.call('POST', '/v1/experiments/by-segment/start')).status).toBe(200)
  })

  it('preloads with a restarted app when a running experiment targets a segment', async () => {
    const restarted = await createApp({ db: h.db, ch: h.ch, featureRefresh, uiDir: path.join(h.dataDir, 'no-ui') })
    try {
      await restarted.serverAttributes.refresher.pollNow()
      expect(restarted.serverAttributes.features.stats.preloaded).toBe(CUSTOMERS)
      expect(restarted.serverAttributes.features.stats.queries).toBe(0)
    } finally {
      await restarted.close()
    }
  })
})
