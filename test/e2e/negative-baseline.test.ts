import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { DESKTOP, openDashboard, shot, type Dashboard } from './browser.ts'
import { mulberry32 } from '../helpers/prng.ts'

// Issue 23: net value per customer is negative for many retention arms (incentive cost above the margin it
// brings). A control at about −$9 and a variant at about −$4 (it loses less) must read as an improvement in
// relative and absolute form alike, with the same verdict, on the report page.
const DAY = 86_400_000
const NOW = Date.now()
let fixed: number | null = null
let d: Dashboard
let page: Page
let report: any

beforeAll(async () => {
  d = await openDashboard({ now: () => fixed ?? Date.now() })
  fixed = NOW - 45 * DAY
  const created = await d.api('POST', '/v1/experiments', {
    id: 'costly-save',
    name: 'Costly save offer',
    arms: [
      { key: 'control', name: '$10 credit', weight: 0.5, isControl: true, offer: { type: 'amount_off', value: 10, unitCost: 10 } },
      { key: 'half', name: '$5 credit', weight: 0.5, offer: { type: 'amount_off', value: 5, unitCost: 5 } },
    ],
    analysis: { primaryMetric: 'net_value', guardrails: ['unsubscribe'], attributionDays: 30 },
  })
  expect(created.status).toBe(201)
  expect((await d.api('POST', '/v1/experiments/costly-save/start')).status).toBe(200)
  fixed = NOW - 40 * DAY
  const customers = Array.from({ length: 3000 }, (_, i) => ({ customerId: `neg-${i}` }))
  const assigned = await d.api('POST', '/v1/assign/batch', { experimentId: 'costly-save', customers })
  expect(assigned.status).toBe(200)
  const rand = mulberry32(23)
  const events: unknown[] = []
  let n = 0
  const t0 = NOW - 40 * DAY
  for (const a of assigned.body.assignments) {
    if (!a.inExperiment || a.arm === 'holdout') continue
    const cost = a.arm === 'control' ? 10 : 5
    events.push({
      eventId: `neg-r${n++}`,
      customerId: a.customerId,
      type: 'offer_redeemed',
      ts: t0 + DAY,
      cost: cost + rand(),
      experimentId: 'costly-save',
      arm: a.arm,
    })
    if (rand() < 0.1) events.push({ eventId: `neg-p${n++}`, customerId: a.customerId, type: 'purchase', ts: t0 + 2 * DAY, revenue: 30, margin: 9 })
  }
  expect((await d.api('POST', '/v1/events', events)).status).toBe(200)
  fixed = null
  report = (await d.api('GET', '/v1/experiments/costly-save/report')).body
  page = await d.signedInPage({ viewport: DESKTOP })
})

afterAll(async () => {
  await d?.close()
})

describe('a negative net-value control', () => {
  it('reads the same sign and verdict in relative and absolute form, in the API and on the page', async () => {
    const net = report.metrics.find((m: any) => m.key === 'net_value')
    const c = net.comparisons.find((x: any) => x.variant === 'half' && x.against === 'control')
    expect(c.baselineMean).toBeLessThan(0)
    expect(c.variantMean).toBeGreaterThan(c.baselineMean)
    // (μB − μA)/|μA|: losing half as much is an improvement of about +50%, like the absolute +$5.
    expect(c.kind).toBe('relative')
    expect(c.estimate).toBeCloseTo((c.variantMean - c.baselineMean) / Math.abs(c.baselineMean), 12)
    expect(Math.sign(c.estimate)).toBe(Math.sign(c.absolute.estimate))
    expect(c.estimate).toBeGreaterThan(0.3)
    expect(c.significant).toBe(true)
    expect(c.ci[0]).toBeGreaterThan(0)
    expect(c.absolute.ci[0]).toBeGreaterThan(0)
    expect(c.chanceToWin).toBeGreaterThan(0.99)

    await page.goto(`${d.base}/experiments/costly-save`)
    const row = page.locator('tbody[data-metric="net_value"] tr[data-arm="half"]')
    await row.locator('[data-testid="verdict"]').waitFor()
    const effect = (await row.locator('td.lift').textContent())!
    // Both the relative lift and the absolute difference beside it read as gains.
    expect(effect).toMatch(/\+\d+(\.\d)?%/)
    expect(effect).toMatch(/\+\$\d/)
    expect(effect).not.toMatch(/−\d+(\.\d)?%/)
    expect(await row.locator('[data-testid="verdict"]').getAttribute('data-significant')).toBe('true')
    expect(await row.locator('[data-testid="verdict"]').textContent()).toContain('better')
    await shot(page, 'negative-baseline-1280')
  })
})
