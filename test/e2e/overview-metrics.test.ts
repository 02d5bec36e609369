import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import axe from 'axe-core'
import type { Page } from 'playwright-core'
import { openDashboard, settled, shot, SHOTS, type Dashboard } from './browser.ts'
import { seedDirect } from '../../seed/writer-direct.ts'
import type { KpiMetric, KpiMetricScope, KpiReport } from '../../api/contract/kpis.ts'
import { integer } from '../../ui/src/lib/format.ts'
import { metricValue } from '../../ui/src/lib/metricFormat.ts'
import { effectInterval, effectText } from '../../ui/src/lib/effects.ts'

// Catalogue metrics on the Overview ("Your metrics"), on the seeded demo world: an analyst's proportion and means on
// purchases and unsubscribes, and a quantile, picked on the page. Each row shows the API's own answer to the page's
// GET /v1/kpis?metrics=… (values in the metric's format, customers, the lift's 95% interval), a badge that says
// significant exactly where that interval excludes 0 (green or red by the metric's direction), the quantile's reason
// instead of numbers, each experiment's rows on demand; the choice lives in the URL and survives a reload; on a phone
// no lift or verdict is off screen; axe finds nothing serious.

const NOW = Date.now()
const LAPTOP = { width: 1280, height: 800 }
const PHONE_390 = { width: 390, height: 844 }

const METRICS = [
  {
    key: 'repeat_purchase_30d',
    name: 'Bought twice in 30 days',
    kind: 'proportion',
    minEvents: 2,
    source: { eventTypes: ['purchase'] },
    window: { endDays: 30 },
  },
  {
    key: 'purchase_revenue_30d',
    name: 'Purchase revenue per customer, 30 days',
    kind: 'mean',
    source: { eventTypes: ['purchase'] },
    value: { of: 'revenue' },
    window: { endDays: 30 },
    format: 'currency',
  },
  {
    key: 'unsubscribes_30d',
    name: 'Unsubscribes per customer, 30 days',
    kind: 'mean',
    source: { eventTypes: ['unsubscribe'] },
    value: { of: 'count' },
    window: { endDays: 30 },
    direction: 'lower',
  },
  {
    key: 'median_order_30d',
    name: 'Median order value, 30 days',
    kind: 'quantile',
    quantile: 0.5,
    source: { eventTypes: ['purchase'] },
    value: { of: 'revenue' },
    window: { endDays: 30 },
    format: 'currency',
  },
]
const KEYS = METRICS.map((m) => m.key)
const RETIRED = 'retired_orders'

let d: Dashboard

beforeAll(async () => {
  d = await openDashboard({ now: () => NOW })
  await seedDirect({ db: d.h.db, ch: d.h.ch }, { seed: 7, customers: 20_000, now: NOW, onWarning: () => {} })
})

afterAll(async () => {
  await d?.close()
})

/** What each metric row says, in the page's order. */
const shownRows = (p: Page, tbody = 'tbody.metric') =>
  p.locator(`[data-testid="metric-kpis"] ${tbody} > tr`).evaluateAll((rows) =>
    rows.map((r) => {
      const text = (sel: string) => r.querySelector(sel)?.textContent?.trim() ?? null
      return {
        key: r.closest('tbody')!.getAttribute('data-metric'),
        experiment: r.getAttribute('data-experiment'),
        name: text('th a'),
        treated: text('[data-testid="metric-treated"] [data-testid="group-value"]'),
        treatedN: text('[data-testid="metric-treated"] [data-testid="group-n"]'),
        holdout: text('[data-testid="metric-holdout"] [data-testid="group-value"]'),
        holdoutN: text('[data-testid="metric-holdout"] [data-testid="group-n"]'),
        estimate: text('[data-testid="metric-estimate"]'),
        interval: text('[data-testid="metric-interval"]'),
        badge: text('[data-testid="verdict"] .badge'),
        tone: r.querySelector('[data-testid="verdict"] .badge')?.classList.item(1) ?? null,
        unavailable: text('[data-testid="metric-unavailable"]'),
      }
    }),
  )

/** A scope as its row must read, by rules stated here rather than the page's: the badge follows the interval alone. */
function expectedRow(m: KpiMetric, s: KpiMetricScope) {
  const c = s.lift
  expect(c, `${m.key}: the seeded world has both groups`).not.toBeNull()
  expect(c!.ci, `${m.key}: an interval to show`).not.toBeNull()
  const [lo, hi] = c!.ci!
  const excludesZero = lo > 0 || hi < 0
  // The API's own verdict agrees with its interval: what makes "significant exactly when it excludes 0" checkable.
  expect(c!.significant, `${m.key} ${JSON.stringify(c!.ci)}`).toBe(excludesZero)
  const up = lo > 0
  const good = up === (m.direction === 'higher')
  return {
    treated: metricValue(m.format, s.treated.value),
    treatedN: integer(s.treated.n),
    holdout: metricValue(m.format, s.globalHoldout.value),
    holdoutN: integer(s.globalHoldout.n),
    estimate: effectText(c!, m.format),
    interval: effectInterval(c!, m.format),
    badge: excludesZero ? `Significant ${up ? '▲' : '▼'} ${good ? 'better' : 'worse'}` : 'Inconclusive',
    tone: excludesZero ? (good ? 'positive' : 'negative') : 'neutral',
  }
}

