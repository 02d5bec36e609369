import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BrowserContext, Page } from 'playwright-core'
import { DESKTOP, PHONE, openDashboard, phoneOverflow, settled, shot, type Dashboard } from './browser.ts'
import { buildWorld, CART, DRAFT, EMPTY, SHIP, SRM, WINBACK } from './world.ts'
import { ADMIN_KEY } from '../helpers/harness.ts'

// The report half of the dashboard on a world built through the API (test/e2e/world.ts): the experiment
// report, the experiments list's lift column, the program overview, the offer library and the Triggers &
// policies page, each checked against the numbers the API answers.

let d: Dashboard
let desktop: BrowserContext
let page: Page
// The server's clock: the world moves it back in time so that exposures spread over past weeks.
let fixed: number | null = null
const api = (method: string, url: string, body?: unknown) => d.api(method, url, body)

const integer = (x: number) => Math.round(x).toLocaleString('en-US')
const signedPercent = (x: number) => {
  const r = Number((x * 100).toFixed(1))
  return `${r > 0 ? '+' : r < 0 ? '−' : ''}${Math.abs(r).toFixed(1)}%`
}
/** The verdict the table must print, by the rule stated independently of the UI's code. */
function expectedVerdict(c: any, higherIsBetter: boolean): string {
  if (c.notEstimable || c.estimate === null) return 'Not estimable'
  if (!c.significant) return 'Inconclusive'
  const up = c.estimate > 0
  return `Significant ${up ? '▲' : '▼'} ${up === higherIsBetter ? 'better' : 'worse'}`
}

