import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BrowserContext, Page } from 'playwright-core'
import { openDashboard, settled, shot, type Dashboard } from './browser.ts'
import { buildWorld, WINBACK } from './world.ts'
import { ADMIN_KEY } from '../helpers/harness.ts'

// The report as analysts decide from it (issue 15 items 6–8), on the world built through the API: the
// recommendation and criteria, the verdicts beside their adjusted intervals, guardrails against their margins,
// the maturity switch, and the decision form — at 1280 px and on a 390 px phone. Every expectation is read from
// the API's own answer, never hard-coded.

const WIDE = { width: 1280, height: 800 }
const NARROW = { width: 390, height: 844 }
const ACTION_LABEL: Record<string, string> = { ship: 'Ship', keep_running: 'Keep running', stop: 'Stop', roll_back: 'Roll back', investigate: 'Investigate' }

let d: Dashboard
let wide: BrowserContext
let narrow: BrowserContext
let page: Page
let phone: Page
let report: any
let fixed: number | null = null

async function openReport(p: Page) {
  await p.goto(`${d.base}/experiments/${WINBACK}`)
  await p.getByTestId('recommendation').waitFor()
  await p.locator('[data-testid="metrics-table"] [data-testid="verdict"]').first().waitFor()
}

beforeAll(async () => {
  d = await openDashboard({ now: () => fixed ?? Date.now() })
  const call = d.call
  await buildWorld(call, { set: (ms) => (fixed = ms) }, { ch: d.h.ch })
  report = (await d.api('GET', `/v1/experiments/${WINBACK}/report`)).body

  wide = await d.browser.newContext({ viewport: WIDE })
  await wide.addInitScript((key) => localStorage.setItem('rl.apiKey', key), ADMIN_KEY)
  page = d.watch(await wide.newPage())
  narrow = await d.browser.newContext({ viewport: NARROW, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
  await narrow.addInitScript((key) => localStorage.setItem('rl.apiKey', key), ADMIN_KEY)
  phone = d.watch(await narrow.newPage())
})

afterAll(async () => {
  await d?.close()
})

describe('decision report', () => {
  it('shows the action and arm the API recommends, with its headline and every criterion per arm', async () => {
    await openReport(page)
    const rec = report.recommendation
    const panel = page.getByTestId('recommendation')
    expect(await panel.getAttribute('data-action')).toBe(rec.action)
    expect(await panel.getAttribute('data-arm')).toBe(rec.arm ?? '')
    const armName = rec.arm ? report.arms.find((a: any) => a.key === rec.arm)?.name : null
    expect(await page.getByTestId('recommendation-action').textContent()).toBe(`${ACTION_LABEL[rec.action]}${armName ? ` · ${armName}` : ''}`)
    expect(await page.getByTestId('recommendation-headline').textContent()).toBe(rec.headline)
    expect(await panel.locator('.reasons li').allTextContents()).toEqual(rec.reasons)
    for (const group of report.criteria) {
      const shown = await panel.locator(`.group[data-arm="${group.arm}"] li`).evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))
      expect(shown, group.arm).toEqual(group.criteria.map((c: any) => c.status))
    }
  })

  it('says significant only where the API comparison is significant, and guardrails by their harm status', async () => {
    await openReport(page)
    await page.locator('[data-testid="secondary-metrics"] summary').click()
    let checked = 0
    for (const m of report.metrics) {
      for (const c of m.comparisons.filter((x: any) => x.against === 'control')) {
        const cell = page.locator(`tbody[data-metric="${m.key}"] tr[data-arm="${c.variant}"] [data-testid="verdict"]`)
        expect(await cell.getAttribute('data-significant'), `${m.key} ${c.variant}`).toBe(String(c.significant))
        const words = (await cell.locator('.badge').textContent())!
        expect(words.startsWith('Significant'), `${m.key} ${c.variant}: "${words}"`).toBe(c.significant && c.estimate !== 0 && !c.notEstimable)
        // The displayed interval is the adjusted one, and significant ⇔ it excludes 0 (the API's rule).
        if (c.significant && c.ci) expect(c.ci[0] > 0 || c.ci[1] < 0, `${m.key} ${c.variant} ci`).toBe(true)
        if (c.guardrail) {
          expect(await cell.getByTestId('guardrail-status').getAttribute('data-status')).toBe(c.guardrail.status)
          expect(await page.locator(`tbody[data-metric="${m.key}"] tr[data-arm="${c.variant}"] [data-testid="interval-bar-margin"]`).count()).toBe(1)
        }
        checked++
      }
    }
    expect(checked).toBeGreaterThan(0)
    const text = (await page.locator('main').textContent())!
    expect(text).not.toMatch(/p = </)
    expect(text).not.toMatch(/lowered [^.]*? by [−-]/)
    expect(text).not.toMatch(/raised [^.]*? by [−-]/)
    expect(text.replaceAll('lift is undefined', '')).not.toMatch(/NaN|Infinity|undefined/)
  })

  it('writes an absolute-fallback comparison in the metric’s units, not as a percent lift', async () => {
    const fallbacks = report.metrics.flatMap((m: any) =>
      m.comparisons.filter((c: any) => c.against === 'control' && c.fallback === 'absolute' && c.estimate !== null).map((c: any) => ({ m, c })),
    )
    if (!fallbacks.length) return
    for (const { m, c } of fallbacks) {
      const lift = (await page.locator(`tbody[data-metric="${m.key}"] tr[data-arm="${c.variant}"] td.lift strong`).textContent())!
      if (m.format === 'percent') expect(lift).toMatch(/ pp$/)
      expect(lift).not.toMatch(/%$/)
    }
  })

  it('keeps the Result column inside the table container at 1280 px', async () => {
    await openReport(page)
    await page.locator('[data-testid="secondary-metrics"] summary').click()
    const containers = page.locator('[data-testid="metrics-table"] .metric-rows')
    expect(await containers.count()).toBeGreaterThan(0)
    for (let i = 0; i < (await containers.count()); i++) {
      const box = (await containers.nth(i).boundingBox())!
      const cells = containers.nth(i).locator('th.result-head, [data-testid="verdict"]')
      expect(await cells.count()).toBeGreaterThan(0)
      for (const cell of await cells.all()) {
        const b = (await cell.boundingBox())!
        expect(b.x, 'left edge').toBeGreaterThanOrEqual(box.x - 0.5)
        expect(b.x + b.width, 'right edge').toBeLessThanOrEqual(box.x + box.width + 0.5)
      }
      // Nothing hides behind a sideways scroll either.
      expect(await containers.nth(i).evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(1)
    }
    await settled(page)
    await shot(page, 'decision-report-1280')
  })

  it('shows each row’s verdict on a 390 px phone without scrolling sideways', async () => {
    await openReport(phone)
    await phone.locator('[data-testid="secondary-metrics"] summary').click()
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(NARROW.width)
    const verdicts = phone.locator('[data-testid="metrics-table"] [data-testid="verdict"]')
    expect(await verdicts.count()).toBeGreaterThan(0)
    for (const v of await verdicts.all()) {
      await v.scrollIntoViewIfNeeded()
      expect(await v.isVisible()).toBe(true)
      const b = (await v.boundingBox())!
      expect(b.x).toBeGreaterThanOrEqual(0)
      expect(b.x + b.width).toBeLessThanOrEqual(NARROW.width)
      const badge = (await v.locator('.badge').boundingBox())!
      expect(badge.x + badge.width).toBeLessThanOrEqual(NARROW.width)
    }
    expect(await phone.evaluate(() => window.scrollX)).toBe(0)
    await settled(phone)
    await shot(phone, 'decision-report-390')
  })

  it('follows the baseline switch in each metric’s headline sentence', async () => {
    await openReport(page)
    const headline = page.locator('tbody[data-metric="reactivation"] [data-testid="metric-headline"]')
    expect(await headline.textContent()).toMatch(/ vs control\b/)
    if (!report.arms.some((a: any) => a.isHoldout)) return
    await page.getByText('vs holdout', { exact: true }).click()
    await page.waitForFunction(() =>
      / vs holdout\b/.test(document.querySelector('tbody[data-metric="reactivation"] [data-testid="metric-headline"]')?.textContent ?? ''),
    )
    await page.getByText('vs control', { exact: true }).click()
  })

  it('says how many customers are still inside their window and reloads with them on request', async () => {
    const m = report.health.maturity
    await openReport(page)
    if (!(m.immature > 0)) {
      expect(await page.getByTestId('maturity').count()).toBe(0)
      return
    }
    const line = page.getByTestId('maturity')
    expect(await line.textContent()).toContain(
      `${m.immature.toLocaleString('en-US')} customers are still inside their ${m.windowDays}-day window and are not counted yet`,
    )
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().includes(`/experiments/${WINBACK}/report`) && r.url().includes('include=immature')),
      page.getByTestId('include-immature').check(),
    ])
    expect(request.url()).toContain('include=immature')
    await page.waitForFunction(() => document.querySelector('[data-testid="maturity"]')?.getAttribute('data-included') === 'true')
    expect(await line.textContent()).toContain('rates read low')
    const included = (await d.api('GET', `/v1/experiments/${WINBACK}/report?include=immature`)).body
    expect(await page.locator('tbody[data-metric="reactivation"] tr[data-arm="control"] td.n').textContent()).toBe(
      included.metrics
        .find((x: any) => x.key === 'reactivation')
        .values.find((v: any) => v.arm === included.arms.find((a: any) => a.isControl).key)
        .n.toLocaleString('en-US'),
    )
    await page.getByTestId('include-immature').uncheck()
    await page.waitForFunction(() => document.querySelector('[data-testid="maturity"]')?.getAttribute('data-included') === 'false')
  })

  it('draws enrolment per arm, the SRM check per day and power progress as the API reports them', async () => {
    await openReport(page)
    await page.locator('[data-testid="enrolment-chart"] g.series').first().waitFor()
    expect(await page.locator('[data-testid="enrolment-chart"] g.series').count()).toBe(report.arms.length)
    expect(await page.locator('[data-testid="enrolment-chart"] .axis-label').textContent()).toBe('Customers enrolled')
    const power = report.health.power
    if (power.nPerArmNeeded) expect(await page.getByTestId('power-progress').getAttribute('aria-valuemax')).toBe(String(power.nPerArmNeeded))
    expect(await page.locator('[data-testid="lift-over-time"] .axis-label').textContent()).toMatch(/lift/i)
  })

  it('starts the decision from the recommended arm and asks for a rationale before going against it', async () => {
    await openReport(page)
    const rec = report.recommendation
    const before = (await d.api('GET', `/v1/experiments/${WINBACK}/notes`)).body
    await page.getByLabel('Decision', { exact: true }).check()
    const select = page.locator('#field-note-chosenArm')
    if (rec.action === 'ship') expect(await select.inputValue()).toBe(rec.arm)
    // Choose an arm the report does not recommend shipping.
    const other = report.arms.find((a: any) => !a.isHoldout && !a.isControl && a.key !== (rec.action === 'ship' ? rec.arm : null))?.key
    expect(other).toBeTruthy()
    await select.selectOption(other)
    if (rec.action === 'roll_back' && rec.arm !== other) return
    await page.getByTestId('rationale-required').waitFor()
    await page.getByRole('button', { name: 'Record decision' }).click()
    await page.locator('#field-note-body[aria-invalid="true"]').waitFor()
    expect(await page.locator('.add').textContent()).toContain('A rationale is required')
    const after = (await d.api('GET', `/v1/experiments/${WINBACK}/notes`)).body
    expect(JSON.stringify(after)).toBe(JSON.stringify(before))
  })
})
