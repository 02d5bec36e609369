import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { DESKTOP, openDashboard, settled, shot, type Dashboard } from './browser.ts'
import { buildWorld, WINBACK } from './world.ts'

// Issue 17, item 6: the Metrics page. An analyst defines a metric in the builder, previews it on an experiment of
// the world (the page shows the API's own per-arm numbers and the report's verdicts), saves it, finds it in the
// catalogue; a form with several mistakes shows each beside its field at once; nothing leaves a phone's screen.

const PHONE_390 = { width: 390, height: 844 }
const KEY = 'purchases_50_30d'
const NAME = 'Purchases of $50 or more, days 0–30'

let d: Dashboard
let page: Page
let fixed: number | null = null
/** Bodies the page POSTed to the catalogue and to the preview. */
const metricPosts: unknown[] = []
const previewPosts: any[] = []

const integer = (x: number) => Math.round(x).toLocaleString('en-US')
/** The verdict the preview must print, by the rule stated independently of the UI's code. */
function expectedVerdict(c: any, higherIsBetter: boolean): string {
  if (c.notEstimable || c.estimate === null) return 'Not estimable'
  if (!c.significant) return 'Inconclusive'
  const up = c.estimate > 0
  return `Significant ${up ? '▲' : '▼'} ${up === higherIsBetter ? 'better' : 'worse'}`
}
const catalogueKeys = async () => ((await d.api('GET', '/v1/metrics?archived=include')).body.metrics as Array<{ key: string }>).map((m) => m.key)

beforeAll(async () => {
  d = await openDashboard({ now: () => fixed ?? Date.now() })
  await buildWorld(d.call, { set: (ms) => (fixed = ms) }, { ch: d.h.ch })
  page = await d.signedInPage({ viewport: DESKTOP })
  page.on('request', (r) => {
    if (r.method() !== 'POST') return
    const path = new URL(r.url()).pathname
    if (path === '/v1/metrics') metricPosts.push(r.postDataJSON())
    if (path === '/v1/metrics/preview') previewPosts.push(r.postDataJSON())
  })
})

afterAll(async () => {
  await d?.close()
})

/** For each input: is it marked invalid, which message does aria-describedby point to, and is that message inside the input's own field? */
function beside(p: Page, inputIds: string[]) {
  return p.evaluate(
    (ids) =>
      Object.fromEntries(
        ids.map((id) => {
          const input = document.getElementById(id) as HTMLElement
          const describedBy = input.getAttribute('aria-describedby')
          const message = describedBy ? document.getElementById(describedBy) : null
          const field = input.closest('.field')
          return [
            id,
            { invalid: input.getAttribute('aria-invalid'), message: message?.textContent?.trim() ?? null, inItsField: !!message && !!field?.contains(message) },
          ]
        }),
      ),
    inputIds,
  )
}

async function preview(p: Page, experimentId: string) {
  await p.locator('#preview-experiment').selectOption(experimentId)
  const answered = p.waitForResponse((r) => new URL(r.url()).pathname === '/v1/metrics/preview')
  await p.getByRole('button', { name: 'Preview', exact: true }).click()
  expect((await answered).status()).toBe(200)
  await p.getByTestId('preview-table').waitFor()
}

/** Cells (and lifts and verdicts) whose box is not wholly inside the screen's width. */
const outside = (p: Page, width: number) =>
  p.locator('td, th, .lift, .badge, input, select, button').evaluateAll(
    (els, w) =>
      els
        .map((el) => ({ el, box: el.getBoundingClientRect() }))
        .filter(({ box }) => box.width > 0 && (box.left < -0.5 || box.right > w + 0.5))
        .map(
          ({ el, box }) =>
            `${el.tagName.toLowerCase()}.${el.className} "${el.textContent?.trim().slice(0, 30)}" at ${Math.round(box.left)}–${Math.round(box.right)}`,
        ),
    width,
  )

