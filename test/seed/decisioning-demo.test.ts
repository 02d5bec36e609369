import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { seedDecisioningDemo } from '../../seed/decisioning-demo.ts'

const DAY = 86_400_000
const now = Date.parse('2026-11-20T12:00:00Z')
let h: Harness

beforeAll(async () => {
  h = await openHarness({ now: () => now })
  await seedDecisioningDemo(h.db, h.retention, { now })
}, 300_000)
afterAll(() => h.close())

describe('the demo cart-recovery budget', () => {
  it('is reached but never overrun: redemptions that arrive days after their offers were reserved for', async () => {
    const report = await h.call('GET', '/v1/experiments/cart-recovery/report?include=immature')
    const budget = report.body.decisioning.budget
    expect(budget.exhaustedAt).toBeTruthy()
    expect(report.body.decisioning.suppressions.budget).toBeGreaterThan(0)
    expect(budget.spent).toBeLessThanOrEqual(budget.amount)
    // Every outcome has been ingested; once the open offers expire nothing more can be spent.
    await h.retention.decider.runScheduled(now + 8 * DAY)
    const after = await h.call('GET', '/v1/experiments/cart-recovery/report?include=immature')
    expect(after.body.decisioning.budget).toMatchObject({ reserved: 0, openOffers: 0, spent: budget.spent })
  })
})
