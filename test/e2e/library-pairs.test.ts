import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import axe from 'axe-core'
import type { Page } from 'playwright-core'
import { DESKTOP, openDashboard, settled, shot, type Dashboard } from './browser.ts'
import { seedDirect } from '../../seed/writer-direct.ts'
import { plantedPairs } from '../../seed/experiments.ts'
import type { LearningOutcome, LibraryPair, LibraryReport } from '../../api/contract/library.ts'
import { DASH, percent } from '../../ui/src/lib/format.ts'
import { interval, metricDelta } from '../../ui/src/lib/metricFormat.ts'

// Issue 20, item 4: the Offer library's proven segment–offer pairs on the seeded demo world, which plants free
// shipping for low-value customers and 500 loyalty points for high-value ones. Every pair the API returns is listed
// with the API's pooled numbers, the Proven badge exactly where the adjusted reactivation interval lies above 0,
// the evidence of each experiment behind a pair, the filters, and nothing out of reach on a phone.

const NOW = Date.now()
const PHONE_390 = { width: 390, height: 844 }
const OUTCOMES = ['reactivation', 'durable_reengagement', 'net_value'] as const

let d: Dashboard
let library: LibraryReport

beforeAll(async () => {
  d = await openDashboard({ now: () => NOW })
  await seedDirect({ db: d.h.db, ch: d.h.ch }, { seed: 11, customers: 40_000, now: NOW, onWarning: () => {} })
  const res = await d.api('GET', '/v1/library')
  expect(res.status).toBe(200)
  library = res.body
})

afterAll(async () => {
  await d?.close()
})

const outcome = (p: LibraryPair, metric: string) => p.outcomes.find((o) => o.metric === metric)!
/** Formatted as the page must show it: rates in percentage points, net value in dollars per customer. */
const delta = (o: Pick<LearningOutcome, 'unit'>, x: number | null) => metricDelta(o.unit === 'rate' ? 'percent' : 'currency', x)
const ci = (o: Pick<LearningOutcome, 'unit'>, c: [number, number] | null) => interval(c, (x) => delta(o, x))
const plantedKey = (p: { segment: string; offer: string }) => `${p.segment}|||${p.offer}`

async function openLibrary(p: Page, query = '') {
  await p.goto(`${d.base}/library${query}`)
  await settled(p)
  await p.getByTestId('pairs-table').waitFor()
}

/** What each listed pair's row says, in the page's order. */
const listed = (p: Page) =>
  p.locator('[data-testid="pairs-table"] > tbody > tr.pair').evaluateAll((rows) =>
    rows.map((r) => ({
      key: r.getAttribute('data-pair')!,
      badge: r.querySelector('[data-testid="proven-badge"]')?.textContent?.trim() ?? null,
      cells: Object.fromEntries(
        Array.from(r.querySelectorAll('td[data-outcome]')).map((td) => [
          td.getAttribute('data-outcome')!,
          { estimate: td.querySelector('.estimate')?.textContent?.trim() ?? null, ci: td.querySelector('.ci')?.textContent?.trim() ?? null },
        ]),
      ),
      k: r.querySelector('[data-testid="pair-k"]')!.textContent!.trim(),
      i2: r.querySelector('[data-testid="pair-i2"]')!.textContent!.trim(),
    })),
  )

/** Badges and reactivation intervals that do not lie wholly inside [0, width] horizontally. */
const offScreen = (p: Page, width: number) =>
  p.evaluate((w) => {
    const outside = (el: Element) => {
      const r = el.getBoundingClientRect()
      return r.width === 0 || r.left < 0 || r.right > w + 0.5
    }
    return Array.from(document.querySelectorAll('[data-testid="proven-badge"], td[data-outcome="reactivation"] .ci, td[data-outcome="reactivation"] .estimate'))
      .filter(outside)
      .map((el) => `${el.closest('tr')?.getAttribute('data-pair')}: ${el.textContent}`)
  }, width)

async function seriousViolations(p: Page): Promise<string[]> {
  await p.evaluate(axe.source)
  return p.evaluate(async () => {
    const results = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] })
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
}