describe('the Metrics page', () => {
  it('builds a mean of purchases in days 0–30, previews it on the win-back test with the API’s own per-arm numbers, and saves it', async () => {
    await page.goto(`${d.base}/metrics`)
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Metrics' }).waitFor()
    await page.getByRole('link', { name: 'New metric' }).click()
    await page.locator('#field-name').waitFor()
    await settled(page)

    await page.locator('#field-name').fill(NAME)
    await page.locator('#field-key').fill(KEY)
    await page.locator('#field-description').fill('Purchases of at least $50 in the 30 days after the offer.')
    await page.locator('#field-owner').fill('crm-analytics')
    await page.locator('#field-tags').fill('e2e, orders')
    await page.locator('#field-kind').selectOption('mean')
    // The builder: a field filter and a property filter (a missing property passes "is none of").
    await page.getByRole('button', { name: 'Add filter' }).click()
    await page.locator('#field-source-filters-0-target').selectOption('revenue')
    await page.locator('#field-source-filters-0-op').selectOption('gte')
    await page.locator('#field-source-filters-0-value').fill('50')
    await page.getByRole('button', { name: 'Add filter' }).click()
    await page.locator('#field-source-filters-1-path').fill('channel')
    await page.locator('#field-source-filters-1-op').selectOption('not_in')
    await page.locator('#field-source-filters-1-value').fill('sms, push')
    await page.locator('#field-value-of').selectOption('count')
    await page.locator('#field-window-startDays').fill('0')
    await page.locator('#field-window-endDays').fill('30')

    await preview(page, WINBACK)
    const sent = previewPosts.at(-1)
    expect(sent.experimentId).toBe(WINBACK)
    expect(sent.definition).toMatchObject({
      key: KEY,
      kind: 'mean',
      source: {
        eventTypes: ['purchase'],
        filters: [
          { on: 'field', field: 'revenue', op: 'gte', value: 50 },
          { on: 'property', path: 'channel', op: 'not_in', values: ['sms', 'push'] },
        ],
      },
      value: { of: 'count' },
      window: { startDays: 0, endDays: 30 },
    })

    // The same body, asked of the API directly: the page shows its per-arm n and values, and its verdicts.
    const answer = (await d.api('POST', '/v1/metrics/preview', sent)).body
    const rows = await page.locator('[data-testid="preview-table"] tbody tr[data-arm]').evaluateAll((trs) =>
      trs.map((tr) => ({
        arm: tr.getAttribute('data-arm'),
        n: Number(tr.getAttribute('data-n')),
        value: tr.getAttribute('data-value'),
        nText: tr.querySelector('td.n')?.textContent?.trim(),
        verdict: tr.querySelector('[data-testid="verdict"]')?.textContent?.trim() ?? null,
      })),
    )
    expect(rows.map((r) => r.arm)).toEqual(answer.arms.map((a: any) => a.key))
    for (const row of rows) {
      const v = answer.metric.values.find((x: any) => x.arm === row.arm)
      expect(row.n, row.arm!).toBe(v.n)
      expect(row.nText).toBe(integer(v.n))
      expect(Number(row.value), row.arm!).toBe(v.value)
      expect(v.n).toBeGreaterThan(100)
    }
    const compared = answer.metric.comparisons.filter((c: any) => c.against === 'control')
    expect(compared.length).toBe(2)
    for (const c of compared) {
      expect(rows.find((r) => r.arm === c.variant)?.verdict).toBe(expectedVerdict(c, true))
      // A verdict never contradicts its interval.
      if (c.significant) expect(c.estimate > 0 ? c.ci[0] > 0 : c.ci[1] < 0).toBe(true)
    }
    // The planted effect: 15% off brings more purchases than the message alone.
    expect(rows.find((r) => r.arm === 'pct15')?.verdict).toBe('Significant ▲ better')
    await shot(page, 'metrics-preview-1280')

    // A change to the definition leaves the numbers on screen marked as those of the previous one.
    await page.locator('#field-window-endDays').fill('31')
    await page.getByTestId('preview-stale').waitFor()
    await page.locator('#field-window-endDays').fill('30')
    await page.getByTestId('preview-stale').waitFor({ state: 'detached' })

    await page.getByRole('button', { name: 'Create metric' }).click()
    await page.waitForURL(`${d.base}/metrics/${KEY}`)
    await page.getByText('Metric created').waitFor()
    const saved = (await d.api('GET', `/v1/metrics/${KEY}`)).body
    expect(saved).toMatchObject({
      key: KEY,
      name: NAME,
      version: 1,
      builtIn: false,
      owner: 'crm-analytics',
      tags: ['e2e', 'orders'],
      source: sent.definition.source,
    })
    expect(await page.getByTestId('metric-source').textContent()).toBe('purchase events where revenue ≥ 50 and channel not in ["sms", "push"]')
    expect(d.pageErrors).toEqual([])
  })

  it('shows several mistakes at once, each beside its own field, and saves nothing', async () => {
    const before = await catalogueKeys()
    metricPosts.length = 0
    await page.goto(`${d.base}/metrics/new`)
    await page.locator('#field-name').waitFor()
    await page.locator('#field-kind').selectOption('mean')
    await page.locator('#field-key').fill('bad_window')
    await page.getByRole('button', { name: 'Add filter' }).click()
    await page.locator('#field-source-filters-0-op').selectOption('gt')
    await page.locator('#field-source-filters-0-value').fill('ten')
    await page.locator('#field-window-startDays').fill('30')
    await page.locator('#field-window-endDays').fill('10')
    await page.getByRole('button', { name: 'Create metric' }).click()

    // The form's own checks: nothing is sent while it sees a problem.
    await page.getByTestId('error-summary').waitFor()
    await page.waitForFunction(() => document.querySelectorAll('.field-error').length === 4)
    expect(await beside(page, ['field-name', 'field-source-filters-0-path', 'field-source-filters-0-value', 'field-window-endDays'])).toEqual({
      'field-name': { invalid: 'true', message: 'must not be empty', inItsField: true },
      'field-source-filters-0-path': { invalid: 'true', message: 'must not be empty', inItsField: true },
      'field-source-filters-0-value': { invalid: 'true', message: 'must be a number', inItsField: true },
      'field-window-endDays': { invalid: 'true', message: 'must be after the start day', inItsField: true },
    })
    expect(await page.getByTestId('error-summary').textContent()).toContain('4 problems')
    expect(metricPosts).toEqual([])

    // Range checks the form shares with the API (api/contract/limits.ts): a property path four levels deep and a
    // cap below the 50th percentile are caught before sending, in the API's words, beside their inputs.
    await page.locator('#field-name').fill('Deep path')
    await page.locator('#field-key').fill('Bad Key')
    await page.locator('#field-source-filters-0-path').fill('item.category.name.deep')
    await page.locator('#field-source-filters-0-value').fill('3')
    await page.locator('#field-window-endDays').fill('60')
    await page.locator('#field-capping-type').selectOption('percentile')
    await page.locator('#field-capping-percentile').fill('30')
    await page.getByRole('button', { name: 'Create metric' }).click()
    await page.waitForFunction(() => document.querySelectorAll('.field-error').length === 2)
    const ranges = await beside(page, ['field-source-filters-0-path', 'field-capping-percentile'])
    expect(ranges['field-source-filters-0-path']).toMatchObject({ invalid: 'true', inItsField: true, message: expect.stringContaining('at most 3') })
    expect(ranges['field-capping-percentile']).toEqual({ invalid: 'true', inItsField: true, message: 'must be more than the 50th percentile' })
    expect(metricPosts).toEqual([])

    // A mistake only the API sees (the key's pattern): its answer lands beside the input.
    await page.locator('#field-source-filters-0-path').fill('item.category')
    await page.locator('#field-capping-percentile').fill('90')
    await page.waitForFunction(() => document.querySelectorAll('.field-error').length === 0)
    await page.getByRole('button', { name: 'Create metric' }).click()
    await page.waitForFunction(() => document.querySelectorAll('.field-error').length === 1)
    expect(metricPosts).toHaveLength(1)
    const found = await beside(page, ['field-key'])
    expect(found['field-key']).toMatchObject({
      invalid: 'true',
      inItsField: true,
      message: expect.stringContaining('lowercase letters, digits and underscores'),
    })
    expect(await page.getByTestId('error-summary').textContent()).toMatch(/^The metric was not saved\s+Key: must be 2–64 characters/)
    await shot(page, 'metrics-mistakes-1280')

    // Editing the field takes its message away.
    await page.locator('#field-key').fill('deep_path')
    await page.waitForFunction(() => document.querySelectorAll('.field-error').length === 0)
    expect(await catalogueKeys()).toEqual(before)
  })

  it('lists the new metric beside the built-ins, and search and the tag filter find it', async () => {
    const all = (await d.api('GET', '/v1/metrics')).body.metrics as Array<{ key: string; builtIn: boolean }>
    await page.goto(`${d.base}/metrics`)
    await page.locator(`tr[data-metric="${KEY}"]`).waitFor()
    expect(await page.locator('tr[data-metric]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-metric')))).toEqual(all.map((m) => m.key))
    for (const m of all) expect(await page.locator(`tr[data-metric="${m.key}"] .built-in`).count(), m.key).toBe(m.builtIn ? 1 : 0)
    const row = page.locator(`tr[data-metric="${KEY}"]`)
    expect((await row.locator('td').allTextContents()).map((t) => t.trim())).toEqual([
      expect.stringContaining(NAME),
      'Mean',
      'Higher is better',
      'Number',
      expect.any(String),
      'crm-analytics',
      'v1',
    ])
    expect(await row.locator('.tags .pill').allTextContents()).toEqual(['e2e', 'orders'])

    await page.locator('#metric-search').fill('$50 or more')
    await page.waitForFunction(() => document.querySelectorAll('tr[data-metric]').length === 1)
    expect(await page.locator('tr[data-metric]').getAttribute('data-metric')).toBe(KEY)
    expect((await d.api('GET', `/v1/metrics?search=${encodeURIComponent('$50 or more')}`)).body.metrics.map((m: any) => m.key)).toEqual([KEY])
    expect(new URL(page.url()).searchParams.get('q')).toBe('$50 or more')

    await page.locator('#metric-search').fill('')
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-metric]').length === n, all.length)
    await page.locator('#metric-tag').selectOption('e2e')
    await page.waitForFunction(() => document.querySelectorAll('tr[data-metric]').length === 1)
    expect(await page.locator('tr[data-metric]').getAttribute('data-metric')).toBe(KEY)
  })

  it('keeps every cell of the catalogue, the form and the preview inside a 390 px phone', async () => {
    const phone = await d.signedInPage({ viewport: PHONE_390, isMobile: true, hasTouch: true })
    await phone.goto(`${d.base}/metrics`)
    await phone.locator(`tr[data-metric="${KEY}"]`).waitFor()
    expect(await outside(phone, PHONE_390.width)).toEqual([])
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE_390.width)
    await shot(phone, 'metrics-catalogue-390')

    await phone.goto(`${d.base}/metrics/${KEY}`)
    await phone.getByTestId('metric-definition').waitFor()
    await preview(phone, WINBACK)
    expect(await outside(phone, PHONE_390.width)).toEqual([])
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE_390.width)
    await shot(phone, 'metrics-preview-390')

    await phone.goto(`${d.base}/metrics/new`)
    await phone.locator('#field-name').waitFor()
    await phone.locator('#field-kind').selectOption('mean')
    await phone.getByRole('button', { name: 'Add filter' }).click()
    await phone.locator('#field-capping-type').selectOption('percentile')
    expect(await outside(phone, PHONE_390.width)).toEqual([])
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE_390.width)
    await shot(phone, 'metrics-form-390')
    await phone.context().close()
  })

  it('attaches the metric to a new experiment in its form, and the report shows it as a secondary metric with the API’s numbers', async () => {
    const DAY = 86_400_000
    const now = Date.now()
    // The server's clock: the experiment is designed and started 40 days ago, its customers arrive 35 days ago.
    fixed = now - 40 * DAY
    await page.goto(`${d.base}/experiments/new`)
    await page.locator('#field-name').fill('Catalogue metric on a new test')
    await page.getByTestId('catalogue-metrics').getByLabel(NAME).check()
    const created = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/experiments' && r.request().method() === 'POST')
    await page.getByRole('button', { name: 'Create draft' }).click()
    const experiment = await (await created).json()
    expect(experiment.analysis.catalogueMetrics).toEqual([{ key: KEY, version: 1 }])
    await page.waitForURL(`${d.base}/experiments/${experiment.id}`)
    expect((await d.call('POST', `/v1/experiments/${experiment.id}/start`)).status).toBe(200)

    fixed = now - 35 * DAY
    const customers = Array.from({ length: 600 }, (_, i) => ({ customerId: `catalogue-${i}`, attributes: {} }))
    const { assignments } = (await d.call('POST', '/v1/assign/batch', { experimentId: experiment.id, customers })).body
    fixed = null
    const t0 = now - 35 * DAY
    const events = (assignments as Array<{ customerId: string; arm: string | null }>).flatMap((a, i) =>
      a.arm && i % (a.arm === 'control' ? 4 : 2) === 0
        ? [
            { eventId: `cat-e${i}`, customerId: a.customerId, type: 'purchase', ts: t0 + 2 * DAY, revenue: 60 },
            { eventId: `cat-s${i}`, customerId: a.customerId, type: 'purchase', ts: t0 + 3 * DAY, revenue: 20 },
          ]
        : [],
    )
    expect((await d.call('POST', '/v1/events', events)).status).toBe(200)

    const report = (await d.api('GET', `/v1/experiments/${experiment.id}/report`)).body
    const metric = report.metrics.find((m: any) => m.catalogue?.key === KEY)
    expect(metric).toMatchObject({ catalogue: { key: KEY, version: 1 }, isPrimary: false, isGuardrail: false })
    await page.goto(`${d.base}/experiments/${experiment.id}`)
    await page.getByTestId('design-catalogue-metrics').getByRole('link', { name: KEY }).waitFor()
    await page.getByTestId('secondary-metrics').locator('summary').click()
    const group = page.getByTestId('secondary-metrics').locator(`tbody[data-metric="${metric.key}"]`)
    await group.waitFor()
    expect(await group.locator('.metric-name').textContent()).toBe(NAME)
    for (const v of metric.values) {
      expect(v.n).toBeGreaterThan(0)
      expect(await group.locator(`tr[data-arm="${v.arm}"] td.n`).textContent()).toBe(integer(v.n))
    }
    const variant = metric.comparisons.find((c: any) => c.against === 'control')
    expect(await group.locator(`tr[data-arm="${variant.variant}"] [data-testid="verdict"]`).textContent()).toContain(expectedVerdict(variant, true))
    await shot(page, 'metrics-in-report-1280')
    expect(d.pageErrors).toEqual([])
  })

  it('offers a ticked catalogue metric as the primary metric and as a guardrail, and falls back when it is unticked', async () => {
    await page.goto(`${d.base}/experiments/new`)
    await page.locator('#field-name').fill('Catalogue metric decides')
    const primary = page.locator('#field-analysis-primaryMetric')
    // Not offered before it is ticked.
    expect(await primary.locator('option', { hasText: NAME }).count()).toBe(0)
    await page.getByTestId('catalogue-metrics').getByLabel(NAME).check()
    await primary.selectOption({ label: NAME })
    expect(await primary.inputValue()).toBe(KEY)
    // Deciding, it is not offered as a guardrail; unticked, the default primary metric comes back.
    expect(await page.locator('#field-analysis-guardrails').getByLabel(NAME).count()).toBe(0)
    await page.getByTestId('catalogue-metrics').getByLabel(NAME).uncheck()
    expect(await primary.inputValue()).toBe('reactivation')
    await page.getByTestId('catalogue-metrics').getByLabel(NAME).check()
    await page.locator('#field-analysis-guardrails').getByLabel(NAME).check()
    const created = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/experiments' && r.request().method() === 'POST')
    await page.getByRole('button', { name: 'Create draft' }).click()
    const experiment = await (await created).json()
    expect(experiment.analysis).toMatchObject({ primaryMetric: 'reactivation', catalogueMetrics: [{ key: KEY, version: 1 }] })
    expect(experiment.analysis.guardrails).toContain(KEY)
    expect(d.pageErrors).toEqual([])
  })

  it('saves a new version and archives the metric: it leaves the list and comes back with archived metrics shown', async () => {
    await page.goto(`${d.base}/metrics/${KEY}`)
    await page.getByRole('button', { name: 'New version' }).click()
    await page.locator('#field-key').waitFor()
    expect(await page.locator('#field-key').getAttribute('readonly')).not.toBeNull()
    await page.locator('#field-window-endDays').fill('60')
    await page.getByRole('button', { name: 'Save new version' }).click()
    await page.getByText('Version 2 saved.').waitFor()
    const versions = (await d.api('GET', `/v1/metrics/${KEY}/versions`)).body.versions
    expect(versions.map((v: any) => [v.version, v.window.endDays])).toEqual([
      [2, 60],
      [1, 30],
    ])
    await page.getByTestId('metric-versions').getByRole('link', { name: 'Version 1' }).click()
    await page.getByText('days 0–30 after first exposure').waitFor()

    await page.goto(`${d.base}/metrics/${KEY}`)
    await page.getByRole('button', { name: 'Archive', exact: true }).click()
    await page.getByRole('button', { name: 'Archive it' }).click()
    await page.getByText('Archived: the metric has left').waitFor()
    expect((await d.api('GET', `/v1/metrics/${KEY}`)).body.archived).toBe(true)

    await page.goto(`${d.base}/metrics`)
    await page.locator('tr[data-metric]').first().waitFor()
    expect(await page.locator(`tr[data-metric="${KEY}"]`).count()).toBe(0)
    await page.getByLabel('Show archived metrics').check()
    await page.locator(`tr[data-metric="${KEY}"] .archived`).waitFor()
    expect(d.pageErrors).toEqual([])
  })
})
