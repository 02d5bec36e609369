import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Locator, Page } from 'playwright-core'
import { openDashboard, settled, shot, SHOTS, type Dashboard } from './browser.ts'
import { buildWorld, WINBACK } from './world.ts'
import { daysInterval, daysSooner, purchaseInterval, purchaseShare } from '../../ui/src/lib/timeToPurchase.ts'
import { verdict } from '../../ui/src/lib/significance.ts'

// Time to first purchase on the win-back report, built through the API: the restricted-mean difference in
// days per arm against the chosen baseline, its adjusted interval and verdict, the share who purchased by day
// 7, 14 and the window's end, and the median only where reached. Every expectation is the API's own number,
// formatted by the same helper the page uses.

let d: Dashboard
let page: Page
let report: any
let metric: any
let fixed: number | null = null

const comparisons = (against: string) => metric.comparisons.filter((c: any) => c.against === against)
const card = () => page.getByTestId('survival-card')
const tableRow = (arm: string) => page.locator(`[data-testid="metrics-table"] tbody[data-metric="time_to_purchase"] tr[data-arm="${arm}"]`)

async function openReport() {
  await page.goto(`${d.base}/experiments/${WINBACK}`)
  await page.getByTestId('recommendation').waitFor()
  await card().locator('[data-testid="ttp-difference-table"]').waitFor()
  // time_to_purchase is a secondary metric in the win-back test: its table rows are folded away.
  const folded = page.locator('[data-testid="secondary-metrics"]')
  if ((await folded.count()) && !(await folded.evaluate((el) => (el as HTMLDetailsElement).open))) await folded.locator('summary').click()
  await tableRow(comparisons('control')[0].variant).waitFor()
}

async function expectComparisonShown(row: Locator, c: any, label: string) {
  expect(await row.getByTestId('ttp-difference').textContent(), `${label} difference`).toBe(daysSooner(c.estimate))
  expect(await row.getByTestId('ttp-interval').textContent(), `${label} interval`).toBe(daysInterval(c.ci))
  const cell = row.getByTestId('verdict')
  expect(await cell.getAttribute('data-significant'), `${label} significant`).toBe(String(c.significant))
  expect(await cell.locator('.badge').textContent(), `${label} badge`).toBe(verdict(c, false).label)
}

beforeAll(async () => {
  d = await openDashboard({ now: () => fixed ?? Date.now() })
  const call = d.call
  await buildWorld(call, { set: (ms) => (fixed = ms) })
  report = (await d.api('GET', `/v1/experiments/${WINBACK}/report`)).body
  metric = report.metrics.find((m: any) => m.key === 'time_to_purchase')

  page = await d.signedInPage({ viewport: { width: 1280, height: 900 } })
})

afterAll(async () => {
  await d?.close()
})

describe('time to first purchase on the win-back report', () => {
  it('reports the metric with a restricted-mean comparison for every variant against control', () => {
    expect(metric, 'time_to_purchase in the report').toBeTruthy()
    expect(metric.higherIsBetter).toBe(false)
    const variants = report.arms.filter((a: any) => !a.isControl && !a.isHoldout).map((a: any) => a.key)
    expect(
      comparisons('control')
        .map((c: any) => c.variant)
        .sort(),
    ).toEqual([...variants].sort())
    for (const c of comparisons('control')) {
      expect(c.kind).toBe('absolute')
      expect(Number.isFinite(c.estimate), c.variant).toBe(true)
      expect(c.ci, c.variant).not.toBeNull()
    }
  })

  it('shows each variant’s difference in days and its adjusted interval as the API computes them, in the card and the metrics table', async () => {
    await openReport()
    for (const c of comparisons('control')) {
      await expectComparisonShown(card().locator(`tr[data-arm="${c.variant}"]`), c, `card ${c.variant}`)
      await expectComparisonShown(tableRow(c.variant), c, `table ${c.variant}`)
      // Written for people: "1.5 days sooner", an interval in days.
      expect(daysSooner(c.estimate)).toMatch(/^\d+\.\d (day|days) (sooner|later)$|^no sooner/)
      expect(daysInterval(c.ci)).toMatch(/^\[[+\u2212]?\d+\.\d, [+\u2212]?\d+\.\d\] days$/)
    }
    await settled(page)
    await shot(page, 'time-to-purchase-1280')
    await card().screenshot({ path: `${SHOTS}/time-to-purchase-card.png` })
  })

  it('calls a significantly shorter wait better and a non-significant one inconclusive, as the API decided', async () => {
    await openReport()
    for (const c of comparisons('control')) {
      const words = (await card().locator(`tr[data-arm="${c.variant}"] [data-testid="verdict"] .badge`).textContent())!
      if (!c.significant) expect(words, c.variant).toBe('Inconclusive')
      else expect(words, c.variant).toBe(c.estimate < 0 ? 'Significant ▼ better' : 'Significant ▲ worse')
      if (c.significant) expect(c.ci[0] > 0 || c.ci[1] < 0, `${c.variant}: significant ⇔ the interval excludes 0`).toBe(true)
    }
  })

  it('follows the holdout switch with every arm’s comparison against the holdout', async () => {
    if (!report.arms.some((a: any) => a.isHoldout)) return
    await openReport()
    await page.getByText('vs holdout', { exact: true }).click()
    const holdoutName = report.arms.find((a: any) => a.isHoldout).name
    await card()
      .getByRole('heading', { name: `Days without a purchase, vs ${holdoutName}` })
      .waitFor()
    for (const c of comparisons('holdout')) {
      await expectComparisonShown(card().locator(`tr[data-arm="${c.variant}"]`), c, `card ${c.variant} vs holdout`)
      await expectComparisonShown(tableRow(c.variant), c, `table ${c.variant} vs holdout`)
    }
    expect(await page.locator('tbody[data-metric="time_to_purchase"] [data-testid="metric-headline"]').textContent()).toMatch(/ vs holdout\b/)
    await page.getByText('vs control', { exact: true }).click()
  })

  it('shows the share who purchased by day 7, 14 and the window’s end per arm, with the API’s intervals', async () => {
    await openReport()
    const table = card().getByTestId('purchase-by-table')
    let checked = 0
    for (const s of metric.survival) {
      if (!s.n) continue
      expect(s.purchaseBy.map((p: any) => p.day)).toEqual([7, 14, report.window.attributionDays])
      for (const p of s.purchaseBy) {
        const cell = table.locator(`tr[data-arm="${s.arm}"] td[data-day="${p.day}"]`)
        expect(await cell.locator('.share').textContent(), `${s.arm} by day ${p.day}`).toBe(purchaseShare(p.estimate))
        expect(await cell.locator('.ci').textContent(), `${s.arm} by day ${p.day} interval`).toBe(purchaseInterval(p.ci))
        checked++
      }
    }
    expect(checked).toBeGreaterThan(0)
  })

  it('gives the median only where the API reached one and says "not reached" otherwise', async () => {
    await openReport()
    for (const s of metric.survival) {
      const cell = card().locator(`tr[data-arm="${s.arm}"] [data-testid="ttp-median"]`)
      expect(await cell.getAttribute('data-reached'), s.arm).toBe(String(s.median !== null))
      const text = (await cell.textContent())!
      if (s.median === null) expect(text.trim()).toBe('not reached')
      else expect(text).toContain(`${s.median.toFixed(1)} days`)
    }
    const all = (await card().textContent())!
    expect(all).not.toMatch(/NaN|Infinity|undefined/)
    expect(d.pageErrors).toEqual([])
  })
})
