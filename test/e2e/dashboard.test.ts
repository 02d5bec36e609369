import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { serve, type ServerType } from '@hono/node-server'
import { createApp, type RetentionApp } from '../../api/app.ts'
import { ADMIN_KEY, openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'

// Drives the built dashboard (ui/dist, from `npm run build`) in Debian's Chromium against the real API over
// real PGlite + chDB stores. Screenshots of every page at desktop and phone width land in test/e2e/screenshots/.

const UI_DIR = path.resolve('ui/dist')
const SHOTS = path.resolve('test/e2e/screenshots')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const DESKTOP = { width: 1280, height: 900 }
const PHONE = { width: 375, height: 812 }

let h: Harness
let ui: RetentionApp
let server: ServerType
let base: string
let browser: Browser
let desktop: BrowserContext
let page: Page
const pageErrors: string[] = []

function watch(p: Page) {
  p.setDefaultTimeout(10_000)
  p.on('pageerror', (err) => pageErrors.push(`${p.url()}: ${err.message}`))
  p.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) pageErrors.push(`${p.url()}: ${msg.text()}`)
  })
}

async function shot(p: Page, name: string) {
  // Sticky header and side panel would otherwise be drawn where the page happened to be scrolled.
  await p.evaluate(() => window.scrollTo(0, 0))
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true })
}

/** Waits until the page's own loading indicators are gone. */
async function settled(p: Page) {
  await p.waitForLoadState('networkidle')
  await p.locator('.loading').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined)
}