beforeAll(async () => {
  d = await openDashboard({ now: () => fixed ?? Date.now() })
  const call = d.call
  const started = Date.now()
  const world = await buildWorld(call, { set: (ms) => (fixed = ms) }, { ch: d.h.ch })
  console.log(`test world: ${world.events} events in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  desktop = await d.browser.newContext({ viewport: DESKTOP, acceptDownloads: true })
  await desktop.addInitScript((key) => localStorage.setItem('rl.apiKey', key), ADMIN_KEY)
  page = d.watch(await desktop.newPage())
})

afterAll(async () => {
  await d?.close()
})

describe('experiment report', () => {
  it('renders the largest experiment: n per arm as the API counts them, one forest-plot row per comparison', async () => {
    const report = (await api('GET', `/v1/experiments/${WINBACK}/report`)).body
    // Enrolled customers; the report counts those whose 30-day window has ended (the rest are reported).
    expect(report.health.maturity.enrolled).toBeGreaterThan(20_000)
    expect(report.totalCustomers).toBe(report.health.maturity.enrolled - report.health.maturity.immature)

    // Time from the report's answer arriving to the table and the forest plot on screen (issue 7: < 1 s).
    await page.goto(`${d.base}/experiments/${WINBACK}`)
    const rendered = await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="metrics-table"]') && document.querySelectorAll('[data-testid="forest-plot"] g.row').length
          ? performance.now()
          : 0,
      null,
      { polling: 'raf', timeout: 15_000 },
    )
    const renderedAt = (await rendered.jsonValue()) as number
    const responseEnd = await page.evaluate((id) => {
      const entry = performance.getEntriesByType('resource').find((e) => e.name.endsWith(`/v1/experiments/${id}/report`)) as
        PerformanceResourceTiming | undefined
      return entry?.responseEnd ?? null
    }, WINBACK)
    expect(responseEnd).not.toBeNull()
    console.log(
      `report render: ${(renderedAt - responseEnd!).toFixed(0)} ms from the API's answer to the rendered table and forest plot (${WINBACK}, ${integer(report.totalCustomers)} customers, ${report.metrics.length} metrics)`,
    )

    for (const arm of report.arms) {
      const cell = page.locator(`tbody[data-metric="reactivation"] tr[data-arm="${arm.key}"] td.n`)
      expect(await cell.textContent()).toBe(integer(arm.n))
    }
    const vsControl = report.metrics.filter((m: any) => m.kind !== 'survival').flatMap((m: any) => m.comparisons.filter((c: any) => c.against === 'control'))
    expect(await page.locator('[data-testid="forest-plot"] g.row').count()).toBe(vsControl.length)

    // Every verdict in words, as the API's significance and the metric's direction say.
    for (const m of report.metrics) {
      for (const c of m.comparisons.filter((x: any) => x.against === 'control')) {
        const row = page.locator(`tbody[data-metric="${m.key}"] tr[data-arm="${c.variant}"]`)
        expect(await row.locator('.badge').textContent(), `${m.key} ${c.variant}`).toBe(expectedVerdict(c, m.higherIsBetter))
        // A relative lift reads as a percent; an absolute fallback (control at 0) in the metric's own units.
        if (c.estimate !== null && !c.notEstimable && c.kind === 'relative')
          expect(await row.locator('td.lift strong').textContent()).toBe(signedPercent(c.estimate))
      }
    }
    // The planted effects: 15% off lifts reactivation; free shipping drives unsubscribes up (a harm, in red).
    expect(await page.locator('tbody[data-metric="reactivation"] tr[data-arm="pct15"] .badge').textContent()).toBe('Significant ▲ better')
    expect(await page.locator('tbody[data-metric="unsubscribe"] tr[data-arm="freeship"] .badge.negative').textContent()).toBe('Significant ▲ worse')
    await page.getByTestId('srm-ok').waitFor()
    // (The API's own explanation says a relative lift "is undefined"; no number may read so.)
    expect((await page.locator('main').textContent())!.replaceAll('lift is undefined', '')).not.toMatch(/NaN|Infinity|undefined|null/)

    await page.locator('[data-testid="lift-over-time"] g.series').first().waitFor()
    expect(await page.locator('[data-testid="lift-over-time"] g.series').count()).toBe(2)
    expect(await page.locator('[data-testid="survival-curves"] g.curve').count()).toBe(report.arms.length)
    expect(await page.locator('[data-testid="economics"] article').count()).toBe(report.economics.filter((e: any) => e.against === 'control').length)
    const budget = report.decisioning.budget
    expect(await page.getByTestId('decisioning').textContent()).toContain(
      `$${budget.spent.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} spent of $20,000.00`,
    )
    await shot(page, 'experiment-report-1280')

    // Against the experiment holdout: the control is compared too.
    await page.getByText('vs holdout', { exact: true }).click()
    const vsHoldout = report.metrics.filter((m: any) => m.kind !== 'survival').flatMap((m: any) => m.comparisons.filter((c: any) => c.against === 'holdout'))
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="forest-plot"] g.row').length === n, vsHoldout.length)
    expect(await page.locator('tbody[data-metric="reactivation"] tr[data-arm="control"] .badge').count()).toBe(1)
    await page.getByText('vs control', { exact: true }).click()
  })

  it('exports the metrics table as CSV', async () => {
    const report = (await api('GET', `/v1/experiments/${WINBACK}/report`)).body
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()])
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${WINBACK}-report-\\d{4}-\\d{2}-\\d{2}\\.csv$`))
    const lines = fs
      .readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\r\n')
    expect(lines[0].split(',').slice(0, 6)).toEqual(['metric_key', 'metric', 'arm_key', 'arm', 'n', 'value'])
    const rows = report.metrics.reduce(
      (s: number, m: any) => s + report.arms.reduce((t: number, a: any) => t + Math.max(1, m.comparisons.filter((c: any) => c.variant === a.key).length), 0),
      0,
    )
    expect(lines).toHaveLength(1 + rows)
    const primary = report.metrics.find((m: any) => m.key === 'reactivation').comparisons.find((c: any) => c.variant === 'pct15' && c.against === 'control')
    const line = lines.find((l) => l.startsWith('reactivation,Reactivation rate,pct15,15% off,') && l.includes(',control,'))!
    expect(Number(line.split(',')[7])).toBe(primary.estimate)
  })

  it('recomputes the report, lift over time and breakdown for another outcome window', async () => {
    const api14 = (await api('GET', `/v1/experiments/${WINBACK}/report?window=14`)).body
    await page.getByTestId('report-window').selectOption('14')
    await page.getByText(/customers · 14-day window/).waitFor()
    const c = api14.metrics.find((m: any) => m.key === 'reactivation').comparisons.find((x: any) => x.variant === 'pct15' && x.against === 'control')
    await page.waitForFunction(
      (want) => document.querySelector('tbody[data-metric="reactivation"] tr[data-arm="pct15"] td.lift strong')?.textContent === want,
      signedPercent(c.estimate),
    )
    // The lift-over-time card asked for the same window.
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => /\/timeseries\?.*window=14/.test(e.name)))
    // Back to the experiment's own window.
    const own = (await api('GET', `/v1/experiments/${WINBACK}`)).body.analysis.attributionDays
    await page.getByTestId('report-window').selectOption(String(own))
    await page.getByText(new RegExp(`customers · ${own}-day window`)).waitFor()
  })

  it('breaks the report down by an attribute captured at assignment', async () => {
    const api_ = (await api('GET', `/v1/experiments/${WINBACK}/report?dimension=value_tier&metrics=reactivation`)).body
    // The quick picks are the attributes this experiment captured that split customers into a few groups.
    const captured = (await api('GET', `/v1/experiments/${WINBACK}/attributes`)).body.attributes
    const splittable = captured.filter((a: any) => a.values >= 2 && a.values <= 50).map((a: any) => a.key)
    expect(splittable).toContain('value_tier')
    const quick = page.getByTestId('breakdown-suggestions')
    await quick.getByRole('button', { name: splittable[0], exact: true }).waitFor()
    expect(await quick.getByRole('button').allTextContents()).toEqual(splittable.slice(0, 5))
    await page.locator('#breakdown-dimension').fill('value_tier')
    await page.getByRole('button', { name: 'Break down' }).click()
    await page.getByTestId('breakdown-table').waitFor()
    expect(await page.locator('[data-testid="breakdown-table"] tbody tr').count()).toBe(api_.breakdown.segments.length)
    const low = api_.breakdown.segments.find((s: any) => s.value === 'low')
    const lowTotal = low.arms.reduce((s: number, a: any) => s + a.n, 0)
    expect(await page.locator('[data-testid="breakdown-table"] tr[data-segment="low"] td').first().textContent()).toBe(integer(lowTotal))
    // Segments that respond differently (primary metric's lift, corrected across segments): the API's summary, and one
    // marker in each flagged segment's lift cell, with the difference from the other segments' lift.
    const het = api_.breakdown.heterogeneity
    expect(await page.getByTestId('heterogeneity-summary').textContent()).toBe(het.summary)
    const flagged = het.variants.flatMap((v: any) => v.segments.filter((s: any) => s.differs).map((s: any) => ({ ...s, variant: v.variant })))
    expect(await page.locator('[data-testid="breakdown-table"] [data-testid="responds-differently"]').count()).toBe(flagged.length)
    for (const s of flagged) {
      const arm = api_.arms.find((a: any) => a.key === s.variant).name
      const marker = page.locator(
        `[data-testid="breakdown-table"] tr[data-segment="${s.value}"] td[data-label="Lift: ${arm}"] [data-testid="responds-differently"]`,
      )
      expect(await marker.locator('.deviation').textContent()).toBe(`${signedPercent(s.deviation)} vs other segments’ ${signedPercent(s.rest.estimate)}`)
    }

    await page.locator('#breakdown-dimension').fill('no_such_attribute')
    await page.getByRole('button', { name: 'Break down' }).click()
    await page.getByText('No customer had').waitFor()

    // Free shipping was planted to work far better for low-value customers (test/e2e/world.ts): that segment is marked.
    const ship = (await api('GET', `/v1/experiments/${SHIP}/report?dimension=value_tier&metrics=reactivation`)).body.breakdown.heterogeneity
    const shipLow = ship.variants.find((v: any) => v.variant === 'freeship').segments.find((s: any) => s.value === 'low')
    expect(shipLow).toMatchObject({ differs: true, direction: 'above' })
    await page.goto(`${d.base}/experiments/${SHIP}`)
    await page.getByTestId('breakdown-suggestions').getByRole('button', { name: 'value_tier', exact: true }).click()
    await page.getByTestId('breakdown-table').waitFor()
    expect(await page.getByTestId('heterogeneity-summary').textContent()).toBe(ship.summary)
    const shipMarker = page.locator('[data-testid="breakdown-table"] tr[data-segment="low"] [data-testid="responds-differently"]')
    expect(await shipMarker.locator('.deviation').textContent()).toBe(
      `${signedPercent(shipLow.deviation)} vs other segments’ ${signedPercent(shipLow.rest.estimate)}`,
    )
    expect(await page.locator('[data-testid="breakdown-table"] [data-testid="responds-differently"]').count()).toBe(
      ship.variants.flatMap((v: any) => v.segments.filter((s: any) => s.differs)).length,
    )

    // A feature computed from events needs no attribute: the lapse stage each customer was at when first exposed.
    const byStage = (await api('GET', `/v1/experiments/${SHIP}/report?dimension=feature:lapse_stage&metrics=reactivation`)).body.breakdown
    expect(byStage.source).toEqual({ kind: 'feature', key: 'lapse_stage' })
    await page.getByTestId('breakdown-from-events').getByRole('button', { name: 'Lapse stage', exact: true }).click()
    await page.getByTestId('breakdown-source').waitFor()
    expect(await page.getByTestId('breakdown-source').textContent()).toMatch(/^Lapse stage at first exposure/)
    expect(await page.locator('[data-testid="breakdown-table"] tbody tr').count()).toBe(byStage.segments.length)
    for (const seg of byStage.segments)
      expect(await page.locator(`[data-testid="breakdown-table"] tr[data-segment="${seg.value}"] td`).first().textContent()).toBe(
        integer(seg.arms.reduce((s: number, a: any) => s + a.n, 0)),
      )
  })

  it('shows a loud SRM banner when the arm sizes are off', async () => {
    const report = (await api('GET', `/v1/experiments/${SRM}/report`)).body
    expect(report.srm.mismatch).toBe(true)
    await page.goto(`${d.base}/experiments/${SRM}`)
    const banner = page.getByTestId('srm-banner')
    await banner.waitFor()
    expect(await banner.getAttribute('role')).toBe('alert')
    expect(await banner.textContent()).toContain('do not trust these results yet')
    for (const arm of report.arms) expect(await banner.textContent()).toContain(integer(arm.n))
  })

  it('shows suppressions by reason, the exhausted budget and the enrolment it cut', async () => {
    const report = (await api('GET', `/v1/experiments/${CART}/report`)).body
    expect(report.decisioning.budget.exhaustedAt).toBeTruthy()
    expect(report.enrolledUntil).toBeTruthy()
    await page.goto(`${d.base}/experiments/${CART}`)
    await page.getByTestId('budget-exhausted').waitFor()
    await page.getByTestId('enrolled-until').waitFor()
    for (const [reason, n] of Object.entries(report.decisioning.suppressions)) {
      expect(await page.locator(`[data-testid="decisioning"] li[data-reason="${reason}"] .count`).textContent()).toBe(integer(n as number))
    }
    expect(await page.locator('tbody[data-metric="reactivation"] tr[data-arm="reminder"] td.n').textContent()).toBe(
      integer(report.arms.find((a: any) => a.key === 'reminder').n),
    )
    // An overrun (redemptions of offers issued before the cap) is flagged exactly when spend exceeds the budget.
    const { spent, amount } = report.decisioning.budget
    expect(await page.getByTestId('budget-overrun').count()).toBe(spent > amount ? 1 : 0)
    await settled(page)
    await shot(page, 'experiment-budget-1280')
  })

  it('welcomes a running experiment nobody is assigned to with an empty state, not zeros', async () => {
    await page.goto(`${d.base}/experiments/${EMPTY}`)
    await page.getByText('No customers assigned yet').waitFor()
    expect(await page.getByTestId('metrics-table').count()).toBe(0)
  })

  it('starts an experiment in the UI and shows customers assigned through the API in its report', async () => {
    await page.goto(`${d.base}/experiments/${DRAFT}`)
    await page.getByText('The report appears once the experiment is started').waitFor()
    await page.getByRole('button', { name: 'Start' }).click()
    await page.getByText('No customers assigned yet').waitFor()
    const res = await api('POST', '/v1/assign/batch', {
      experimentId: DRAFT,
      customers: Array.from({ length: 400 }, (_, i) => ({ customerId: `pilot-${i}`, attributes: { channel: i % 2 ? 'email' : 'sms' } })),
    })
    expect(res.status).toBe(200)
    await page.getByRole('button', { name: 'Check again' }).click()
    // Just assigned, every customer is inside their window: counted only once the reader asks for them.
    await page.getByTestId('include-immature').check()
    await page.getByTestId('metrics-table').waitFor()
    const counts = res.body.assignments
      .filter((a: any) => a.inExperiment)
      .reduce((m: Record<string, number>, a: any) => ({ ...m, [a.arm]: (m[a.arm] ?? 0) + 1 }), {})
    // The table reloads with the immature customers counted: wait for it rather than read the first paint.
    for (const [arm, n] of Object.entries(counts)) {
      await expect
        .poll(() => page.locator(`tbody[data-metric="reactivation"] tr[data-arm="${arm}"] td.n`).textContent(), { timeout: 15_000 })
        .toBe(integer(n as number))
    }
  })
})

describe('lists and program pages', () => {
  it('shows each running experiment’s primary lift and an SRM badge in the list', async () => {
    const winback = (await api('GET', `/v1/experiments/${WINBACK}/report?metrics=reactivation`)).body
    await page.goto(`${d.base}/experiments`)
    const cell = page.locator(`.lift-cell[data-experiment="${WINBACK}"]`)
    await page.locator(`.lift-cell[data-experiment="${WINBACK}"][data-state="loaded"]`).waitFor()
    for (const c of winback.metrics[0].comparisons.filter((x: any) => x.against === 'control')) {
      expect(await cell.textContent()).toContain(signedPercent(c.estimate))
    }
    await page.locator(`.lift-cell[data-experiment="${SRM}"][data-state="loaded"] .srm`).waitFor()
    expect(await page.locator(`.lift-cell[data-experiment="${WINBACK}"] .srm`).count()).toBe(0)
    // Each row loads its lift on its own: wait for this one too before reading it.
    await page.locator(`.lift-cell[data-experiment="${SHIP}"][data-state="loaded"]`).waitFor()
    expect(await page.locator(`.lift-cell[data-experiment="${SHIP}"]`).textContent()).toMatch(/%/)
  })

  it('gives executives the program KPIs against the global holdout, a weekly trend and the running experiments', async () => {
    await page.goto(`${d.base}/`)
    await page.getByTestId('kpis').waitFor()
    const kpis = (await api('GET', '/v1/kpis?days=90')).body
    const reactivation = await page.locator('[data-kpi="reactivation"]').textContent()
    expect(reactivation).toContain(`${(kpis.treated.reactivationRate * 100).toFixed(1)}%`)
    expect(reactivation).toContain(`vs ${(kpis.globalHoldout.reactivationRate * 100).toFixed(1)}% in the global holdout`)
    expect(reactivation).toContain(signedPercent(kpis.lift.reactivation.estimate))
    expect(await page.locator('[data-kpi="spend"] .value').textContent()).toMatch(/^\$/)
    // Each budgeted experiment's spend and open reservations as the API has them now.
    expect(kpis.budgets.length).toBeGreaterThan(0)
    for (const b of kpis.budgets) {
      const money = (x: number) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
      expect((await page.locator(`[data-testid="budget-status"][data-experiment="${b.experimentId}"]`).textContent())!.replace(/\s+/g, ' ')).toContain(
        `${money(b.spent)} spent + ${money(b.reserved)} reserved of ${money(b.amount)}`,
      )
    }
    // The bottom line comes first among the cards; the trend is one series of differences against the holdout.
    expect(await page.locator('[data-kpi]').first().getAttribute('data-kpi')).toBe('incremental-net-value')
    expect(await page.locator('[data-kpi="roi"] .ci').textContent()).toMatch(/\[.+%, .+%\]/)
    expect(await page.locator('[data-testid="weekly-trend"] g.series').count()).toBe(1)
    await page.locator(`.lift-cell[data-experiment="${WINBACK}"][data-state="loaded"]`).waitFor()
  })

  it('lists the segment–offer library and filters it by attribute', async () => {
    const library = (await api('GET', '/v1/library')).body
    expect(library.rows.length).toBeGreaterThan(3)
    await page.goto(`${d.base}/library`)
    await page.getByTestId('library-table').waitFor()
    expect(await page.locator('[data-testid="library-table"] tbody tr').count()).toBe(library.rows.length)
    await page.getByLabel('Segment by').selectOption('value_tier')
    const tiers = library.rows.filter((r: any) => r.dimension === 'value_tier')
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="library-table"] tbody tr').length === n, tiers.length)
    const low = tiers.find((r: any) => r.segment === 'low')
    expect(low.winner?.arm).toBe('freeship')
    expect(await page.locator('tr[data-dimension="value_tier"][data-segment="low"]').textContent()).toContain(signedPercent(low.winner.lift))
  })
})

describe('program overview for an executive (issue 18, item 1)', () => {
  const LAPTOP = { width: 1280, height: 800 }
  const PHONE_390 = { width: 390, height: 844 }

  /** Money figures in a text, each with half a unit of its last digit: "−$76.4K" → { value: −76,400, tolerance: 50 }. */
  function moneyFigures(text: string): Array<{ text: string; value: number; tolerance: number }> {
    return [...text.matchAll(/([+−-]?)\$(\d[\d,]*(?:\.(\d+))?)([KMB]?)/g)].map((m) => {
      const scale = { '': 1, K: 1e3, M: 1e6, B: 1e9 }[m[4] as '' | 'K' | 'M' | 'B']
      const value = Number(m[2].replace(/,/g, '')) * scale * (m[1] === '−' || m[1] === '-' ? -1 : 1)
      return { text: m[0], value, tolerance: (0.5 * scale) / 10 ** (m[3]?.length ?? 0) + 1e-6 }
    })
  }
  const near = (figure: { value: number; tolerance: number }, x: number) => Math.abs(figure.value - x) <= figure.tolerance
  /** The colour the interval allows, by the rule stated independently of the UI's code. */
  const toneOf = (ci: [number, number] | null) => (!ci ? 'sig-neutral' : ci[0] > 0 ? 'sig-positive' : ci[1] < 0 ? 'sig-negative' : 'sig-neutral')

  for (const [name, viewport, mobile] of [
    ['1280', LAPTOP, false],
    ['390', PHONE_390, true],
  ] as const) {
    it(`answers at ${name} px with the API's own sentence and numbers, and keeps every program's value on screen`, async () => {
      const p = await d.signedInPage({ viewport, isMobile: mobile, hasTouch: mobile, acceptDownloads: true })
      try {
        const answered = p.waitForResponse((r) => new URL(r.url()).pathname === '/v1/kpis')
        await p.goto(`${d.base}/`)
        // Time to first KPI, from navigation start to the headline on screen (issue 18 asks the test to print it).
        const shown = await p.waitForFunction(
          () => {
            const el = document.querySelector('[data-testid="kpi-headline"]')
            return el && el.getBoundingClientRect().height > 0 ? performance.now() : 0
          },
          null,
          { polling: 'raf', timeout: 30_000 },
        )
        console.log(`overview time to first KPI at ${name} px: ${Math.round((await shown.jsonValue()) as number)} ms (navigation start → headline visible)`)

        // The API's answer to the page's own query (asking again could land in the next minute, another period).
        const response = await answered
        expect(new URL(response.url()).searchParams.get('days')).toBe('90')
        const kpis = await response.json()
        const headline = p.getByTestId('kpi-headline')
        expect(await headline.textContent()).toBe(kpis.headline.text)
        expect(await headline.getAttribute('data-outcome')).toBe(kpis.headline.outcome)
        const { estimate, ci } = kpis.incrementalNetValue
        expect(kpis.headline.outcome).not.toBe('no_data')
        const said = moneyFigures(kpis.headline.text)
        expect(said.length, kpis.headline.text).toBeGreaterThanOrEqual(3)
        expect(near(said[0], estimate), `${said[0].text} vs ${estimate}`).toBe(true)
        expect(near(said[1], ci[0]), `${said[1].text} vs ${ci[0]}`).toBe(true)
        expect(near(said[2], ci[1]), `${said[2].text} vs ${ci[1]}`).toBe(true)

        // The bottom-line card shows the same estimate and interval, in one scale, coloured as its interval allows.
        const card = p.locator('[data-kpi="incremental-net-value"]')
        const [value] = moneyFigures((await card.getByTestId('net-value').textContent())!)
        expect(near(value, estimate), `${value.text} vs ${estimate}`).toBe(true)
        const ends = moneyFigures((await card.getByTestId('net-value-ci').textContent())!)
        expect(ends.map((e, i) => near(e, ci[i]))).toEqual([true, true])
        expect(new Set([value, ...ends].map((f) => f.text.replace(/[^KMB]/g, ''))).size).toBe(1)
        expect(await card.getByTestId('net-value').getAttribute('class')).toContain(toneOf(ci))

        // One row per experiment, in the API's order, and no value, verdict or number outside the screen.
        const rows = p.locator('[data-testid="program-breakdown"] tbody tr')
        expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-program')))).toEqual(kpis.programs.map((x: any) => x.experimentId))
        for (const [i, program] of kpis.programs.entries()) {
          const cell = rows.nth(i).getByTestId('program-value')
          expect(await cell.locator('strong').getAttribute('class')).toContain(toneOf(program.incrementalNetValue.ci))
          expect(await rows.nth(i).getByTestId('program-treated').textContent()).toBe(integer(program.treated.n))
        }
        for (const cell of await p.locator('[data-testid="program-breakdown"] td').all()) {
          const box = (await cell.boundingBox())!
          expect(box.x, `${await cell.textContent()}`).toBeGreaterThanOrEqual(-0.5)
          expect(box.x + box.width, `${await cell.textContent()}`).toBeLessThanOrEqual(viewport.width + 0.5)
        }

        // The trend: one point per week with an estimate, at most one tick per week (fewer on a phone).
        const trend = p.getByTestId('weekly-trend')
        const withValue = (key: string) => kpis.weekly.filter((w: any) => w[key].estimate !== null).length
        await p.waitForFunction((n) => document.querySelectorAll('[data-testid="weekly-trend"] circle.point').length === n, withValue('incrementalNetValue'))
        const first = Date.parse(`${kpis.weekly[0].week}T00:00:00Z`)
        const last = Date.parse(`${kpis.weekly.at(-1).week}T00:00:00Z`)
        const weeks = Math.round((last - first) / (7 * 86_400_000)) + 1
        const ticks = await trend.locator('g.axis.x .tick').count()
        expect(ticks).toBeGreaterThan(0)
        expect(ticks).toBeLessThanOrEqual(mobile ? Math.min(weeks, 6) : weeks)
        expect(await trend.locator('circle.point title').first().textContent()).toMatch(
          /^Week of .+: .+ \[.+\] \(95% interval\) · [\d,]+ treated, [\d,]+ in the global holdout$/,
        )
        await p.locator('#trend-metric').selectOption('reactivation')
        await p.waitForFunction(
          (n) => document.querySelectorAll('[data-testid="weekly-trend"][data-kind="lift"] circle.point').length === n,
          withValue('reactivationLift'),
        )
        await p.locator('#trend-metric').selectOption('net')
        await shot(p, `overview-executive-${name}`)

        if (!mobile) {
          // For a slide: the numbers as CSV, the headline and the trend as a picture.
          const [csv] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: 'Download CSV' }).click()])
          expect(csv.suggestedFilename()).toMatch(/^retention-program-\d{4}-\d{2}-\d{2}\.csv$/)
          const lines = fs
            .readFileSync((await csv.path())!, 'utf8')
            .trimEnd()
            .split('\r\n')
          expect(lines[1]).toContain(kpis.headline.text.includes('"') ? kpis.headline.text.replaceAll('"', '""') : kpis.headline.text)
          expect(lines.filter((l) => l.startsWith('program,'))).toHaveLength(kpis.programs.length)
          const [png] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: 'Download PNG' }).click()])
          expect(png.suggestedFilename()).toMatch(/^retention-program-\d{4}-\d{2}-\d{2}\.png$/)
          const bytes = fs.readFileSync((await png.path())!)
          expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
          expect(bytes.length).toBeGreaterThan(10_000)
        }
      } finally {
        await p.context().close()
      }
    })
  }
})

describe('triggers and policies', () => {
  it('creates a trigger with tiers, and a policy after showing the API’s message for a negative cap', async () => {
    await page.goto(`${d.base}/triggers`)
    await page.getByTestId('triggers-table').waitFor()
    await page.locator('#field-trigger-key').fill('plan_downgrade')
    await page.locator('#field-trigger-name').fill('Plan downgrade started')
    await page.locator('#field-trigger-tiers').fill('low, high')
    await page.getByRole('button', { name: 'Create trigger' }).click()
    await page.locator('tr[data-trigger="plan_downgrade"]').waitFor()
    expect((await api('GET', '/v1/triggers/plan_downgrade')).body.tiers).toEqual(['low', 'high'])

    await page.getByRole('button', { name: 'New policy' }).click()
    await page.locator('#field-policy-id').fill('weekly-points')
    await page.locator('#field-policy-name').fill('Points at most weekly')
    await page.locator('#field-policy-maxIncentives').fill('-1')
    await page.locator('#field-policy-windowDays').fill('7')
    await page.getByRole('button', { name: 'Create policy' }).click()
    const error = page.locator('#field-policy-maxIncentives-error')
    await error.waitFor()
    expect(await error.textContent()).toContain('maxIncentives must not be negative')
    expect(await page.locator('#field-policy-maxIncentives').getAttribute('aria-invalid')).toBe('true')
    await shot(page, 'triggers-policy-error-1280')
    expect((await api('GET', '/v1/policies')).body.policies.map((p: any) => p.id)).not.toContain('weekly-points')

    await page.locator('#field-policy-maxIncentives').fill('1')
    await page.getByRole('button', { name: 'Create policy' }).click()
    await page.locator('li[data-policy="weekly-points"]').waitFor()
    expect((await api('GET', '/v1/policies')).body.policies.find((p: any) => p.id === 'weekly-points')).toMatchObject({
      maxIncentives: 1,
      windowDays: 7,
      offerTypes: 'all',
    })

    await page.getByRole('button', { name: 'Edit Points at most weekly' }).click()
    await page.locator('#field-policy-edit-cooldownDays').fill('3')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.locator('li[data-policy="weekly-points"]').getByText('3-day cooldown after a redemption').waitFor()
    expect((await api('GET', '/v1/policies')).body.policies.find((p: any) => p.id === 'weekly-points').cooldownDays).toBe(3)

    await page.getByRole('button', { name: 'Delete Points at most weekly' }).click()
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.locator('li[data-policy="weekly-points"]').waitFor({ state: 'detached' })
    expect((await api('GET', '/v1/policies')).body.policies.map((p: any) => p.id)).not.toContain('weekly-points')
  })

  it('binds a new experiment to a trigger with per-tier offers and a budget', async () => {
    await page.goto(`${d.base}/experiments/new`)
    await page.locator('#field-name').fill('Downgrade save offers')
    await page.locator('#field-trigger').selectOption('plan_downgrade')
    await page.locator('#field-arms-1-tierOffers [data-tier="high"] input[type="checkbox"]').check()
    await page.locator('#field-arms-1-tierOffers-high-type').selectOption('none')
    await page.locator('#field-arms-1-tierOffers [data-tier="low"] input[type="checkbox"]').check()
    await page.locator('#field-arms-1-tierOffers-low-value').fill('25')
    await page.locator('#field-priority').fill('3')
    await page.getByLabel('Incentive budget').check()
    await page.locator('#field-budget-amount').fill('-10')
    await page.getByRole('button', { name: 'Create draft' }).click()
    await page.locator('#field-budget-amount-error').waitFor()
    expect(await page.getByTestId('error-summary').textContent()).toContain('must not be negative')

    await page.locator('#field-budget-amount').fill('2500')
    await page.locator('#field-budget-maxCostPerIncrementalConversion').fill('30')
    await shot(page, 'new-experiment-trigger-1280')
    await page.getByRole('button', { name: 'Create draft' }).click()
    await page.waitForURL(`${d.base}/experiments/downgrade-save-offers`)
    const created = (await api('GET', '/v1/experiments/downgrade-save-offers')).body
    expect(created).toMatchObject({ trigger: 'plan_downgrade', priority: 3, budget: { amount: 2500, currency: 'USD', maxCostPerIncrementalConversion: 30 } })
    expect(created.arms[1].tierOffers).toEqual({ high: { type: 'none', value: 0 }, low: { type: 'percent_off', value: 25 } })
    await page.getByText('high intent: No incentive').waitFor()
  })
})

describe('screenshots', () => {
  it('writes every page of the populated world at 1280 px and 375 px, without horizontal overflow on a phone', async () => {
    const pages: Array<[string, string]> = [
      ['overview', '/'],
      ['experiments', '/experiments'],
      ['experiment-report', `/experiments/${WINBACK}`],
      ['experiment-budget', `/experiments/${CART}`],
      ['experiment-srm', `/experiments/${SRM}`],
      ['experiment-stopped', `/experiments/${SHIP}`],
      ['experiment-empty-report', `/experiments/${EMPTY}`],
      ['new-experiment', '/experiments/new'],
      ['library', '/library'],
      ['triggers', '/triggers'],
      ['settings', '/settings'],
    ]
    const phone = await d.browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })
    await phone.addInitScript((key) => localStorage.setItem('rl.apiKey', key), ADMIN_KEY)
    const small = d.watch(await phone.newPage())
    for (const [name, url] of pages) {
      for (const [p, width] of [
        [page, DESKTOP.width],
        [small, PHONE.width],
      ] as const) {
        await p.goto(d.base + url)
        await settled(p)
        // Lift cells load as they scroll into view: those on screen should have their numbers in the picture.
        await p
          .locator('.lift-cell[data-state="loading"]')
          .first()
          .waitFor({ state: 'detached', timeout: 3_000 })
          .catch(() => undefined)
        await shot(p, `${name}-${width}`)
      }
      expect(await phoneOverflow(small), `${url} is wider than the phone screen`).toBeLessThanOrEqual(0)
    }
    await phone.close()
    expect(d.pageErrors).toEqual([])
  })
})
