import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import axe from 'axe-core'
import type { Page } from 'playwright-core'
import { DESKTOP, openDashboard, settled, shot, type Dashboard } from './browser.ts'

// Issue 20, item 2: the Segments page. An analyst builds a rule from the feature list, sees a bad value refused
// beside its input before anything is sent, saves the segment and finds it in the list; an answer of the API about
// a field (a key in use) shows beside that field.

const KEY = 'lapsed_regulars'
const NAME = 'Lapsed regulars'

let d: Dashboard
let page: Page
/** Bodies the page POSTed to /v1/segments. */
const posts: any[] = []
const listed = async () => ((await d.api('GET', '/v1/segments?archived=include')).body.segments as Array<{ key: string }>).map((s) => s.key)

beforeAll(async () => {
  d = await openDashboard()
  page = await d.signedInPage({ viewport: DESKTOP })
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/segments') posts.push(r.postDataJSON())
  })
})

afterAll(async () => {
  await d?.close()
})

/** Is the input marked invalid, and which message does aria-describedby point to? */
const besideInput = (p: Page, id: string) =>
  p.evaluate((inputId) => {
    const input = document.getElementById(inputId) as HTMLElement
    const describedBy = input.getAttribute('aria-describedby')
    const message = describedBy ? document.getElementById(describedBy) : null
    return {
      invalid: input.getAttribute('aria-invalid'),
      message: message?.textContent?.trim() ?? null,
      inItsField: !!message && !!input.closest('.field')?.contains(message),
    }
  }, id)