async function api(method: string, url: string, body?: unknown) {
  const res = await fetch(base + url, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json().catch(() => null)) as any }
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(UI_DIR, 'index.html'))) {
    throw new Error('ui/dist/index.html is missing: run `npm run build` before the browser tests (npx vitest run test/e2e)')
  }
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`)
  }
  fs.mkdirSync(SHOTS, { recursive: true })
  h = await openHarness()
  ui = await createApp({ db: h.db, ch: h.ch, uiDir: UI_DIR })
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: ui.app.fetch, port: 0 }, () => resolve(s))
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  // Experiments made through the API, as a CRM integration or a script would.
  expect((await api('POST', '/v1/experiments', twoArmExperiment('winback-pct15', {
    name: 'Win-back: 15% off for lapsed 60–180 days',
    hypothesis: 'Lapsed customers offered 15% off reactivate more than with the message alone.',
    holdoutPct: 0.1,
    targeting: { $and: [{ recency_days: { $gte: 60 } }, { recency_days: { $lt: 180 } }, { value_tier: { $in: ['gold', 'silver'] } }] },
  }))).status).toBe(201)
  expect((await api('POST', '/v1/experiments/winback-pct15/start')).status).toBe(200)
  expect((await api('POST', '/v1/experiments', twoArmExperiment('free-ship-vip', { name: 'Free shipping for at-risk VIPs', coverage: 0.5 }))).status).toBe(201)

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  desktop = await browser.newContext({ viewport: DESKTOP })
  page = await desktop.newPage()
  watch(page)
})

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  await ui?.close()
  await h?.close()
})

describe('dashboard', () => {
  it('asks for an API key once, refuses a wrong one and keeps a good one', async () => {
    await page.goto(`${base}/experiments`)
    await page.getByRole('heading', { name: 'Sign in with an API key' }).waitFor()
    await shot(page, 'key-prompt-1280')
    await page.locator('#api-key').fill('rl_not_a_key')
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByText('The API did not accept this key').waitFor()
    await page.locator('#api-key').fill(ADMIN_KEY)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('heading', { name: 'Experiments', exact: true }).waitFor()
    expect(await page.evaluate(() => localStorage.getItem('rl.apiKey'))).toBe(ADMIN_KEY)
    await page.reload()
    await page.getByRole('heading', { name: 'Experiments', exact: true }).waitFor()
  })

  it('lists the experiments created through the API, with search and status filter', async () => {
    await page.goto(`${base}/experiments`)
    await settled(page)
    const rows = page.locator('tbody tr')
    expect(await rows.count()).toBe(2)
    const running = page.locator('tr[data-experiment="winback-pct15"]')
    expect(await running.textContent()).toContain('Win-back: 15% off for lapsed 60–180 days')
    expect(await running.textContent()).toContain('running')
    expect(await running.textContent()).toContain('2 arms + holdout')
    expect(await running.textContent()).toContain('Control message · 15% off')
    expect(await page.locator('tr[data-experiment="free-ship-vip"]').textContent()).toContain('draft')

    await page.getByLabel('Search').fill('vip')
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1)
    expect(page.url()).toContain('q=vip')
    await page.getByLabel('Search').fill('')
    await page.getByLabel('Status').selectOption('running')
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1)
    expect(await rows.first().getAttribute('data-experiment')).toBe('winback-pct15')
    await page.getByLabel('Search').fill('no such thing')
    await page.getByText('No experiment matches').waitFor()
    await page.getByRole('button', { name: 'Clear the search' }).click()
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 2)

    await page.getByRole('link', { name: 'Win-back: 15% off for lapsed 60–180 days' }).click()
    await page.getByRole('heading', { name: 'Win-back: 15% off for lapsed 60–180 days' }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/experiments/winback-pct15')
  })

  it('computes the sample size in the power calculator', async () => {
    await page.goto(`${base}/experiments/new`)
    await page.getByLabel('Baseline rate').fill('10')
    await page.getByLabel('Minimum detectable effect').fill('10')
    // (1.95996 + 0.84162)² · (0.1·0.9 + 0.11·0.89) / 0.01² = 14 749 per arm for a 10% → 11% test at α 0.05, power 80%.
    await page.waitForFunction(() => document.querySelector('[data-testid="power-per-arm"]')?.textContent === '14,749')
    expect(await page.getByTestId('power-total').textContent()).toBe('29,498')
    await page.getByLabel('Eligible customers per day').fill('0')
    await page.waitForFunction(() => document.querySelector('[data-testid="power-days"]')?.textContent === '—')
  })

  it("shows the API's message next to the field it names and in the summary", async () => {
    await page.goto(`${base}/experiments/new`)
    await page.locator('#field-name').fill('Weights that do not add up')
    await page.locator('#field-arms-1-weight').fill('40')
    await page.getByRole('button', { name: 'Create draft' }).click()
    const summary = page.getByTestId('error-summary')
    await summary.waitFor()
    expect(await summary.textContent()).toContain('weights must sum to 1 (they sum to 0.9)')
    expect(await page.locator('#field-arms-error').textContent()).toContain('weights must sum to 1')
    await shot(page, 'new-experiment-error-1280')

    await page.locator('#field-arms-1-weight').fill('50')
    await page.locator('#field-arms-1-key').fill('Bad Key')
    await page.getByRole('button', { name: 'Create draft' }).click()
    await page.locator('#field-arms-1-key-error').waitFor()
    expect(await page.locator('#field-arms-1-key-error').textContent()).toContain('use lowercase letters')
    expect(await page.locator('#field-arms-1-key').getAttribute('aria-invalid')).toBe('true')
    expect((await api('GET', '/v1/experiments')).body.experiments.map((e: any) => e.name)).not.toContain('Weights that do not add up')
  })

  it('creates an experiment through the form, lists it and starts it from its page', async () => {
    await page.goto(`${base}/experiments/new`)
    await page.locator('#field-name').fill('Loyalty points vs amount off')
    await page.locator('#field-id').fill('points-vs-amount')
    await page.locator('#field-hypothesis').fill('Points cost less than cash and reactivate as many customers.')
    await page.getByRole('button', { name: 'Add arm' }).click()
    await page.locator('#field-arms-1-name').fill('500 points')
    await page.locator('#field-arms-1-offer-type').selectOption('loyalty_points')
    await page.locator('#field-arms-1-offer-value').fill('500')
    await page.locator('#field-arms-1-offer-unitCost').fill('2.5')
    await page.locator('#field-arms-2-key').fill('amount10')
    await page.locator('#field-arms-2-name').fill('$10 off')
    await page.locator('#field-arms-2-offer-type').selectOption('amount_off')
    await page.locator('#field-arms-2-offer-value').fill('10')
    await page.getByRole('button', { name: 'Add condition' }).click()
    await page.locator('#field-targeting-0-attribute').fill('churn_risk')
    await page.locator('#targeting-op-0').selectOption('$gte')
    await page.locator('#field-targeting-0-value').fill('0.6')
    await page.getByLabel('Sequential testing').check()
    await shot(page, 'new-experiment-filled-1280')
    await page.getByRole('button', { name: 'Create draft' }).click()

    await page.waitForURL(`${base}/experiments/points-vs-amount`)
    await page.getByRole('heading', { name: 'Loyalty points vs amount off' }).waitFor()
    await page.getByText('Draft created.').waitFor()
    const created = (await api('GET', '/v1/experiments/points-vs-amount')).body
    expect(created.status).toBe('draft')
    expect(created.arms.map((a: any) => [a.key, a.weight, a.isControl, a.offer.type])).toEqual([
      ['control', 0.3333, true, 'none'],
      ['variant', 0.3333, false, 'loyalty_points'],
      ['amount10', 0.3334, false, 'amount_off'],
    ])
    expect(created.targeting).toEqual({ $and: [{ churn_risk: { $gte: 0.6 } }] })
    expect(created.analysis.sequential.enabled).toBe(true)

    await page.getByRole('navigation').getByRole('link', { name: 'Experiments', exact: true }).click()
    await page.locator('tr[data-experiment="points-vs-amount"]').waitFor()
    expect(await page.locator('tbody tr').count()).toBe(3)

    await page.getByRole('link', { name: 'Loyalty points vs amount off' }).click()
    await page.getByRole('button', { name: 'Start' }).click()
    await page.getByRole('button', { name: 'Pause' }).waitFor()
    expect(await page.locator('.experiment-header .status').textContent()).toBe('running')
    expect((await api('GET', '/v1/experiments/points-vs-amount')).body.status).toBe('running')

    await page.getByRole('button', { name: 'Stop' }).click()
    await page.getByText('Stop for good?').waitFor()
    await page.getByRole('button', { name: 'Cancel' }).click()
    expect((await api('GET', '/v1/experiments/points-vs-amount')).body.status).toBe('running')
  })

  it('records notes and a decision in the decision log', async () => {
    await page.goto(`${base}/experiments/winback-pct15`)
    await settled(page)
    await page.locator('#field-note-body').fill('Week 1: exposure counts look balanced.')
    await page.getByRole('button', { name: 'Add to log' }).click()
    await page.locator('.notes').getByText('Week 1: exposure counts look balanced.').waitFor()

    await page.getByLabel('Decision', { exact: true }).check()
    await page.getByRole('button', { name: 'Record decision' }).click()
    await page.locator('.add .field-error, .add .error').first().waitFor()
    await page.getByLabel('Chosen arm').selectOption('pct15')
    await page.getByLabel('Rationale').fill('Reactivation up with a clear interval; margin covers the discount.')
    await page.getByRole('button', { name: 'Record decision' }).click()
    await page.getByText('Decision:').waitFor()
    const notes = (await api('GET', '/v1/experiments/winback-pct15/notes')).body.notes
    expect(notes.map((n: any) => n.kind)).toEqual(['hypothesis', 'note', 'decision'])
    expect(notes[2].chosenArm).toBe('pct15')
  })

  it('shows settings, creates a key once with a copy button and lists the audit log', async () => {
    await page.goto(`${base}/settings`)
    await settled(page)
    expect(await page.getByTestId('global-holdout').textContent()).toBe('5.0%')
    await page.locator('#field-key-name').fill('CRM production')
    await page.locator('#field-key-role').selectOption('ingest')
    await page.getByRole('button', { name: 'Create key' }).click()
    const key = await page.getByTestId('new-key').textContent()
    expect(key).toMatch(/^rl_/)
    await page.getByRole('button', { name: 'Copy' }).waitFor()
    await page.getByRole('cell', { name: 'CRM production', exact: true }).waitFor()
    expect(await page.locator('#audit-title').isVisible()).toBe(true)
    expect(await page.getByRole('cell', { name: 'experiment.start' }).count()).toBeGreaterThan(0)

    await page.getByRole('button', { name: 'Change' }).click()
    await page.locator('#field-globalHoldoutPct').fill('7')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText('the global holdout cannot change while experiments are active').waitFor()
  })

  it("tells a viewer what the role cannot do, and asks again for a key once it's revoked", async () => {
    const viewerKey = await h.keyFor('viewer')
    const ctx = await browser.newContext({ viewport: DESKTOP })
    await ctx.addInitScript((key) => localStorage.setItem('rl.apiKey', key), viewerKey)
    const p = await ctx.newPage()
    watch(p)
    await p.goto(`${base}/settings`)
    await p.getByText('Only admin keys can list, create and revoke API keys.').waitFor()
    await p.goto(`${base}/experiments/free-ship-vip`)
    await p.getByRole('button', { name: 'Start' }).click()
    await p.getByText('the viewer role may not do this (needs edit permission)').waitFor()
    expect((await api('GET', '/v1/experiments/free-ship-vip')).body.status).toBe('draft')

    const { keys } = (await api('GET', '/v1/keys')).body
    const viewer = keys.find((k: any) => viewerKey.startsWith(k.prefix) && k.role === 'viewer')
    expect((await api('DELETE', `/v1/keys/${viewer.id}`)).status).toBe(204)
    await p.reload()
    await p.getByText('Your key was rejected: unknown or revoked API key').waitFor()
    await ctx.close()
  })

  it('writes a screenshot of every page at 1280 px and 375 px, without horizontal overflow on a phone', async () => {
    const pages: Array<[string, string]> = [
      ['overview', '/'],
      ['experiments', '/experiments'],
      ['new-experiment', '/experiments/new'],
      ['experiment', '/experiments/winback-pct15'],
      ['experiment-draft', '/experiments/free-ship-vip'],
      ['library', '/library'],
      ['settings', '/settings'],
      ['not-found', '/no/such/page'],
    ]
    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })
    const small = await phone.newPage()
    watch(small)
    await small.goto(`${base}/`)
    await small.getByRole('heading', { name: 'Sign in with an API key' }).waitFor()
    await shot(small, 'key-prompt-375')
    await small.locator('#api-key').fill(ADMIN_KEY)
    await small.getByRole('button', { name: 'Continue' }).click()
    await small.getByRole('heading', { name: 'Program overview' }).waitFor()
    for (const [name, url] of pages) {
      for (const [p, width] of [[page, DESKTOP.width], [small, PHONE.width]] as const) {
        await p.goto(base + url)
        await settled(p)
        await shot(p, `${name}-${width}`)
      }
      // Against the device width, not innerWidth: a mobile browser widens its layout viewport to fit overflow.
      const overflow = (await small.evaluate(() => document.documentElement.scrollWidth)) - PHONE.width
      expect(overflow, `${url} is wider than the phone screen`).toBeLessThanOrEqual(0)
    }
    await phone.close()
    expect(pageErrors).toEqual([])
  })
})
