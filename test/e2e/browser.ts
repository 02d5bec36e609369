import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core'
import { serve, type ServerType } from '@hono/node-server'
import { createApp, type RetentionApp } from '../../api/app.ts'
import { ADMIN_KEY, openHarness, type Harness } from '../helpers/harness.ts'

// What the browser tests share: the built UI served by the real app over real PGlite + chDB, Debian's
// Chromium, screenshots in test/e2e/screenshots/ (git-ignored), and a watch on page errors.

export const UI_DIR = path.resolve('ui/dist')
export const SHOTS = path.resolve('test/e2e/screenshots')
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const DESKTOP = { width: 1280, height: 900 }
export const PHONE = { width: 375, height: 812 }

export interface Dashboard {
  h: Harness
  ui: RetentionApp
  base: string
  browser: Browser
  /** Calls the API over HTTP with the admin key. */
  api(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>
  /** Calls the app in-process with the admin key (no socket): what the world builder uses. */
  call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>
  /** A page in a new browser context, already signed in with the admin key, and watched for errors. */
  signedInPage(options: BrowserContextOptions): Promise<Page>
  /** Errors and console errors of every watched page (4xx answers are expected in some tests). */
  pageErrors: string[]
  watch(p: Page): Page
  close(): Promise<void>
}

/** Starts the app (with an optional clock) on a free port and launches Chromium. */
export async function openDashboard(opts: { now?: () => number } = {}): Promise<Dashboard> {
  if (!fs.existsSync(path.join(UI_DIR, 'index.html'))) {
    throw new Error('ui/dist/index.html is missing: run `npm run build` before the browser tests (npx vitest run test/e2e)')
  }
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`)
  }
  fs.mkdirSync(SHOTS, { recursive: true })
  const h = await openHarness()
  const ui = await createApp({ db: h.db, ch: h.ch, uiDir: UI_DIR, now: opts.now })
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: ui.app.fetch, port: 0 }, () => resolve(s))
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  const pageErrors: string[] = []
  const watch = (p: Page): Page => {
    p.setDefaultTimeout(10_000)
    p.on('pageerror', (err) => pageErrors.push(`${p.url()}: ${err.message}`))
    p.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) pageErrors.push(`${p.url()}: ${msg.text()}`)
    })
    return p
  }

  return {
    h,
    ui,
    base,
    browser,
    pageErrors,
    async api(method, url, body) {
      const res = await fetch(base + url, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json().catch(() => null)) as any }
    },
    async call(method, url, body) {
      const res = await ui.app.request(url, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json().catch(() => null)) as any }
    },
    async signedInPage(options) {
      const context = await browser.newContext(options)
      await context.addInitScript((key) => localStorage.setItem('rl.apiKey', key), ADMIN_KEY)
      return watch(await context.newPage())
    },
    watch,
    async close() {
      await browser?.close()
      await new Promise((resolve) => server.close(resolve))
      await ui.close()
      await h.close()
    },
  }
}

/** A full-page screenshot, scrolled to the top first (the sticky header would otherwise be drawn mid-page). */
export async function shot(p: Page, name: string) {
  await p.evaluate(() => window.scrollTo(0, 0))
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true })
}

/** Waits until the page's own loading indicators are gone. */
export async function settled(p: Page) {
  await p.waitForLoadState('networkidle')
  await p
    .locator('.loading')
    .first()
    .waitFor({ state: 'detached', timeout: 10_000 })
    .catch(() => undefined)
}

/** How far the page is wider than the device: a mobile browser widens its layout viewport to fit overflow. */
export async function phoneOverflow(p: Page): Promise<number> {
  return (await p.evaluate(() => document.documentElement.scrollWidth)) - PHONE.width
}

export { ADMIN_KEY }
