import axe from 'axe-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { openDashboard, settled, shot, type Dashboard } from './browser.ts'
import { buildWorld, CART, DRAFT, SHIP, SRM, WINBACK } from './world.ts'

// Every dashboard page on a laptop and on a phone, audited by axe-core in Chromium (issue 18, item 4): no
// serious or critical violation (contrast among them), and on a phone no verdict or lift outside the screen,
// neither cut off nor hidden in a sideways scroll.

const LAPTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

/** What a reader must see without scrolling sideways: lifts and verdicts, in every table and list. */
const LIFT_OR_VERDICT = '.lift, .lift-cell, .badge, [data-testid="verdict"]'

interface Visit {
  name: string
  url: string
  /** Waits for the page's own content, then opens what is folded, so that axe sees it too. */
  ready(p: Page): Promise<void>
}

/** A catalogue metric of the analysts' own, whose page offers a preview on an experiment. */
const A11Y_METRIC = 'orders_30d'

const VISITS: Visit[] = [
  { name: 'overview', url: '/', ready: (p) => p.getByTestId('kpis').waitFor() },
  { name: 'experiments', url: '/experiments', ready: (p) => p.locator('tr[data-experiment]').first().waitFor() },
  {
    name: 'report',
    url: `/experiments/${WINBACK}`,
    async ready(p) {
      await p.getByTestId('metrics-table').waitFor()
      await p.getByTestId('breakdown-suggestions').getByRole('button', { name: 'value_tier', exact: true }).click()
      await p.getByTestId('breakdown-table').waitFor()
    },
  },
  { name: 'report-budget', url: `/experiments/${CART}`, ready: (p) => p.getByTestId('metrics-table').waitFor() },
  { name: 'report-srm', url: `/experiments/${SRM}`, ready: (p) => p.getByTestId('srm-banner').waitFor() },
  { name: 'report-stopped', url: `/experiments/${SHIP}`, ready: (p) => p.getByTestId('metrics-table').waitFor() },
  { name: 'draft', url: `/experiments/${DRAFT}`, ready: (p) => p.getByText('The report appears once the experiment is started').waitFor() },
  { name: 'new-experiment', url: '/experiments/new', ready: (p) => p.locator('#field-name').waitFor() },
  { name: 'library', url: '/library', ready: (p) => p.getByTestId('library-table').waitFor() },
  { name: 'metrics', url: '/metrics', ready: (p) => p.locator('tr[data-metric]').first().waitFor() },
  { name: 'new-metric', url: '/metrics/new', ready: (p) => p.locator('#field-name').waitFor() },
  {
    name: 'metric',
    url: `/metrics/${A11Y_METRIC}`,
    async ready(p) {
      await p.locator('#preview-experiment').selectOption(WINBACK)
      await p.getByRole('button', { name: 'Preview', exact: true }).click()
      await p.getByTestId('preview-table').waitFor()
    },
  },
  { name: 'triggers', url: '/triggers', ready: (p) => p.getByTestId('triggers-table').waitFor() },
  { name: 'settings', url: '/settings', ready: (p) => p.locator('#audit-title').waitFor() },
  { name: 'not-found', url: '/no/such/page', ready: (p) => p.getByText('Page not found').waitFor() },
]

let d: Dashboard
let fixed: number | null = null
const pages: Record<'laptop' | 'phone', Page> = {} as never

beforeAll(async () => {
  d = await openDashboard({ now: () => fixed ?? Date.now() })
  await buildWorld(d.call, { set: (ms) => (fixed = ms) }, { ch: d.h.ch, winbackCustomers: 8_000 })
  const metric = {
    key: A11Y_METRIC,
    name: 'Orders in 30 days',
    kind: 'mean',
    source: { eventTypes: ['purchase'] },
    value: { of: 'count' },
    window: { endDays: 30 },
  }
  expect((await d.call('POST', '/v1/metrics', { ...metric, tags: ['orders'], owner: 'crm-analytics' })).status).toBe(201)
  pages.laptop = await d.signedInPage({ viewport: LAPTOP })
  pages.phone = await d.signedInPage({ viewport: PHONE, isMobile: true, hasTouch: true })
})

afterAll(async () => {
  await d?.close()
})

/** Opens a page, waits for its content and for every list lift that loads as it scrolls into view. */
async function visit(p: Page, v: Visit) {
  await p.goto(d.base + v.url)
  await v.ready(p)
  await settled(p)
  await p.evaluate(() => document.querySelectorAll('details').forEach((el) => (el.open = true)))
  for (const cell of await p.locator('.lift-cell').all()) {
    await cell.scrollIntoViewIfNeeded()
    await cell.locator('.placeholder').waitFor({ state: 'detached' })
  }
  // Scrolling a cell into view scrolls its table sideways too: back to where a reader starts.
  await p.evaluate(() => {
    document.querySelectorAll('*').forEach((el) => {
      if (el.scrollLeft) el.scrollLeft = 0
    })
    window.scrollTo(0, 0)
  })
}

interface Finding {
  id: string
  impact: string
  help: string
  nodes: string[]
}

