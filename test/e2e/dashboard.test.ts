import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BrowserContext, Page } from 'playwright-core'
import { twoArmExperiment } from '../helpers/harness.ts'
import { ADMIN_KEY, DESKTOP, PHONE, openDashboard, phoneOverflow, settled, shot, type Dashboard } from './browser.ts'

// The dashboard's shell, driven in Debian's Chromium against the real API over real PGlite + chDB, on a nearly
// empty world: sign-in, the experiments list, the new-experiment form, lifecycle, decision log, settings and
// roles, empty states. The report half on a populated world is in reports.test.ts.

let d: Dashboard
let base: string
let desktop: BrowserContext
let page: Page
const api = (method: string, url: string, body?: unknown) => d.api(method, url, body)

beforeAll(async () => {
  d = await openDashboard()
  base = d.base

  // Experiments made through the API, as a CRM integration or a script would.
  expect(
    (
      await api(
        'POST',
        '/v1/experiments',
        twoArmExperiment('winback-pct15', {
          name: 'Win-back: 15% off for lapsed 60–180 days',
          hypothesis: 'Lapsed customers offered 15% off reactivate more than with the message alone.',
          holdoutPct: 0.1,
          targeting: { $and: [{ recency_days: { $gte: 60 } }, { recency_days: { $lt: 180 } }, { value_tier: { $in: ['gold', 'silver'] } }] },
        }),
      )
    ).status,
  ).toBe(201)
  expect((await api('POST', '/v1/experiments/winback-pct15/start')).status).toBe(200)
  expect((await api('POST', '/v1/experiments', twoArmExperiment('free-ship-vip', { name: 'Free shipping for at-risk VIPs', coverage: 0.5 }))).status).toBe(201)

  desktop = await d.browser.newContext({ viewport: DESKTOP })
  page = d.watch(await desktop.newPage())
})

afterAll(async () => {
  await d?.close()
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
    const viewerKey = await d.h.keyFor('viewer')
    const ctx = await d.browser.newContext({ viewport: DESKTOP })
    await ctx.addInitScript((key) => localStorage.setItem('rl.apiKey', key), viewerKey)
    const p = d.watch(await ctx.newPage())
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
      ['overview-empty', '/'],
      ['experiments', '/experiments'],
      ['new-experiment', '/experiments/new'],
      ['experiment-no-customers', '/experiments/winback-pct15'],
      ['experiment-draft', '/experiments/free-ship-vip'],
      ['library-empty', '/library'],
      ['triggers-empty', '/triggers'],
      ['settings', '/settings'],
      ['not-found', '/no/such/page'],
    ]
    const phone = await d.browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })
    const small = d.watch(await phone.newPage())
    await small.goto(`${base}/`)
    await small.getByRole('heading', { name: 'Sign in with an API key' }).waitFor()
    await shot(small, 'key-prompt-375')
    await small.locator('#api-key').fill(ADMIN_KEY)
    await small.getByRole('button', { name: 'Continue' }).click()
    await small.getByRole('heading', { name: 'Program overview' }).waitFor()
    for (const [name, url] of pages) {
      for (const [p, width] of [
        [page, DESKTOP.width],
        [small, PHONE.width],
      ] as const) {
        await p.goto(base + url)
        await settled(p)
        await shot(p, `${name}-${width}`)
      }
      expect(await phoneOverflow(small), `${url} is wider than the phone screen`).toBeLessThanOrEqual(0)
    }
    await phone.close()
    expect(d.pageErrors).toEqual([])
  })
})