describe('the proven segment–offer pairs on the Offer library page', () => {
  it('has proven pairs whose verdicts agree with their intervals in the API (what the page is checked against)', () => {
    expect(library.pairs.length).toBeGreaterThan(10)
    for (const planted of plantedPairs.proven) expect(library.pairs.find((p) => p.key === plantedKey(planted))?.proven, plantedKey(planted)).toBe(true)
    for (const planted of plantedPairs.nulls) expect(library.pairs.find((p) => p.key === plantedKey(planted))?.proven, plantedKey(planted)).toBe(false)
    for (const p of library.pairs) {
      const r = outcome(p, 'reactivation')
      expect(p.proven, p.key).toBe(r.ci !== null && r.ci[0] > 0)
    }
  })

  for (const [name, viewport, mobile] of [
    ['1280', DESKTOP, false],
    ['390', PHONE_390, true],
  ] as const) {
    it(`lists every pair at ${name} px with the API's pooled numbers, k and I², and a Proven badge exactly where the interval lies above 0`, async () => {
      const p = await d.signedInPage({ viewport, isMobile: mobile, hasTouch: mobile })
      try {
        await openLibrary(p)
        const rows = await listed(p)
        expect(rows.map((r) => r.key)).toEqual(library.pairs.map((x) => x.key))
        for (const [i, pair] of library.pairs.entries()) {
          const row = rows[i]
          const reactivation = outcome(pair, 'reactivation')
          expect(row.badge, pair.key).toBe(reactivation.ci !== null && reactivation.ci[0] > 0 ? 'Proven' : null)
          expect(row.badge, pair.key).toBe(pair.proven ? 'Proven' : null)
          for (const metric of OUTCOMES) {
            const o = outcome(pair, metric)
            expect(row.cells[metric], `${pair.key} ${metric}`).toEqual(
              o.k === 0 ? { estimate: null, ci: null } : { estimate: delta(o, o.estimate), ci: ci(o, o.ci) },
            )
          }
          expect(row.k, pair.key).toBe(String(reactivation.k))
          expect(row.i2, pair.key).toBe(reactivation.k >= 2 ? percent(reactivation.iSquared, 0) : DASH)
        }
        for (const planted of plantedPairs.proven) expect(rows.find((r) => r.key === plantedKey(planted))?.badge).toBe('Proven')

        // On a phone every row is a card: no verdict or interval waits behind a sideways scroll.
        expect(await offScreen(p, viewport.width), `at ${name} px`).toEqual([])
        expect(await p.evaluate(() => document.documentElement.scrollWidth), `at ${name} px`).toBeLessThanOrEqual(viewport.width)
        await shot(p, `library-pairs-${name}`)
      } finally {
        await p.context().close()
      }
    })
  }

  it('expands a pair into one evidence row per experiment the API pooled, with each estimate, interval and weight, and folds it again', async () => {
    const p = await d.signedInPage({ viewport: DESKTOP })
    try {
      await openLibrary(p)
      const pair = library.pairs.find((x) => x.key === plantedKey(plantedPairs.proven[1]))!
      expect(outcome(pair, 'reactivation').k).toBeGreaterThanOrEqual(3)
      const row = p.locator(`tr.pair[data-pair="${pair.key}"]`)
      const button = row.getByRole('button', { name: /^Show evidence/ })
      await button.click()
      const evidence = p.locator(`tr[data-evidence="${pair.key}"]`)
      await evidence.waitFor()
      expect(await row.getByRole('button', { name: /^Hide evidence/ }).getAttribute('aria-expanded')).toBe('true')
      expect(await row.getByRole('button', { name: /^Hide evidence/ }).getAttribute('aria-controls')).toBe(await evidence.getAttribute('id'))

      for (const metric of OUTCOMES) {
        const o = outcome(pair, metric)
        const section = evidence.locator(`section[data-outcome="${metric}"]`)
        const shown = await section.locator('[data-testid="evidence-row"]').evaluateAll((rs) =>
          rs.map((r) => ({
            experiment: r.getAttribute('data-experiment'),
            estimate: r.querySelector('[data-testid="evidence-estimate"]')!.textContent!.trim(),
            ci: r.querySelector('[data-testid="evidence-interval"]')!.textContent!.trim(),
            weight: r.querySelector('[data-testid="evidence-weight"]')!.textContent!.trim(),
          })),
        )
        expect(shown.length, metric).toBe(o.k)
        expect(shown, metric).toEqual(
          o.experiments.map((e) => ({ experiment: e.experimentId, estimate: delta(o, e.estimate), ci: ci(o, e.ci), weight: percent(e.weight, 0) })),
        )
        expect(await section.getByTestId('no-evidence').count(), metric).toBe(o.k === 0 ? 1 : 0)
        if (o.k > 0) expect(await section.getByTestId('evidence-pooled').textContent(), metric).toContain(ci(o, o.ci))
      }

      await row.getByRole('button', { name: /^Hide evidence/ }).click()
      await evidence.waitFor({ state: 'detached' })
      expect(await button.getAttribute('aria-expanded')).toBe('false')
    } finally {
      await p.context().close()
    }
  })

  it('shows exactly the proven pairs with “Proven pairs only”, one segment with the select (as the API’s ?segment= does), and keeps both in the URL', async () => {
    const p = await d.signedInPage({ viewport: DESKTOP })
    try {
      await openLibrary(p)
      const keys = async () => (await listed(p)).map((r) => r.key)
      const proven = library.pairs.filter((x) => x.proven)
      expect(proven.length).toBeGreaterThan(0)
      expect(proven.length).toBeLessThan(library.pairs.length)

      await p.getByLabel('Proven pairs only').check()
      await p.waitForFunction((n) => document.querySelectorAll('[data-testid="pairs-table"] > tbody > tr.pair').length === n, proven.length)
      expect(await keys()).toEqual(proven.map((x) => x.key))
      expect((await listed(p)).every((r) => r.badge === 'Proven')).toBe(true)

      const low = (await d.api('GET', '/v1/library?segment=valueTier%3Dlow')).body as LibraryReport
      expect(low.pairs.length).toBeGreaterThan(1)
      await p.locator('#pairs-segment').selectOption('valueTier=low')
      const lowProven = low.pairs.filter((x) => x.proven).map((x) => x.key)
      expect(lowProven).toContain(plantedKey(plantedPairs.proven[0]))
      await p.waitForFunction((n) => document.querySelectorAll('[data-testid="pairs-table"] > tbody > tr.pair').length === n, lowProven.length)
      expect(await keys()).toEqual(lowProven)
      expect(Object.fromEntries(new URL(p.url()).searchParams)).toEqual({ segment: 'valueTier=low', proven: '1' })

      // A shared link opens with the same filters.
      await openLibrary(p, '?segment=valueTier%3Dlow&proven=1')
      expect(await keys()).toEqual(lowProven)
      expect(await p.locator('#pairs-segment').inputValue()).toBe('valueTier=low')

      await p.getByLabel('Proven pairs only').uncheck()
      await p.waitForFunction((n) => document.querySelectorAll('[data-testid="pairs-table"] > tbody > tr.pair').length === n, low.pairs.length)
      expect(await keys()).toEqual(low.pairs.map((x) => x.key))
      expect(Object.fromEntries(new URL(p.url()).searchParams)).toEqual({ segment: 'valueTier=low' })
    } finally {
      await p.context().close()
    }
  })

  it('passes axe with a pair expanded, on a laptop and on a phone, where the evidence stays on screen', async () => {
    const pair = library.pairs.find((x) => x.key === plantedKey(plantedPairs.proven[0]))!
    for (const [name, viewport, mobile] of [
      ['1280', DESKTOP, false],
      ['390', PHONE_390, true],
    ] as const) {
      const p = await d.signedInPage({ viewport, isMobile: mobile, hasTouch: mobile })
      try {
        await openLibrary(p)
        await p
          .locator(`tr.pair[data-pair="${pair.key}"]`)
          .getByRole('button', { name: /^Show evidence/ })
          .click()
        await p.locator(`tr[data-evidence="${pair.key}"] [data-testid="evidence-row"]`).first().waitFor()
        expect(await seriousViolations(p), `at ${name} px`).toEqual([])
        const outside = await p.evaluate((w) => {
          const cells = document.querySelectorAll('[data-evidence] [data-testid="evidence-estimate"], [data-evidence] [data-testid="evidence-interval"]')
          return Array.from(cells)
            .filter((el) => el.getBoundingClientRect().right > w + 0.5 || el.getBoundingClientRect().left < 0)
            .map((el) => el.textContent)
        }, viewport.width)
        expect(outside, `at ${name} px`).toEqual([])
        expect(await p.evaluate(() => document.documentElement.scrollWidth), `at ${name} px`).toBeLessThanOrEqual(viewport.width)
        await p.locator(`tr[data-evidence="${pair.key}"]`).scrollIntoViewIfNeeded()
        await shot(p, `library-pairs-evidence-${name}`)
      } finally {
        await p.context().close()
      }
    }
    expect(d.pageErrors).toEqual([])
  })
})
