import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { seedDirect } from '../../seed/writer-direct.ts'
import { demoPlan } from '../../seed/experiments.ts'
import { SeedError } from '../../seed/generate.ts'
import { storesAreEmpty } from '../../seed/demo.ts'
import { customerAt, DAY } from '../../seed/world.ts'
import type { Truth } from '../../seed/truth.ts'

// The direct writer (what npm start and --direct use): real dates written straight into the stores, with the
// arms the API itself would answer.
let h: Harness
let truth: Truth
const NOW = Date.now()

beforeAll(async () => {
  h = await openHarness()
  expect(await storesAreEmpty(h.db, h.ch)).toBe(true)
  truth = (await seedDirect({ db: h.db, ch: h.ch }, { seed: 42, customers: 6_000, now: NOW, onWarning: () => {} })).truth
  await h.retention.cache.refresh()
}, 120_000)
afterAll(() => h?.close())

describe('seeding straight into the stores', () => {
  it('creates the demo experiments with the dates of the story', async () => {
    const { experiments } = (await h.call('GET', '/v1/experiments')).body
    expect(experiments.map((e: any) => e.id).sort()).toEqual(demoPlan.experiments.map((e) => e.definition.id).sort())
    for (const planned of demoPlan.experiments) {
      const e = experiments.find((x: any) => x.id === planned.definition.id)
      expect(Date.parse(e.startedAt)).toBe(NOW - planned.timeline.startDaysAgo * DAY)
      expect(e.status).toBe(planned.timeline.stopDaysAgo === undefined ? 'running' : 'stopped')
      if (planned.decision) expect(e.decision.chosenArm).toBe(planned.decision.chosenArm)
    }
    expect(await storesAreEmpty(h.db, h.ch)).toBe(false)
  })

  it('logs each exposure on a day of its experiment’s waves, and no event in the future', async () => {
    for (const planned of demoPlan.experiments) {
      const [r] = await h.chQuery<{ lo: string; hi: string; n: string }>(
        `SELECT toUnixTimestamp64Milli(min(ts)) AS lo, toUnixTimestamp64Milli(max(ts)) AS hi, count() AS n FROM exposures WHERE experiment_id = {id:String}`,
        { id: planned.definition.id },
      )
      const start = NOW - planned.timeline.startDaysAgo * DAY
      expect(Number(r.lo)).toBeGreaterThanOrEqual(start)
      expect(Number(r.hi)).toBeLessThan(start + planned.timeline.exposureDays * DAY)
      const t = truth.experiments.find((e) => e.id === planned.definition.id)!
      expect(Number(r.n)).toBe(t.n + t.globalHoldout)
    }
    const [e] = await h.chQuery<{ hi: string; lo: string }>(`SELECT toUnixTimestamp64Milli(max(ts)) AS hi, toUnixTimestamp64Milli(min(ts)) AS lo FROM events`)
    expect(Number(e.hi)).toBeLessThanOrEqual(NOW)
    // A year of history (and its refunds) before the earliest experiment's start.
    const earliest = Math.max(...demoPlan.experiments.map((p) => p.timeline.startDaysAgo))
    expect(Number(e.lo)).toBeGreaterThan(NOW - (earliest + 410) * DAY)
  })

  it('puts every customer in the arm POST /v1/assign answers', async () => {
    const rows = await h.chQuery<{ experiment_id: string; customer_id: string; arm: string }>(
      `SELECT experiment_id, customer_id, arm FROM exposures WHERE experiment_id != 'save-offer-at-risk' ORDER BY cityHash64(customer_id) LIMIT 300`,
    )
    expect(new Set(rows.map((r) => r.arm)).size).toBeGreaterThan(4)
    for (const r of rows) {
      const attributes = customerAt(42, Number(r.customer_id.slice(2))).attributes
      const res = await h.call('POST', '/v1/assign', { experimentId: r.experiment_id, customerId: r.customer_id, attributes })
      expect(res.status).toBe(200)
      expect(res.body.arm ?? (res.body.reason === 'global_holdout' ? 'global_holdout' : null), r.customer_id).toBe(r.arm)
    }
  })

  it('gives every experiment a report with numbers behind it', async () => {
    for (const planned of demoPlan.experiments) {
      const report = (await h.call('GET', `/v1/experiments/${planned.definition.id}/report`)).body
      expect(report.totalCustomers).toBeGreaterThan(300)
      const reactivation = report.metrics.find((m: any) => m.key === 'reactivation')
      for (const v of reactivation.values) expect(v.value).toBeGreaterThan(0)
      const revenue = report.metrics.find((m: any) => m.key === 'revenue')
      // The year of history gives CUPED something to work with (little for dormant customers: their last
      // purchase is 180+ days back).
      expect(revenue.comparisons[0].cuped.varianceReduction, planned.definition.id).toBeGreaterThan(0)
    }
  })

  it('refuses to seed the same world twice into the same stores', async () => {
    await expect(seedDirect({ db: h.db, ch: h.ch }, { customers: 10 })).rejects.toThrow(SeedError)
  })
})
