import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, type RetentionApp } from '../../api/app.ts'
import { openNotificationHarness, openReceiver } from '../helpers/notifications.ts'
import { ADMIN_KEY, twoArmExperiment } from '../helpers/harness.ts'
import { CHROMIUM, DESKTOP, SHOTS, UI_DIR, settled, shot } from './browser.ts'

/**
 * Issue 21, the dashboard: Settings → Notifications adds destinations (a mistake shown beside its field, the
 * signing secret once), sends a test, adds rules (one per experiment, one on ingestion) and shows the delivery log with status and response code; the
 * digest page shows GET /v1/digest's figures. Screenshots: notifications.png, digest-page.png.
 */
const options = { secretKey: 'page test key, at least thirty-two characters!!', allowPrivateAddresses: true, publicUrl: 'https://lab.example.com' }
let h: Awaited<ReturnType<typeof openNotificationHarness>>
let receiver: Awaited<ReturnType<typeof openReceiver>>
let ui: RetentionApp
let server: ServerType
let base: string
let browser: Browser
let page: Page
const pageErrors: string[] = []

beforeAll(async () => {
  receiver = await openReceiver()
  h = await openNotificationHarness({ now: Date.now, notifications: options })
  await h.call('POST', '/v1/experiments', twoArmExperiment('winback', { budget: { amount: 500 } }))
  await h.call('POST', '/v1/experiments/winback/start')
  ui = await createApp({ db: h.db, ch: h.ch, uiDir: UI_DIR, notifications: options })
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: ui.app.fetch, port: 0 }, () => resolve(s))
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  const context = await browser.newContext({ viewport: DESKTOP })
  await context.addInitScript((key) => localStorage.setItem('rl.apiKey', key), ADMIN_KEY)
  page = await context.newPage()
  page.setDefaultTimeout(10_000)
  page.on('pageerror', (err) => pageErrors.push(err.message))
}, 120_000)
afterAll(async () => {
  await browser?.close()
  if (server) await new Promise((resolve) => server.close(resolve))
  await ui?.close()
  await h?.close()
  await receiver?.close()
})

describe('Settings → Notifications', () => {
  it('adds a webhook (mistakes beside the field, the secret once), tests it, adds a rule and logs the delivery', async () => {
    await page.goto(`${base}/settings`)
    await page.getByRole('link', { name: 'Manage notifications' }).click()
    await expect(page.getByRole('heading', { name: 'Notifications', level: 1 }).isVisible()).resolves.toBe(true)

    await page.getByLabel('Name').first().fill('Ops hook')
    await page.getByLabel('URL').fill('not a url')
    await page.getByRole('button', { name: 'Add destination' }).click()
    const urlError = page.locator('#field-url-error')
    await urlError.waitFor()
    expect(await urlError.textContent()).toContain('must be an http(s) URL')

    await page.getByLabel('URL').fill(`${receiver.base}/hooks/ui`)
    await page.getByRole('button', { name: 'Add destination' }).click()
    const secret = await page.getByTestId('signing-secret').textContent()
    expect(secret).toMatch(/^whsec_/)
    await page.getByRole('button', { name: 'I have stored it' }).click()
    expect(await page.getByTestId('signing-secret').count()).toBe(0)
    expect(await page.content()).not.toContain(secret!)

    await page.getByRole('button', { name: 'Send a test to Ops hook' }).click()
    await page.getByText('Delivered (200)').waitFor()
    expect(receiver.on('/hooks/ui')).toHaveLength(1)

    await page.getByLabel('When').selectOption('budget')
    await page.getByLabel('Experiment').selectOption('winback')
    await page.locator('fieldset', { hasText: 'Send to' }).first().getByLabel('Ops hook').check()
    await page.getByRole('button', { name: 'Add rule' }).click()
    await page.getByRole('cell', { name: 'Budget at 80% and 100%', exact: true }).waitFor()
    const rules = (await h.call('GET', '/v1/alert-rules')).body.rules
    expect(rules).toEqual([expect.objectContaining({ kind: 'budget', experimentId: 'winback' })])

    // The ingestion rule watches all events: no experiment to pick, a threshold and a minimum volume instead.
    await page.getByLabel('When').selectOption('ingestion_rejections')
    expect(await page.getByLabel('Experiment').count()).toBe(0)
    await page.getByLabel('More than (% rejected)').fill('0')
    await page.locator('fieldset', { hasText: 'Send to' }).first().getByLabel('Ops hook').check()
    await page.getByRole('button', { name: 'Add rule' }).click()
    const thresholdError = page.locator('#field-thresholdPct-error')
    await thresholdError.waitFor()
    expect(await thresholdError.textContent()).toBe('must be more than 0')
    await page.getByLabel('More than (% rejected)').fill('10')
    await page.getByLabel('Of at least (rows)').fill('50')
    await page.getByRole('button', { name: 'Add rule' }).click()
    await page.getByRole('cell', { name: 'Ingestion rejects more than X% of rows in an hour (> 10% of at least 50 rows)', exact: true }).waitFor()
    expect((await h.call('GET', '/v1/alert-rules')).body.rules[1]).toMatchObject({
      kind: 'ingestion_rejections',
      experimentId: null,
      thresholdPct: 10,
      minRows: 50,
    })

    await page.getByRole('button', { name: 'Refresh' }).click()
    const row = page.locator('tr[data-status="delivered"]').first()
    await row.waitFor()
    expect(await row.innerText()).toMatch(/test[\s\S]*Ops hook[\s\S]*delivered[\s\S]*200/)
    await settled(page)
    await shot(page, 'notifications')
    expect(pageErrors).toEqual([])
  })

  it('shows the digest page with the API’s figures', async () => {
    const digest = (await h.call('GET', '/v1/digest')).body
    await page.goto(`${base}/digest`)
    await page.getByRole('heading', { name: digest.title }).waitFor()
    const text = await page.locator('main').innerText()
    expect(text).toContain(digest.kpis.headline.text)
    expect(text).toContain('Experiment winback')
    expect(text).toMatch(/Budgets[\s\S]*\$0\.00[\s\S]*\$500\.00[\s\S]*0%/)
    expect(text).not.toMatch(/NaN|undefined/)
    await settled(page)
    await page.screenshot({ path: path.join(SHOTS, 'digest-page.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  })
})
