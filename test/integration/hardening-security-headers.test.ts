import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'

// The real server (built UI, an experiment with customers so that its page draws its charts) and Debian's Chromium,
// which enforces the policy: a page that needed more than the policy allows would report a violation.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-headers-'))
const KEY = 'rl_security_headers_admin_key_32_chars'
let server: Awaited<ReturnType<typeof startServer>>
let browser: Browser
beforeAll(async () => {
  if (!fs.existsSync(path.resolve('ui/dist/index.html'))) throw new Error('ui/dist/index.html is missing: run `npm run build` first')
  server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
  const post = (p: string, body: unknown) =>
    fetch(`${server.base}${p}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const arms = [
    { key: 'control', name: 'Control', weight: 0.5, isControl: true, offer: { type: 'none', value: 0 } },
    { key: 'pct15', name: '15% off', weight: 0.5, offer: { type: 'percent_off', value: 15, unitCost: 6 } },
  ]
  expect((await post('/v1/experiments', { id: 'csp', name: 'CSP check', arms })).status).toBe(201)
  expect((await post('/v1/experiments/csp/start', {})).status).toBe(200)
  const customers = Array.from({ length: 400 }, (_, i) => ({ customerId: `c-${i}` }))
  expect((await post('/v1/assign/batch', { experimentId: 'csp', customers })).status).toBe(200)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
}, 180_000)
afterAll(async () => {
  await browser?.close()
  await server?.kill('SIGTERM')
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const expectSecurityHeaders = (res: Response, what: string) => {
  const csp = res.headers.get('content-security-policy') ?? ''
  // Inline styles only where they are used: the /docs stylesheet.
  expect(csp.includes("style-src 'self' 'unsafe-inline'"), what).toBe(what === '/docs')
  expect(csp, what).toContain("script-src 'self'")
  expect(csp, what).toContain("frame-ancestors 'none'")
  expect(csp, what).toContain("object-src 'none'")
  expect(csp, what).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/)
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff')
  expect(res.headers.get('x-frame-options'), what).toBe('DENY')
  expect(res.headers.get('referrer-policy'), what).toBe('no-referrer')
}

/** A page that records every CSP violation and page error in `problems`. */
async function watchedPage(problems: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  await context.addInitScript((key) => {
    localStorage.setItem('rl.apiKey', key)
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`))
  }, KEY)
  const page = await context.newPage()
  page.on('pageerror', (err) => problems.push(`${page.url()}: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error' || /Content Security Policy/.test(msg.text())) problems.push(`${page.url()}: ${msg.text()}`)
  })
  return page
}

describe('security headers', () => {
  it('sets CSP, nosniff, frame and referrer policy on the dashboard, /docs, assets and the API', async () => {
    const index = await fetch(`${server.base}/`)
    expect(index.status).toBe(200)
    expectSecurityHeaders(index, '/')
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(await index.text())![1]
    expectSecurityHeaders(await fetch(`${server.base}${script}`), script)
    expectSecurityHeaders(await fetch(`${server.base}/experiments/some-page`), 'client-side route')
    const docs = await fetch(`${server.base}/docs`)
    expect(docs.status).toBe(200)
    expectSecurityHeaders(docs, '/docs')
    const api = await fetch(`${server.base}/v1/experiments`, { headers: { authorization: `Bearer ${KEY}` } })
    expect(api.status).toBe(200)
    expectSecurityHeaders(api, '/v1/experiments')
    const refused = await fetch(`${server.base}/v1/experiments`)
    expect(refused.status).toBe(401)
    expectSecurityHeaders(refused, '401 from /v1/experiments')
  })

  it('loads every dashboard page and /docs in Chromium without a policy violation', async () => {
    const problems: string[] = []
    const page = await watchedPage(problems)

    await page.goto(`${server.base}/docs`)
    await page.getByRole('heading', { name: /Retention Lab API/ }).waitFor()
    // The inline stylesheet applied: the method labels are bold.
    expect(
      await page
        .locator('.m')
        .first()
        .evaluate((el) => getComputedStyle(el).fontWeight),
    ).toBe('600')

    const experiments = (await (await fetch(`${server.base}/v1/experiments`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      experiments: Array<{ id: string }>
    }
    expect(experiments.experiments.length).toBeGreaterThan(0)
    for (const p of ['/', '/experiments', `/experiments/${experiments.experiments[0].id}`, '/library', '/settings']) {
      await page.goto(`${server.base}${p}`)
      await page.waitForLoadState('networkidle')
      await page.locator('main, #app > *').first().waitFor()
      expect(await page.locator('#app').evaluate((el) => el.textContent?.trim().length ?? 0), p).toBeGreaterThan(0)
    }
    expect(problems).toEqual([])

    // The policy is enforced: an injected inline script does not run.
    const ran = await page.evaluate(() => {
      const s = document.createElement('script')
      s.textContent = 'window.__injected = true'
      document.head.append(s)
      return (window as unknown as { __injected?: boolean }).__injected ?? false
    })
    expect(ran).toBe(false)
  }, 120_000)
})