/** axe-core's violations of impact serious or critical. Evaluated through the DevTools protocol, which the CSP does not govern. */
async function seriousViolations(p: Page): Promise<Finding[]> {
  if (!(await p.evaluate(() => 'axe' in window))) await p.evaluate(axe.source)
  return p.evaluate(async () => {
    const results = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] })
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact!,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`),
      }))
  })
}

/** Lift and verdict elements whose box is not wholly inside the viewport's width. */
async function cutOff(p: Page, width: number) {
  return p.locator(LIFT_OR_VERDICT).evaluateAll(
    (els, w) =>
      els
        .map((el) => ({ el, box: el.getBoundingClientRect() }))
        .filter(({ box }) => box.width > 0 && (box.left < -0.5 || box.right > w + 0.5))
        .map(
          ({ el, box }) =>
            `${el.className || el.getAttribute('data-testid')} "${el.textContent?.trim().slice(0, 40)}" at ${Math.round(box.left)}–${Math.round(box.right)} px`,
        ),
    width,
  )
}

const report = (page: string, width: number, found: Finding[]) =>
  found.map((f) => `${page} at ${width} px: ${f.impact} ${f.id} (${f.help})\n    ${f.nodes.join('\n    ')}`).join('\n')

describe('accessibility at 1280 px', () => {
  for (const v of VISITS) {
    it(`${v.name}: axe finds nothing serious or critical`, async () => {
      const p = pages.laptop
      await visit(p, v)
      const found = await seriousViolations(p)
      if (found.length) console.log(report(v.name, LAPTOP.width, found))
      expect(found.map((f) => f.id)).toEqual([])
    })
  }
})

describe('accessibility at 390 px', () => {
  for (const v of VISITS) {
    it(`${v.name}: axe finds nothing serious or critical, and every lift and verdict is on screen`, async () => {
      const p = pages.phone
      await visit(p, v)
      const found = await seriousViolations(p)
      if (found.length) console.log(report(v.name, PHONE.width, found))
      expect(await cutOff(p, PHONE.width), `${v.url}: lift or verdict outside the ${PHONE.width} px screen`).toEqual([])
      expect(found.map((f) => f.id)).toEqual([])
      // The layout viewport stays the device's: nothing widens the page.
      const wide = await p.evaluate((w) => {
        const out: string[] = []
        document.querySelectorAll('body *').forEach((el) => {
          const box = el.getBoundingClientRect()
          if (box.right > w + 0.5 && out.length < 5) out.push(`${el.tagName.toLowerCase()}.${el.className} to ${Math.round(box.right)} px`)
        })
        return out
      }, PHONE.width)
      expect(await p.evaluate(() => document.documentElement.scrollWidth), wide.join('; ')).toBeLessThanOrEqual(PHONE.width)
      if (['experiments', 'library', 'report'].includes(v.name)) await shot(p, `a11y-${v.name}-390`)
    })
  }

  it('shows every arm of the list in full, not cut to an ellipsis', async () => {
    const p = pages.phone
    await visit(
      p,
      VISITS.find((v) => v.name === 'experiments')!,
    )
    const clipped = await p.locator('.lift-cell .arm').evaluateAll((els) => els.filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent))
    expect(clipped).toEqual([])
    expect(await p.locator('.lift-cell .arm').count()).toBeGreaterThan(0)
    expect(d.pageErrors).toEqual([])
  })
})

describe('what a reader needs beside the numbers', () => {
  it('lists recent changes newest first, by when they happened', async () => {
    const p = pages.laptop
    await visit(
      p,
      VISITS.find((v) => v.name === 'settings')!,
    )
    const times = await p.locator('[data-testid="audit-log"] tbody tr').evaluateAll((rows) => rows.map((r) => Date.parse(r.getAttribute('data-at')!)))
    expect(times.length).toBeGreaterThan(3)
    expect(times).toEqual([...times].sort((a, b) => b - a))
  })

  it('names the arm of a lift that did not win, and shows no segment that is all customers again', async () => {
    const library = (await d.api('GET', '/v1/library')).body
    const p = pages.laptop
    await visit(
      p,
      VISITS.find((v) => v.name === 'library')!,
    )
    const experiment = (await d.api('GET', `/v1/experiments/${SHIP}`)).body
    for (const r of library.rows.filter((x: any) => !x.winner && x.experimentId === SHIP)) {
      const top = r.comparisons.filter((c: any) => c.estimate !== null).sort((a: any, b: any) => b.estimate - a.estimate)[0]
      const name = experiment.arms.find((a: any) => a.key === top.variant).name
      await p.locator(`tr[data-dimension="${r.dimension}"][data-segment="${r.segment}"] [data-testid="lift-arm"]`).getByText(name).waitFor()
    }
    expect(await p.locator('[data-testid="library-table"] tbody tr').count()).toBe(library.rows.length)

    // An attribute the experiment's targeting fixed (every customer has country = US) would be all customers again.
    const all = library.rows.find((r: any) => r.experimentId === SHIP && r.dimension === '(all)')
    await p.route('**/v1/library', (route) => route.fulfill({ json: { ...library, rows: [...library.rows, { ...all, dimension: 'country', segment: 'US' }] } }))
    try {
      await visit(
        p,
        VISITS.find((v) => v.name === 'library')!,
      )
      expect(await p.locator('[data-testid="library-table"] tbody tr').count()).toBe(library.rows.length)
      expect(await p.locator('tr[data-dimension="country"]').count()).toBe(0)
    } finally {
      await p.unroute('**/v1/library')
    }
  })

  it('says next to an inconclusive arm’s chance of being better that it is not a verdict', async () => {
    const p = pages.laptop
    await visit(
      p,
      VISITS.find((v) => v.name === 'report')!,
    )
    const inconclusive = p.locator('tr[data-arm]:has([data-testid="verdict"][data-significant="false"]) td.chance', { hasText: '%' })
    expect(await inconclusive.count()).toBeGreaterThan(0)
    for (const cell of await inconclusive.all()) expect(await cell.textContent()).toMatch(/%\s*not a verdict/)
    expect(d.pageErrors).toEqual([])
  })
})