describe('the Segments page', () => {
  it('builds a rule from the feature list, refuses a bad value beside its input, saves and lists the segment', async () => {
    await page.goto(`${d.base}/segments`)
    await settled(page)
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Segments' }).waitFor()
    await page.getByText('No segments yet').waitFor()
    // With Segments the header holds eight links: each must be whole and clear of the account controls on a laptop.
    const overlaps = await page.evaluate(() => {
      const account = document.querySelector('.app-header .account')!.getBoundingClientRect()
      const nav = document.querySelector('nav[aria-label="Main"]')!.getBoundingClientRect()
      return Array.from(document.querySelectorAll('nav[aria-label="Main"] a'))
        .filter((a) => {
          const r = a.getBoundingClientRect()
          return r.right > nav.right + 0.5 || (r.top < account.bottom && r.bottom > account.top && r.right > account.left)
        })
        .map((a) => a.textContent)
    })
    expect(overlaps).toEqual([])
    await page.getByRole('button', { name: 'New segment' }).click()

    await page.locator('#field-name').fill(NAME)
    await page.locator('#field-key').fill(KEY)
    await page.locator('#field-tags').fill('win-back, e2e')
    // Row 0 starts as lapse stage = lapsed; row 1: at least two orders in 365 days, typed wrongly first.
    expect(await page.locator('#field-rows-0-feature').inputValue()).toBe('lapse_stage')
    expect(await page.locator('#field-rows-0-value').inputValue()).toBe('lapsed')
    await page.getByRole('button', { name: 'Add condition' }).click()
    await page.locator('#field-rows-1-feature').selectOption('orders_365d')
    const operators = await page.locator('#rule-op-1 option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))
    expect(operators).not.toContain('$exists') // orders are never unknown
    await page.locator('#rule-op-1').selectOption('$gte')
    await page.locator('#field-rows-1-value').fill('two')
    await page.getByRole('button', { name: 'Save segment' }).click()

    await page.getByTestId('error-summary').waitFor()
    expect(await besideInput(page, 'field-rows-1-value')).toEqual({ invalid: 'true', message: '“two” is not a number', inItsField: true })
    expect(await page.getByTestId('error-summary').textContent()).toContain('Condition 2: value: “two” is not a number')
    expect(posts).toEqual([])
    await shot(page, 'segments-bad-value')

    await page.locator('#field-rows-1-value').fill('2')
    expect(await besideInput(page, 'field-rows-1-value')).toEqual({ invalid: null, message: null, inItsField: false })
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/segments' && r.request().method() === 'POST')
    await page.getByRole('button', { name: 'Save segment' }).click()
    expect((await answered).status()).toBe(201)
    expect(posts).toEqual([
      {
        key: KEY,
        name: NAME,
        description: '',
        owner: '',
        tags: ['win-back', 'e2e'],
        rule: { $and: [{ lapse_stage: { $eq: 'lapsed' } }, { orders_365d: { $gte: 2 } }] },
      },
    ])
    await page
      .getByRole('status')
      .filter({ hasText: `Saved segment ${NAME}` })
      .waitFor()
    const row = page.locator(`[data-testid="segment-list"] tr[data-segment="${KEY}"]`)
    await row.waitFor()
    expect(await row.locator('.rule').textContent()).toBe('lapse_stage = lapsed and orders_365d ≥ 2')
    expect(await listed()).toEqual([KEY])
  })

  it('shows the API’s answer about a field beside that field (a key in use), saving nothing', async () => {
    await page.getByRole('button', { name: 'New segment' }).click()
    await page.locator('#field-name').fill('Same key again')
    await page.locator('#field-key').fill(KEY)
    await page.locator('#field-rows-0-feature').selectOption('discount_affinity')
    await page.locator('#rule-op-0').selectOption('$gte')
    await page.locator('#field-rows-0-value').fill('50')
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/segments' && r.request().method() === 'POST')
    await page.getByRole('button', { name: 'Save segment' }).click()
    expect((await answered).status()).toBe(409)
    await page.getByTestId('error-summary').waitFor()
    const key = await besideInput(page, 'field-key')
    expect(key).toMatchObject({ invalid: 'true', inItsField: true })
    expect(key.message).toMatch(/exists already.*e\.g\. 'lapsed_regulars_2'/)
    // A share is typed as a percentage and sent as a fraction.
    expect(posts.at(-1).rule).toEqual({ $and: [{ discount_affinity: { $gte: 0.5 } }] })
    expect(await listed()).toEqual([KEY])

    await page.locator('#segment-search').fill('zzz')
    await page.getByText('No segment matches').waitFor()
    await page.locator('#segment-search').fill('regulars')
    await page.locator(`tr[data-segment="${KEY}"]`).waitFor()
    expect(new URL(page.url()).searchParams.get('q')).toBe('regulars')
    expect(d.pageErrors).toEqual([])
  })

  it('passes axe with the form open and an error shown, on a laptop and on a phone, where nothing leaves the screen', async () => {
    const phone = await d.signedInPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    for (const [p, width] of [
      [page, DESKTOP.width],
      [phone, 390],
    ] as const) {
      await p.goto(`${d.base}/segments`)
      await settled(p)
      await p.locator(`tr[data-segment="${KEY}"]`).waitFor()
      await p.getByRole('button', { name: 'New segment' }).click()
      await p.getByRole('button', { name: 'Add condition' }).click()
      await p.locator('#field-rows-1-feature').selectOption('recency_days')
      await p.locator('#rule-op-1').selectOption('$lte')
      await p.locator('#field-rows-1-value').fill('soon')
      await p.getByRole('button', { name: 'Save segment' }).click()
      await p.getByTestId('error-summary').waitFor()
      await p.evaluate(() => document.querySelectorAll('details').forEach((el) => (el.open = true)))
      await p.evaluate(axe.source)
      const serious = await p.evaluate(async () => {
        const results = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] })
        return results.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
      })
      expect(serious, `at ${width} px`).toEqual([])
      expect(await p.evaluate(() => document.documentElement.scrollWidth), `at ${width} px`).toBeLessThanOrEqual(width)
      if (width === 390) await shot(p, 'segments-390')
    }
    expect(d.pageErrors).toEqual([])
  })

  it('targets an experiment at a saved segment and a feature from the builder, and shows an unknown segment beside its row', async () => {
    await page.goto(`${d.base}/experiments/new`)
    await page.locator('#field-name').fill('Win back lapsed regulars')
    await page.locator('#field-id').fill('winback-regulars')
    await page.getByRole('button', { name: 'Add condition' }).click()
    await page.locator('#field-targeting-0-attribute').fill('segments')
    await page.locator('#targeting-op-0').selectOption('$in')
    await page.locator('#field-targeting-0-value').fill('no_such_segment')
    await page.getByRole('button', { name: 'Add condition' }).click()
    await page.locator('#field-targeting-1-attribute').fill('features.lapse_stage')
    await page.locator('#field-targeting-1-value').fill('lapsed')
    await page.getByRole('button', { name: 'Create draft' }).click()
    // The API names the unknown segment; the message shows beside that row's value, and nothing is saved.
    await page.locator('#field-targeting-0-value-error').waitFor()
    expect(await page.locator('#field-targeting-0-value-error').textContent()).toContain('no_such_segment')
    expect((await d.api('GET', '/v1/experiments/winback-regulars')).status).toBe(404)

    await page.locator('#field-targeting-0-value').fill(KEY)
    await page.getByRole('button', { name: 'Create draft' }).click()
    await page.waitForURL(`${d.base}/experiments/winback-regulars`)
    const created = (await d.api('GET', '/v1/experiments/winback-regulars')).body
    expect(created.targeting).toEqual({ $and: [{ segments: { $in: [KEY] } }, { 'features.lapse_stage': { $eq: 'lapsed' } }] })
    expect(d.pageErrors).toEqual([])
  })

  it('restricts the program overview to a segment and says so in the headline, as the KPI API does', async () => {
    await page.goto(`${d.base}/`)
    await page.locator('#kpi-segment').waitFor()
    const everyone = (await d.api('GET', '/v1/kpis?days=90')).body.headline.text
    await page.waitForFunction((want) => document.querySelector('[data-testid="kpi-headline"]')?.textContent?.includes(want), everyone)
    await page.locator('#kpi-segment').selectOption(KEY)
    const inSegment = (await d.api('GET', `/v1/kpis?days=90&segment=${KEY}`)).body.headline.text
    expect(inSegment).toContain(`among customers in the segment “${NAME}”`)
    await page.waitForFunction((want) => document.querySelector('[data-testid="kpi-headline"]')?.textContent?.includes(want), inSegment)
    expect(d.pageErrors).toEqual([])
  })
})