/** The Overview's own /v1/kpis answer for a choice of metrics (asking again could land in another minute). */
const kpisAsked = (p: Page, keys: string[]) =>
  p.waitForResponse((r) => new URL(r.url()).pathname === '/v1/kpis' && new URL(r.url()).searchParams.get('metrics') === keys.join(','))

/** Waits for the table to show these metrics, answered (not greyed out while a newer answer loads). */
async function tableShows(p: Page, keys: string[]) {
  await p.waitForFunction(
    (want) =>
      !document.querySelector('[data-testid="your-metrics"] .stale') &&
      Array.from(document.querySelectorAll('[data-testid="metric-kpis"] tbody.metric'))
        .map((t) => t.getAttribute('data-metric'))
        .join(',') === want,
    keys.join(','),
  )
}

async function seriousViolations(p: Page): Promise<string[]> {
  if (!(await p.evaluate(() => 'axe' in window))) await p.evaluate(axe.source)
  return p.evaluate(async () => {
    const results = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] })
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
}

/** Lifts and verdicts of the card whose box is not wholly inside the viewport's width. */
const offScreen = (p: Page, width: number) =>
  p.evaluate((w) => {
    const cells = document.querySelectorAll('[data-testid="your-metrics"] :is(.lift, .badge, [data-testid="verdict"], [data-testid="metric-interval"])')
    return Array.from(cells)
      .map((el) => ({ el, box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.width === 0 || box.left < -0.5 || box.right > w + 0.5)
      .map(
        ({ el, box }) =>
          `${el.closest('tr')?.getAttribute('data-experiment') ?? el.closest('tbody')?.getAttribute('data-metric')}: "${el.textContent?.trim()}" at ${Math.round(box.left)}–${Math.round(box.right)}`,
      )
  }, width)

describe('the Overview’s “Your metrics” card without metrics of the analysts’ own', () => {
  it('says what the card is for and links to the Metrics page', async () => {
    const p = await d.signedInPage({ viewport: LAPTOP })
    try {
      await p.goto(`${d.base}/`)
      const card = p.getByTestId('your-metrics')
      await card.getByText('No metrics of your own yet').waitFor()
      expect(await card.textContent()).toContain('for the program and for each experiment')
      expect(await p.locator('#kpi-metric-add').count()).toBe(0)
      await card.getByRole('link', { name: 'Go to Metrics' }).click()
      await p.getByRole('heading', { name: 'Metrics', exact: true }).waitFor()
      expect(new URL(p.url()).pathname).toBe('/metrics')
    } finally {
      await p.context().close()
    }
  })
})

describe('the Overview’s “Your metrics” card with catalogue metrics', () => {
  let answer: KpiReport

  beforeAll(async () => {
    for (const m of METRICS) expect((await d.api('POST', '/v1/metrics', m)).status, m.key).toBe(201)
    const retired = {
      key: RETIRED,
      name: 'Orders (retired)',
      kind: 'mean',
      source: { eventTypes: ['purchase'] },
      value: { of: 'count' },
      window: { endDays: 30 },
    }
    expect((await d.api('POST', '/v1/metrics', retired)).status).toBe(201)
    expect((await d.api('POST', `/v1/metrics/${RETIRED}/archive`)).status).toBe(200)
  })

  it('compares each picked metric at 1280 px with the API’s answer, the badge agreeing with the interval, and keeps the choice in the URL through a reload', async () => {
    const p = await d.signedInPage({ viewport: LAPTOP, acceptDownloads: true })
    try {
      await p.goto(`${d.base}/`)
      await p.getByTestId('metrics-none-chosen').waitFor()
      // The picker offers the analysts' live metrics: no built-in, nothing archived.
      const offered = await p.locator('#kpi-metric-add option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean))
      expect(offered.sort()).toEqual([...KEYS].sort())

      let asked = kpisAsked(p, KEYS)
      for (const key of KEYS) await p.locator('#kpi-metric-add').selectOption(key)
      answer = await (await asked).json()
      await tableShows(p, KEYS)
      expect(new URL(p.url()).searchParams.get('metrics')).toBe(KEYS.join(','))
      expect(answer.metrics.map((m) => m.key)).toEqual(KEYS)

      const check = async () => {
        const rows = await shownRows(p)
        expect(rows.map((r) => r.key)).toEqual(KEYS)
        for (const [i, m] of answer.metrics.entries()) {
          const row = rows[i]
          expect(row.name).toBe(m.name)
          if (m.kind === 'quantile') {
            expect(m.unavailable).toBeTruthy()
            expect(row).toMatchObject({ unavailable: m.unavailable, estimate: null, interval: null, badge: null })
            continue
          }
          expect(m.unavailable).toBeNull()
          expect(row, m.key).toMatchObject(expectedRow(m, m))
        }
      }
      await check()
      await shot(p, 'overview-metrics-1280')

      // Reload: the same choice from the URL, the same rows.
      asked = kpisAsked(p, KEYS)
      await p.reload()
      const again: KpiReport = await (await asked).json()
      expect(again.metrics.map((m) => [m.key, m.version])).toEqual(answer.metrics.map((m) => [m.key, m.version]))
      await tableShows(p, KEYS)
      answer = again
      await check()
      expect(await p.locator('.chosen li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-metric-ref')))).toEqual(KEYS)

      // The CSV export: one row per metric and scope (a metric without numbers once).
      const [csv] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: 'Download CSV' }).click()])
      const lines = fs
        .readFileSync((await csv.path())!, 'utf8')
        .trimEnd()
        .split('\r\n')
      const expected = answer.metrics.flatMap((m) => (m.unavailable ? [`${m.key}@${m.version}`] : [m, ...m.programs].map(() => `${m.key}@${m.version}`)))
      expect(lines.filter((l) => l.startsWith('metric,')).map((l) => l.split(',')[3])).toEqual(expected)

      // Removing one takes it out of the table and the URL.
      const rest = KEYS.filter((k) => k !== 'unsubscribes_30d')
      asked = kpisAsked(p, rest)
      await p.getByRole('button', { name: `Remove ${METRICS[2].name}` }).click()
      await asked
      await tableShows(p, rest)
      expect(new URL(p.url()).searchParams.get('metrics')).toBe(rest.join(','))
    } finally {
      await p.context().close()
    }
  })

  it('opens a metric onto one row per experiment with the API’s numbers, and folds it again', async () => {
    const p = await d.signedInPage({ viewport: LAPTOP })
    try {
      const asked = kpisAsked(p, KEYS)
      await p.goto(`${d.base}/?metrics=${KEYS.join(',')}`)
      const kpis: KpiReport = await (await asked).json()
      await tableShows(p, KEYS)
      for (const m of kpis.metrics.filter((x) => !x.unavailable)) {
        expect(m.programs.length, m.key).toBeGreaterThan(1)
        const row = p.locator(`tbody.metric[data-metric="${m.key}"]`)
        await row.getByRole('button', { name: new RegExp(`^Show ${m.programs.length} experiments`) }).click()
        const programs = p.locator(`tbody.programs[data-programs-of="${m.key}"]`)
        await programs.waitFor()
        const button = row.getByRole('button', { name: /^Hide/ })
        expect(await button.getAttribute('aria-expanded')).toBe('true')
        expect(await button.getAttribute('aria-controls')).toBe(await programs.getAttribute('id'))
        const shown = await shownRows(p, `tbody.programs[data-programs-of="${m.key}"]`)
        expect(shown.map((r) => r.experiment)).toEqual(m.programs.map((x) => x.experimentId))
        for (const [i, scope] of m.programs.entries()) {
          if (!scope.lift?.ci) continue
          expect(shown[i], `${m.key} ${scope.experimentId}`).toMatchObject({ name: scope.name, ...expectedRow(m, scope) })
        }
        await button.click()
        await programs.waitFor({ state: 'detached' })
      }
    } finally {
      await p.context().close()
    }
    expect(d.pageErrors).toEqual([])
  })

  it('keeps the KPIs and says why when a shared link names a metric the API refuses', async () => {
    const p = await d.signedInPage({ viewport: LAPTOP })
    try {
      await p.goto(`${d.base}/?metrics=${KEYS[0]},${RETIRED}`)
      await p.getByTestId('kpis').waitFor()
      const refused = p.getByTestId('metrics-refused')
      await refused.waitFor()
      expect(await refused.textContent()).toContain(`metric '${RETIRED}' is archived`)
      const asked = kpisAsked(p, [KEYS[0]])
      await p.getByRole('button', { name: `Remove ${RETIRED}` }).click()
      await asked
      await tableShows(p, [KEYS[0]])
    } finally {
      await p.context().close()
    }
  })

  for (const [name, viewport, mobile] of [
    ['390', PHONE_390, true],
    ['1280', LAPTOP, false],
  ] as const) {
    it(`keeps every lift and verdict on screen at ${name} px with a metric opened, and passes axe`, async () => {
      const p = await d.signedInPage({ viewport, isMobile: mobile, hasTouch: mobile })
      try {
        await p.goto(`${d.base}/?metrics=${KEYS.join(',')}`)
        await tableShows(p, KEYS)
        await p.locator(`tbody.metric[data-metric="${KEYS[0]}"]`).getByRole('button', { name: /^Show/ }).click()
        await p.locator(`tbody.programs[data-programs-of="${KEYS[0]}"]`).waitFor()
        await settled(p)
        expect(await p.locator('[data-testid="your-metrics"] [data-testid="verdict"]').count()).toBeGreaterThan(KEYS.length)
        if (mobile) {
          expect(await offScreen(p, viewport.width)).toEqual([])
          expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width)
        }
        expect(await seriousViolations(p), `at ${name} px`).toEqual([])
        await shot(p, `overview-metrics-opened-${name}`)
        await p.getByTestId('your-metrics').screenshot({ path: path.join(SHOTS, `overview-metrics-card-${name}.png`) })
      } finally {
        await p.context().close()
      }
    })
  }
})
