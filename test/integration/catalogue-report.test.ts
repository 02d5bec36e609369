import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { changedTables, openStoreCounter } from '../helpers/store-counts.ts'
import { getExperiment } from '../../api/experiments/store.ts'
import { MetricDefinitionInput } from '../../api/metrics/schema.ts'
import type { CompilableMetric, MeanMetric, QuantileMetric } from '../../api/metrics/compile.ts'
import { metricArmValues } from '../../api/metrics/arm-values.ts'
import { experimentReport } from '../../api/reports/experiment-report.ts'
import { resolveCatalogueMetrics } from '../../api/reports/catalogue-metrics.ts'
import { offerLibrary } from '../../api/reports/library.ts'
import type { RawEvent } from '../helpers/raw-event.ts'

/**
 * Catalogue metrics in the experiment report (issue 17, item 3): an experiment pins catalogue metrics by key and
 * version; its report shows them as secondary metrics with the numbers of metricArmValues (and of a brute force
 * over the raw events), adjusted with the built-in secondary metrics; later versions leave the report as it was.
 */

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')
const AS_OF = T0 + 75 * DAY
const EXP = 'cat-report'
let clock = T0
let h: Harness

const draft = {
  shoes: {
    key: 'shoe_buyers_30',
    name: 'Bought shoes within 30 days',
    kind: 'proportion',
    source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'category', op: 'eq', value: 'shoes' }] },
    window: { endDays: 30 },
  },
  tickets: {
    key: 'tickets_30',
    name: 'Support tickets per customer',
    kind: 'mean',
    direction: 'lower',
    source: { eventTypes: ['support_ticket'] },
    value: { of: 'count' },
    window: { endDays: 30 },
  },
  severity: {
    key: 'severity_30',
    name: 'Ticket severity per customer',
    kind: 'mean',
    source: { eventTypes: ['support_ticket'] },
    value: { of: 'property', path: 'severity' },
    window: { endDays: 30 },
  },
  perTicket: { key: 'severity_per_ticket', name: 'Severity per ticket', kind: 'ratio', numerator: 'severity_30', denominator: 'tickets_30' },
}
const parse = (x: object) => MetricDefinitionInput.parse(x)
const shoesV2 = { ...draft.shoes, source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'category', op: 'in', values: ['bags', 'hats'] }] } }
const severityV2 = { ...draft.severity, window: { endDays: 14 } }

const exposures = new Map<string, Map<string, { arm: string; t0: number }>>([[EXP, new Map()]])
const events: RawEvent[] = []
const ids = Array.from({ length: 2400 }, (_, i) => `cust-${i}`)

/** An attribute captured at assignment, for the breakdown. */
const tierOf = (id: string) => (Number(id.split('-')[1]) % 3 === 0 ? 'gold' : 'silver')

async function assign(experimentId: string, customers: string[]) {
  const res = await h.call('POST', '/v1/assign/batch', {
    experimentId,
    customers: customers.map((customerId) => ({ customerId, attributes: { tier: tierOf(customerId) } })),
  })
  expect(res.status).toBe(200)
  const seen = exposures.get(experimentId) ?? new Map()
  exposures.set(experimentId, seen)
  for (const a of res.body.assignments) if (a.inExperiment && !seen.has(a.customerId)) seen.set(a.customerId, { arm: a.arm, t0: clock })
}

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  for (const d of [draft.shoes, draft.tickets, draft.severity, draft.perTicket]) expect((await h.call('POST', '/v1/metrics', d)).status).toBe(201)
  const created = await h.call('POST', '/v1/experiments', {
    id: EXP,
    name: 'Catalogue in the report',
    holdoutPct: 0.1,
    arms: [
      { key: 'control', name: 'Message only', weight: 0.5, isControl: true },
      { key: 'offer', name: '20% off', weight: 0.5, offer: { type: 'percent_off', value: 20, unitCost: 5 } },
    ],
    analysis: {
      catalogueMetrics: [{ key: 'shoe_buyers_30' }, { key: 'tickets_30' }, { key: 'severity_per_ticket' }],
      cuped: { enabled: true, lookbackDays: 60 },
    },
  })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  await h.call('POST', `/v1/experiments/${EXP}/start`)

  for (let day = 0; day < 30; day++) {
    clock = T0 + day * DAY + 7_200_000
    await assign(
      EXP,
      ids.filter((_, i) => i % 30 === day),
    )
  }
  // Events around each customer's exposure; the offer arm buys more shoes and writes more tickets.
  const rand = mulberry32(1701)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]
  let n = 0
  for (const id of ids) {
    const x = exposures.get(EXP)!.get(id)
    const base = x?.t0 ?? T0 + 15 * DAY
    const treated = x?.arm === 'offer'
    const k = Math.floor(rand() * 9)
    for (let j = 0; j < k; j++) {
      const ts = base + Math.round((rand() * 110 - 40) * DAY)
      const e: RawEvent = { eventId: `e${n++}`, customerId: id, type: 'purchase', ts }
      const t = rand()
      if (t < 0.45) {
        e.revenue = Math.round(Math.exp(2.5 + rand()) * 100) / 100
        if (rand() < 0.85) e.properties = { category: rand() < (treated ? 0.5 : 0.3) ? 'shoes' : pick(['bags', 'hats']) }
      } else if (t < 0.8 + (treated ? 0.08 : 0)) {
        e.type = 'support_ticket'
        e.properties = { channel: pick(['email', 'chat']), ...(rand() < 0.9 ? { severity: 1 + Math.floor(rand() * 5) } : {}) }
      } else if (t < 0.93) {
        e.type = 'offer_redeemed'
        e.cost = 5
        e.experimentId = EXP
      } else e.type = 'unsubscribe'
      events.push(e)
    }
  }
  for (let i = 0; i < events.length; i += 5000) expect((await h.call('POST', '/v1/events', events.slice(i, i + 5000))).status).toBe(200)
  clock = AS_OF + DAY
}, 180_000)
afterAll(() => h?.close())

// ——— Brute force over the raw events (docs/metrics.md) ———

type Def = ReturnType<typeof parse>
const inWindow = (dt: number, endDays: number) => dt >= 0 && dt < endDays * DAY

function qualifying(def: Exclude<Def, { kind: 'ratio' | 'quantile' }>, e: RawEvent): boolean {
  if (!def.source.eventTypes.includes(e.type)) return false
  return def.source.filters.every((f) => {
    const v = f.on === 'property' ? e.properties?.[f.path] : undefined
    if (f.op === 'eq') return v === f.value
    if (f.op === 'in') return f.values.includes(v as string)
    throw new Error(`the brute force does not know ${f.op}`)
  })
}

function perCustomer(def: MeanMetric, id: string, t0: number): number {
  return events
    .filter((e) => e.customerId === id && e.ts <= AS_OF && inWindow(e.ts - t0, def.window.endDays) && qualifying(def, e))
    .reduce((s, e) => s + (def.value.of === 'count' ? 1 : def.value.of === 'property' ? Number(e.properties?.[def.value.path] ?? 0) : 0), 0)
}

/** Per arm: customers counted and the value, from the raw events. */
function bruteForce(
  experimentId: string,
  def: Def,
  parts?: { numerator: MeanMetric; denominator: MeanMetric },
  only: (id: string) => boolean = () => true,
): Map<string, { n: number; value: number }> {
  const out = new Map<string, { n: number; num: number; den: number }>()
  for (const [id, { arm, t0 }] of exposures.get(experimentId)!) {
    if (!only(id)) continue
    const ends = def.kind === 'ratio' ? [parts!.numerator.window.endDays, parts!.denominator.window.endDays] : [(def as MeanMetric).window.endDays]
    if (ends.some((d) => t0 + d * DAY > AS_OF)) continue
    const a = out.get(arm) ?? { n: 0, num: 0, den: 0 }
    a.n++
    if (def.kind === 'proportion') {
      const count = events.filter((e) => e.customerId === id && e.ts <= AS_OF && inWindow(e.ts - t0, def.window.endDays) && qualifying(def, e)).length
      a.num += count >= def.minEvents ? 1 : 0
    } else if (def.kind === 'mean') a.num += perCustomer(def, id, t0)
    else if (def.kind === 'ratio') {
      a.num += perCustomer(parts!.numerator, id, t0)
      a.den += perCustomer(parts!.denominator, id, t0)
    }
    out.set(arm, a)
  }
  return new Map([...out].map(([arm, a]) => [arm, { n: a.n, value: def.kind === 'ratio' ? a.num / a.den : a.num / a.n }]))
}

/** Benjamini–Hochberg adjusted p-values, written out: p̃₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎/j). */
function bh(ps: number[]): number[] {
  const m = ps.length
  const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p)
  const out = new Array<number>(m)
  let running = 1
  for (let r = m; r >= 1; r--) {
    running = Math.min(running, Math.min(1, (m * order[r - 1].p) / r))
    out[order[r - 1].i] = running
  }
  return out
}

/** Holm adjusted p-values: p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎). */
function holm(ps: number[]): number[] {
  const m = ps.length
  const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p)
  const out = new Array<number>(m)
  let running = 0
  order.forEach(({ p, i }, j) => {
    running = Math.max(running, Math.min(1, (m - j) * p))
    out[i] = running
  })
  return out
}

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b))
const report = async (query = '') => {
  const res = await h.call('GET', `/v1/experiments/${EXP}/report?asOf=${AS_OF}${query}`)
  expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(200)
  return res.body
}
const withoutTimes = ({ generatedAt: _g, ...rest }: Record<string, unknown>) => rest
const catalogueOf = (body: any) => body.metrics.filter((m: any) => m.catalogue)

describe('an experiment referencing catalogue metrics', () => {
  it('pins each to the latest version when saved', async () => {
    const exp = await getExperiment(h.db, EXP)
    expect(exp.analysis.catalogueMetrics).toEqual([
      { key: 'shoe_buyers_30', version: 1 },
      { key: 'tickets_30', version: 1 },
      { key: 'severity_per_ticket', version: 1 },
    ])
  })

  it('shows them in the report as secondary metrics with the per-arm n and values of metricArmValues and of the raw events', async () => {
    const body = await report()
    const exp = await getExperiment(h.db, EXP)
    const parts = { numerator: parse(draft.severity) as MeanMetric, denominator: parse(draft.tickets) as MeanMetric }
    const defs = [parse(draft.shoes), parse(draft.tickets), { ...parse(draft.perTicket), parts }] as CompilableMetric[]
    const direct = await metricArmValues(h.ch, exp, defs, { asOf: AS_OF }, clock)
    const shown = catalogueOf(body)
    expect(shown.map((m: any) => [m.key, m.catalogue, m.kind, m.format, m.higherIsBetter, m.isPrimary, m.isGuardrail])).toEqual([
      ['shoe_buyers_30', { key: 'shoe_buyers_30', version: 1 }, 'proportion', 'percent', true, false, false],
      ['tickets_30', { key: 'tickets_30', version: 1 }, 'mean', 'number', false, false, false],
      ['severity_per_ticket', { key: 'severity_per_ticket', version: 1 }, 'ratio', 'number', true, false, false],
    ])
    // After the eleven built-in metrics (twelve keys), in the experiment's order.
    expect(body.metrics.slice(0, 12).every((m: any) => !m.catalogue)).toBe(true)
    shown.forEach((m: any, i: number) => {
      const want = direct.metrics[i]
      const brute = bruteForce(EXP, defs[i], i === 2 ? parts : undefined)
      expect(m.values.map((v: any) => v.arm)).toEqual(['holdout', 'control', 'offer'])
      for (const v of m.values) {
        const d = want.values.find((x) => x.arm === v.arm)!
        expect(v.n, `${m.key} ${v.arm}`).toBe(d.n)
        expect(close(v.value, d.value!), `${m.key} ${v.arm}: ${v.value} vs ${d.value}`).toBe(true)
        expect(v.n, `${m.key} ${v.arm} brute force`).toBe(brute.get(v.arm)!.n)
        expect(close(v.value, brute.get(v.arm)!.value), `${m.key} ${v.arm}: ${v.value} vs brute ${brute.get(v.arm)!.value}`).toBe(true)
      }
      // The α-level test is the preview's; the family moves only the interval and the verdict.
      const vsControl = m.comparisons.filter((c: any) => c.against === 'control')
      expect(vsControl.map((c: any) => [c.variant, c.family])).toEqual([['offer', 'secondary']])
      expect(close(vsControl[0].pValue, want.comparisons[0].pValue!, 1e-12)).toBe(true)
      expect(close(vsControl[0].estimate, want.comparisons[0].estimate!, 1e-12)).toBe(true)
      expect(vsControl[0].rawCi).toEqual(want.comparisons[0].ci)
      expect(m.comparisons.filter((c: any) => c.against === 'holdout').map((c: any) => [c.variant, c.family])).toEqual([
        ['control', 'holdout'],
        ['offer', 'holdout'],
      ])
    })
    // The planted effects are there, so the adjustment has something to decide.
    expect(shown[0].comparisons[0].estimate).toBeGreaterThan(0)
    expect(shown[1].comparisons[0].estimate).toBeGreaterThan(0)
    expect(shown[1].comparisons[0].cuped).not.toBeNull()
  })

  it('adjusts their comparisons with the built-in secondary metrics (BH) and the holdout comparisons (Holm), verdicts following the intervals', async () => {
    const body = await report()
    const all = body.metrics.flatMap((m: any) => m.comparisons.map((c: any) => ({ ...c, key: m.key, catalogue: !!m.catalogue })))
    for (const [family, adjust, method] of [
      ['secondary', bh, 'bh'],
      ['holdout', holm, 'holm'],
    ] as const) {
      const members = all.filter((c: any) => c.family === family && c.pValue !== null)
      expect(members.some((c: any) => c.catalogue) && members.some((c: any) => !c.catalogue), family).toBe(true)
      const expected = adjust(members.map((c: any) => c.pValue))
      members.forEach((c: any, i: number) => {
        expect(c.adjustment, `${c.key} ${c.variant}`).toBe(method)
        expect(close(c.adjustedPValue, expected[i], 1e-12), `${c.key} ${c.variant} ${family}: ${c.adjustedPValue} vs ${expected[i]}`).toBe(true)
        expect(c.significant).toBe(c.adjustedPValue < body.settings.alpha)
      })
    }
    expect(all.filter((c: any) => c.family === 'secondary' && c.catalogue)).toHaveLength(3)
    for (const c of all) if (c.ci) expect(c.significant, `${c.key} ${c.variant} vs ${c.against}`).toBe(c.ci[0] > 0 || c.ci[1] < 0)
    // At least one catalogue comparison is significant and one is not, so both verdicts are exercised.
    const verdicts = new Set(all.filter((c: any) => c.catalogue && c.ci).map((c: any) => c.significant))
    expect(verdicts).toEqual(new Set([true, false]))
  })

  it("says in each catalogue metric's summary what its adjusted interval says", async () => {
    const body = await report()
    for (const m of catalogueOf(body)) {
      const c = m.comparisons.find((x: any) => x.against === 'control')
      const level = `${+((1 - c.level) * 100).toFixed(2)}% CI`
      expect(m.summary, m.key).toContain(level)
      expect(m.summary, m.key).toContain('Benjamini–Hochberg-adjusted')
      expect(/, significant \(/.test(m.summary), `${m.key}: ${m.summary}`).toBe(c.significant)
      expect(m.summary).toMatch(new RegExp(`^20% off (raised|lowered|shows no detectable change in) ${m.label.toLowerCase()}`))
    }
  })

  it('leaves the recommendation and the decision and guardrail families as they are without catalogue metrics', async () => {
    const exp = await getExperiment(h.db, EXP)
    const catalogue = await resolveCatalogueMetrics(h.db, exp.analysis.catalogueMetrics)
    const withCatalogue = await experimentReport(h.ch, exp, { asOf: AS_OF }, clock, { catalogue })
    const builtInsOnly = await experimentReport(h.ch, exp, { asOf: AS_OF }, clock)
    expect(withCatalogue.metrics).toHaveLength(builtInsOnly.metrics.length + 3)
    expect(withCatalogue.recommendation).toEqual(builtInsOnly.recommendation)
    expect(withCatalogue.criteria).toEqual(builtInsOnly.criteria)
    expect(withCatalogue.testCriteria).toEqual(builtInsOnly.testCriteria)
    const decisive = (r: typeof withCatalogue) => r.metrics.flatMap((m) => m.comparisons.filter((c) => c.family === 'decision' || c.family === 'guardrail'))
    expect(decisive(withCatalogue)).toEqual(decisive(builtInsOnly))
    // The secondary family grew: a built-in secondary metric's adjusted p-value reflects three more tests.
    const secondary = (r: typeof withCatalogue) => r.metrics.flatMap((m) => m.comparisons.filter((c) => c.family === 'secondary' && c.pValue !== null))
    expect(secondary(withCatalogue).length).toBe(secondary(builtInsOnly).length + 3)
  })

  it('computes every built-in metric to the same numbers when catalogue metrics share its pass, with winsorization and windows shorter and longer than the outcome window', async () => {
    const stored = await getExperiment(h.db, EXP)
    const exp = { ...stored, analysis: { ...stored.analysis, winsorize: { enabled: true, percentile: 0.95 } } }
    // Halfway through: customers exposed after day 15 are inside the 30-day outcome window, not the 7-day one.
    const mid = T0 + 45 * DAY
    const defs = [
      parse({ ...draft.tickets, key: 'tickets_7', window: { endDays: 7 } }),
      parse({
        key: 'back_31_40',
        name: 'Bought in days 31–40',
        kind: 'retention',
        source: { eventTypes: ['purchase'] },
        window: { startDays: 31, endDays: 40 },
      }),
      parse({ ...draft.severity, key: 'severity_p90', capping: { type: 'percentile', percentile: 0.9 } }),
      parse({ key: 'first_ticket', name: 'Days to first ticket', kind: 'time_to_event', source: { eventTypes: ['support_ticket'] }, window: { endDays: 21 } }),
    ] as CompilableMetric[]
    const catalogue = defs.map((def) => ({ ref: { key: def.key, version: 1 }, def }))
    const withCatalogue = await experimentReport(h.ch, exp, { asOf: mid }, clock, { catalogue })
    const builtInsOnly = await experimentReport(h.ch, exp, { asOf: mid }, clock)
    expect(withCatalogue.metrics.length).toBe(builtInsOnly.metrics.length + defs.length)
    builtInsOnly.metrics.forEach((m, i) => {
      const w = withCatalogue.metrics[i]
      expect(w.key).toBe(m.key)
      m.values.forEach((v, j) => {
        expect(w.values[j].n, `${m.key} ${v.arm}`).toBe(v.n)
        if (v.value === null) expect(w.values[j].value).toBeNull()
        else expect(close(w.values[j].value!, v.value), `${m.key} ${v.arm}: ${w.values[j].value} vs ${v.value}`).toBe(true)
      })
      m.comparisons.forEach((c, j) => {
        const x = w.comparisons[j]
        expect([x.variant, x.against, x.family]).toEqual([c.variant, c.against, c.family])
        if (c.estimate !== null) expect(close(x.estimate!, c.estimate, 1e-9), `${m.key} ${c.variant} vs ${c.against}`).toBe(true)
        if (c.pValue !== null) expect(close(x.pValue!, c.pValue, 1e-9)).toBe(true)
      })
      if (m.survival) expect(w.survival!.map((s) => [s.arm, s.n, s.events, s.median])).toEqual(m.survival.map((s) => [s.arm, s.n, s.events, s.median]))
    })
    expect(withCatalogue.economics).toEqual(builtInsOnly.economics)
    // The catalogue columns of the shared pass equal those of the catalogue's own query, each window with its own maturity.
    const direct = await metricArmValues(h.ch, exp, defs, { asOf: mid }, clock)
    const shown = withCatalogue.metrics.slice(builtInsOnly.metrics.length)
    shown.forEach((m, i) => {
      m.values.forEach((v) => {
        const d = direct.metrics[i].values.find((x) => x.arm === v.arm)!
        expect(v.n, `${m.key} ${v.arm}`).toBe(d.n)
        expect(close(v.value!, d.value!), `${m.key} ${v.arm}: ${v.value} vs ${d.value}`).toBe(true)
      })
    })
    const ns = (k: number) => shown[k].values.find((v) => v.arm === 'control')!.n
    const outcomeN = builtInsOnly.metrics[0].values.find((v) => v.arm === 'control')!.n
    // Customers followed for days 31–40 are fewer than those followed for the 30-day outcome window; for 7 days, more.
    expect(ns(1)).toBeLessThan(outcomeN)
    expect(ns(0)).toBeGreaterThan(outcomeN)
    expect(shown[3].survival?.length).toBe(3)
  })

  it('reports a quantile metric (median order value) in the secondary family, with the numbers of metricArmValues and verdicts that follow the intervals', async () => {
    const median = {
      key: 'median_order_q',
      name: 'Median order value',
      kind: 'quantile',
      source: { eventTypes: ['purchase'] },
      value: { of: 'revenue' },
      quantile: 0.5,
      window: { endDays: 30 },
    }
    expect((await h.call('POST', '/v1/metrics', median)).status).toBe(201)
    const stored = await getExperiment(h.db, EXP)
    const def = parse(median) as QuantileMetric
    const catalogue = [...(await resolveCatalogueMetrics(h.db, stored.analysis.catalogueMetrics)), { ref: { key: def.key, version: 1 }, def }]
    const body = await experimentReport(h.ch, stored, { asOf: AS_OF }, clock, { catalogue })
    const shown = body.metrics.find((m) => m.key === def.key)!
    expect([shown.kind, shown.catalogue, shown.isPrimary]).toEqual(['quantile', { key: def.key, version: 1 }, false])
    const direct = (await metricArmValues(h.ch, stored, [def], { asOf: AS_OF }, clock)).metrics[0]
    expect(shown.values).toEqual(direct.values.map(({ arm, n, value }) => ({ arm, n, value })))
    const vsControl = shown.comparisons.filter((c) => c.against === 'control')
    expect(vsControl.map((c) => c.family)).toEqual(['secondary'])
    expect(close(vsControl[0].estimate!, direct.comparisons[0].estimate!, 1e-12)).toBe(true)
    expect(vsControl[0].rawCi).toEqual(direct.comparisons[0].ci)
    // Four secondary catalogue tests now: the BH-adjusted interval is at least as wide as the raw one.
    expect(vsControl[0].ci![1] - vsControl[0].ci![0]).toBeGreaterThanOrEqual(vsControl[0].rawCi![1] - vsControl[0].rawCi![0] - 1e-12)
    expect(shown.comparisons.filter((c) => c.against === 'holdout').map((c) => c.variant)).toEqual(['control', 'offer'])
    for (const c of shown.comparisons) expect(c.significant, `${c.variant} vs ${c.against}`).toBe(c.ci![0] > 0 || c.ci![1] < 0)

    // An experiment pins it through the API, and its report (no customers yet) has the metric without numbers.
    const created = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('with-median'), analysis: { catalogueMetrics: [{ key: def.key }] } })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect((await h.call('POST', '/v1/experiments/with-median/start')).status).toBe(200)
    const empty = await h.call('GET', '/v1/experiments/with-median/report')
    expect(empty.status).toBe(200)
    expect(empty.body.metrics.find((m: any) => m.key === def.key).values.every((v: any) => v.n === 0 && v.value === null)).toBe(true)
  })

  it('breaks catalogue metrics down by an attribute captured at assignment, each segment matching the raw events', async () => {
    const body = await report('&dimension=tier')
    const parts = { numerator: parse(draft.severity) as MeanMetric, denominator: parse(draft.tickets) as MeanMetric }
    const defs = [parse(draft.shoes), parse(draft.tickets), { ...parse(draft.perTicket), parts }] as CompilableMetric[]
    expect(body.breakdown.segments.map((x: any) => x.value).sort()).toEqual(['gold', 'silver'])
    for (const segment of body.breakdown.segments) {
      const keys = segment.metrics.map((m: any) => m.key)
      defs.forEach((def, i) => {
        const m = segment.metrics[keys.indexOf(def.key)]
        expect(m, `${def.key} in ${segment.value}`).toBeDefined()
        const brute = bruteForce(EXP, def, i === 2 ? parts : undefined, (id) => tierOf(id) === segment.value)
        for (const v of m.values) {
          expect(v.n, `${def.key} ${segment.value} ${v.arm}`).toBe(brute.get(v.arm)!.n)
          expect(close(v.value, brute.get(v.arm)!.value), `${def.key} ${segment.value} ${v.arm}: ${v.value} vs ${brute.get(v.arm)!.value}`).toBe(true)
        }
        for (const c of m.comparisons) expect(c.significant).toBe(c.ci[0] > 0 || c.ci[1] < 0)
      })
    }
  })

  it('makes a catalogue metric a guardrail: tested one-sided for harm against its margin, read by the recommendation even when not asked for', async () => {
    const stored = await getExperiment(h.db, EXP)
    const exp = { ...stored, analysis: { ...stored.analysis, guardrails: ['unsubscribe', 'tickets_30'], guardrailMargins: { tickets_30: 0 } } }
    const catalogue = await resolveCatalogueMetrics(h.db, stored.analysis.catalogueMetrics)
    const full = await experimentReport(h.ch, exp, { asOf: AS_OF }, clock, { catalogue })
    const tickets = full.metrics.find((m) => m.key === 'tickets_30')!
    expect([tickets.isGuardrail, tickets.isPrimary]).toEqual([true, false])
    const vsControl = tickets.comparisons.find((c) => c.against === 'control')!
    expect(vsControl.family).toBe('guardrail')
    // Tickets are better lower, so an increase harms; its margin is the catalogue key's.
    expect(vsControl.guardrail).toMatchObject({ margin: 0, harmDirection: 'increase' })
    expect(vsControl.guardrail!.estimate).toBeCloseTo(vsControl.absolute.estimate!, 12)
    // The offer arm writes more tickets: harmed, and the recommendation says so by the metric's name.
    expect(vsControl.guardrail!.status).toBe('harmed')
    expect(JSON.stringify(full.recommendation)).toContain('support tickets per customer')
    // Asking for the primary metric alone gives the same recommendation, the guardrail computed without being shown.
    const partial = await experimentReport(h.ch, exp, { asOf: AS_OF, metrics: [exp.analysis.primaryMetric] }, clock, { catalogue })
    expect(partial.metrics.map((m) => m.key)).toEqual([exp.analysis.primaryMetric])
    expect(partial.recommendation).toEqual(full.recommendation)
    expect(full.recommendation).not.toEqual((await experimentReport(h.ch, stored, { asOf: AS_OF }, clock, { catalogue })).recommendation)

    // Through the API: a guardrail the experiment does not list among its catalogue metrics is refused by position.
    const refused = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('bad-guardrail'), analysis: { guardrails: ['unsubscribe', 'tickets_30'] } })
    expect(refused.status).toBe(400)
    expect(refused.body.error.field).toBe('analysis.guardrails.1')
    const accepted = await h.call('POST', '/v1/experiments', {
      ...twoArmExperiment('good-guardrail'),
      analysis: { catalogueMetrics: [{ key: 'tickets_30' }], guardrails: ['tickets_30'], guardrailMargins: { tickets_30: 0.05 } },
    })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201)
  })

  it('makes a catalogue metric the primary metric: the decision family, the sample size and the recommendation read it', async () => {
    const stored = await getExperiment(h.db, EXP)
    const exp = { ...stored, analysis: { ...stored.analysis, primaryMetric: 'shoe_buyers_30' } }
    const catalogue = await resolveCatalogueMetrics(h.db, stored.analysis.catalogueMetrics)
    const full = await experimentReport(h.ch, exp, { asOf: AS_OF }, clock, { catalogue })
    const shoes = full.metrics.find((m) => m.key === 'shoe_buyers_30')!
    const reactivation = full.metrics.find((m) => m.key === 'reactivation')!
    expect([shoes.isPrimary, reactivation.isPrimary]).toEqual([true, false])
    expect(shoes.comparisons.find((c) => c.against === 'control')!.family).toBe('decision')
    expect(reactivation.comparisons.find((c) => c.against === 'control')!.family).toBe('secondary')
    // The power calculation plans on the control's observed share of shoe buyers.
    expect(full.health.power.metric).toBe('shoe_buyers_30')
    expect(full.health.power.nPerArmNeeded).not.toBeNull()
    expect(full.recommendation).not.toEqual((await experimentReport(h.ch, stored, { asOf: AS_OF }, clock, { catalogue })).recommendation)
    expect(JSON.stringify(full.recommendation)).toContain('Bought shoes within 30 days'.toLowerCase())
    // The planted effect decides, with the verdict its interval shows.
    const decision = shoes.comparisons.find((c) => c.against === 'control')!
    expect(decision.significant).toBe(decision.ci![0] > 0 || decision.ci![1] < 0)
    const partial = await experimentReport(h.ch, exp, { asOf: AS_OF, metrics: ['unsubscribe'] }, clock, { catalogue })
    expect(partial.metrics.map((m) => m.key)).toEqual(['unsubscribe'])
    expect(partial.recommendation).toEqual(full.recommendation)

    // Through the API: a primary metric the experiment does not list is refused; a listed one is saved and reported.
    const refused = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('bad-primary'), analysis: { primaryMetric: 'tickets_30' } })
    expect(refused.status).toBe(400)
    expect(refused.body.error.field).toBe('analysis.primaryMetric')
    const accepted = await h.call('POST', '/v1/experiments', {
      ...twoArmExperiment('catalogue-primary'),
      analysis: { catalogueMetrics: [{ key: 'tickets_30' }], primaryMetric: 'tickets_30' },
    })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201)
    expect((await h.call('POST', '/v1/experiments/catalogue-primary/start')).status).toBe(200)
    const answered = await h.call('GET', '/v1/experiments/catalogue-primary/report')
    expect(answered.status).toBe(200)
    expect(answered.body.metrics.find((m: any) => m.key === 'tickets_30').isPrimary).toBe(true)
    // The lift-over-time chart follows the catalogue primary metric.
    const series = await h.call('GET', '/v1/experiments/catalogue-primary/timeseries')
    expect(series.status).toBe(200)
    expect(series.body.series.map((x: any) => x.metric)).toEqual(['tickets_30'])
  })

  it("draws each catalogue metric's lift over time, every point the comparison metricArmValues gives as of its cut", async () => {
    const exp = await getExperiment(h.db, EXP)
    const parts = { numerator: parse(draft.severity) as MeanMetric, denominator: parse(draft.tickets) as MeanMetric }
    const defs = [parse(draft.shoes), parse(draft.tickets), { ...parse(draft.perTicket), parts }] as CompilableMetric[]
    const res = await h.call(
      'GET',
      `/v1/experiments/${EXP}/timeseries?asOf=${AS_OF}&points=6&metrics=shoe_buyers_30,reactivation,tickets_30,severity_per_ticket`,
    )
    expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(200)
    // In the order asked, built-in and catalogue metrics alike.
    expect(res.body.series.map((x: any) => [x.metric, x.label, x.format])).toEqual([
      ['shoe_buyers_30', 'Bought shoes within 30 days', 'percent'],
      ['reactivation', 'Reactivation rate', 'percent'],
      ['tickets_30', 'Support tickets per customer', 'number'],
      ['severity_per_ticket', 'Severity per ticket', 'number'],
    ])
    const catalogueSeries = res.body.series.filter((x: any) => x.metric !== 'reactivation')
    const cuts = [...new Set(catalogueSeries[0].points.map((p: any) => p.at))] as string[]
    expect(cuts.length).toBeGreaterThanOrEqual(5)
    let compared = 0
    for (const at of cuts) {
      const direct = await metricArmValues(h.ch, exp, defs, { asOf: Date.parse(at) }, clock)
      catalogueSeries.forEach((series: any, i: number) => {
        const point = series.points.find((p: any) => p.at === at && p.arm === 'offer')
        const want = direct.metrics[i]
        expect(point.n, `${series.metric} at ${at}`).toBe(want.values.find((v) => v.arm === 'offer')!.n)
        const c = want.comparisons[0]
        if (!c || c.estimate === null) return expect(point.estimate, `${series.metric} at ${at}`).toBeNull()
        expect(close(point.estimate, c.estimate, 1e-9), `${series.metric} at ${at}: ${point.estimate} vs ${c.estimate}`).toBe(true)
        expect(point.ci[0]).toBeCloseTo(c.ci![0], 9)
        expect(point.ci[1]).toBeCloseTo(c.ci![1], 9)
        expect(point.significant).toBe(point.ci[0] > 0 || point.ci[1] < 0)
        compared++
      })
    }
    // Customers enter as their windows end, so the early cuts hold fewer of them than the last.
    const n = catalogueSeries[0].points.filter((p: any) => p.arm === 'offer').map((p: any) => p.n)
    expect(n[0]).toBeLessThan(n[n.length - 1])
    expect(compared).toBeGreaterThan(6)
    // A key the experiment does not list is refused by name, as in the report.
    const bad = await h.call('GET', `/v1/experiments/${EXP}/timeseries?metrics=severity_30`)
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('metrics')
  })

  it('lists the winner of a stopped experiment with a catalogue primary metric in the offer library, per segment', async () => {
    const stored = await getExperiment(h.db, EXP)
    const catalogue = await resolveCatalogueMetrics(h.db, stored.analysis.catalogueMetrics)
    // Stopped so that the library reads it as of AS_OF (the stop plus the outcome window), with a decision.
    const exp = {
      ...stored,
      status: 'stopped' as const,
      stoppedAt: new Date(AS_OF - stored.analysis.attributionDays * DAY).toISOString(),
      decision: { id: 1, kind: 'decision' as const, body: 'ship', chosenArm: 'offer', author: 'test', createdAt: new Date(AS_OF).toISOString() },
      analysis: { ...stored.analysis, primaryMetric: 'shoe_buyers_30' },
    }
    const library = await offerLibrary(h.ch, [exp], { cataloguePrimary: async (e) => catalogue.find((m) => m.ref.key === e.analysis.primaryMetric) })
    const rows = library.rows.filter((r) => r.dimension === '(all)' || r.dimension === 'tier')
    expect(rows.map((r) => [r.metric, r.dimension, r.segment])).toEqual([
      ['shoe_buyers_30', '(all)', 'all customers'],
      ['shoe_buyers_30', 'tier', 'gold'],
      ['shoe_buyers_30', 'tier', 'silver'],
    ])
    const breakdown = await report('&dimension=tier&metrics=shoe_buyers_30')
    const overall = (await report('&metrics=shoe_buyers_30')).metrics[0]
    for (const row of rows) {
      const only = row.dimension === '(all)' ? () => true : (id: string) => tierOf(id) === row.segment
      const brute = bruteForce(EXP, parse(draft.shoes) as CompilableMetric, undefined, only)
      // Every arm's counted customers, holdout included, as the raw events give them.
      expect(row.n, `${row.segment}`).toBe([...brute.values()].reduce((s, x) => s + x.n, 0))
      // The lift is the report's (its breakdown's, per segment); the interval is the library's own BH–BY adjustment.
      const shown = row.dimension === '(all)' ? overall : breakdown.breakdown.segments.find((x: any) => x.value === row.segment).metrics[0]
      const vsControl = shown.comparisons.find((c: any) => c.against === 'control' && c.variant === 'offer')
      expect(close(row.comparisons[0].estimate!, vsControl.estimate, 1e-9), `${row.segment}: ${row.comparisons[0].estimate} vs ${vsControl.estimate}`).toBe(
        true,
      )
      expect(row.comparisons[0].significant).toBe(row.comparisons[0].ci![0] > 0 || row.comparisons[0].ci![1] < 0)
      if (row.winner) expect([row.winner.arm, row.winner.lift]).toEqual(['offer', row.comparisons[0].estimate])
    }
    expect(rows[0].metricLabel).toBe('Bought shoes within 30 days')
    // The planted effect on shoe buyers wins over all customers.
    expect(rows[0].winner?.arm).toBe('offer')
  })

  it('reports only the catalogue metrics asked for with ?metrics, and refuses keys the experiment does not list', async () => {
    const body = await report('&metrics=reactivation,tickets_30')
    expect(body.metrics.map((m: any) => m.key)).toEqual(['reactivation', 'tickets_30'])
    const bad = await h.call('GET', `/v1/experiments/${EXP}/report?asOf=${AS_OF}&metrics=severity_30`)
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('metrics')
  })
})

describe('a new version of a definition', () => {
  it("leaves an experiment's report as it was; an experiment created after it uses the new version", async () => {
    const exp = await getExperiment(h.db, EXP)
    const now = clock
    const before = await experimentReport(h.ch, exp, { asOf: AS_OF }, now, { catalogue: await resolveCatalogueMetrics(h.db, exp.analysis.catalogueMetrics) })
    const shownBefore = catalogueOf(await report('&include=immature'))

    clock = AS_OF + 2 * DAY
    expect((await h.call('POST', '/v1/metrics/shoe_buyers_30/versions', shoesV2)).body.version).toBe(2)
    expect((await h.call('POST', '/v1/metrics/severity_30/versions', severityV2)).body.version).toBe(2)
    // Edits that resend the analysis without versions keep the pinned ones.
    const edited = await h.call('PATCH', `/v1/experiments/${EXP}`, {
      tags: ['catalogue'],
      analysis: { ...exp.analysis, catalogueMetrics: exp.analysis.catalogueMetrics.map(({ key }) => ({ key })) },
    })
    expect(edited.status, JSON.stringify(edited.body)).toBe(200)
    expect(edited.body.analysis.catalogueMetrics).toEqual(exp.analysis.catalogueMetrics)

    const again = await getExperiment(h.db, EXP)
    const after = await experimentReport(h.ch, again, { asOf: AS_OF }, now, { catalogue: await resolveCatalogueMetrics(h.db, again.analysis.catalogueMetrics) })
    expect(withoutTimes(after as never)).toEqual(withoutTimes(before as never))
    // Over HTTP too, with a query the cache has not seen (the experiment's edit also changed its cache key).
    expect(catalogueOf(await report('&include=immature'))).toEqual(shownBefore)

    // A new experiment over the same customers pins version 2 and reports it.
    const second = await h.call('POST', '/v1/experiments', {
      ...twoArmExperiment('cat-report-2'),
      analysis: { catalogueMetrics: [{ key: 'shoe_buyers_30' }, { key: 'severity_per_ticket' }] },
    })
    expect(second.body.analysis.catalogueMetrics).toEqual([
      { key: 'shoe_buyers_30', version: 2 },
      { key: 'severity_per_ticket', version: 1 },
    ])
    await h.call('POST', '/v1/experiments/cat-report-2/start')
    clock = T0 + 5 * DAY
    await assign(
      'cat-report-2',
      ids.filter((_, i) => i % 3 === 0),
    )
    clock = AS_OF + 3 * DAY
    const res = await h.call('GET', `/v1/experiments/cat-report-2/report?asOf=${AS_OF}`)
    expect(res.status).toBe(200)
    const [shoes, ratio] = catalogueOf(res.body)
    expect(shoes.catalogue).toEqual({ key: 'shoe_buyers_30', version: 2 })
    // The ratio's version 1 divides the parts as they were when it was saved: severity_30's version 1.
    const parts = { numerator: parse(draft.severity) as MeanMetric, denominator: parse(draft.tickets) as MeanMetric }
    for (const [m, def, p] of [
      [shoes, parse(shoesV2), undefined],
      [ratio, parse(draft.perTicket), parts],
    ] as const) {
      const brute = bruteForce('cat-report-2', def, p)
      for (const v of m.values) {
        expect(v.n, `${m.key} ${v.arm}`).toBe(brute.get(v.arm)!.n)
        expect(close(v.value, brute.get(v.arm)!.value), `${m.key} ${v.arm}`).toBe(true)
      }
    }
  })

  it('stays readable after its metric is archived, and the experiment stays editable', async () => {
    clock = AS_OF + 4 * DAY
    const bodyBefore = catalogueOf(await report('&window=30'))
    expect((await h.call('POST', '/v1/metrics/shoe_buyers_30/archive')).status).toBe(200)
    const exp = await getExperiment(h.db, EXP)
    const edited = await h.call('PATCH', `/v1/experiments/${EXP}`, { analysis: exp.analysis, tags: ['catalogue', 'archived'] })
    expect(edited.status, JSON.stringify(edited.body)).toBe(200)
    expect(catalogueOf(await report('&window=30'))).toEqual(bodyBefore)
  })
})

describe('bad references', () => {
  it('are refused with a 400 naming the field, and nothing is saved', async () => {
    clock = AS_OF + 5 * DAY
    expect((await h.call('POST', '/v1/metrics', { ...draft.tickets, key: 'old_tickets' })).status).toBe(201)
    expect((await h.call('POST', '/v1/metrics/old_tickets/archive')).status).toBe(200)
    const overBuiltIns = { key: 'aov_builtin', name: 'AOV', kind: 'ratio', numerator: 'revenue', denominator: 'orders' }
    expect((await h.call('POST', '/v1/metrics', overBuiltIns)).status).toBe(201)

    const cases: Array<[unknown[], string]> = [
      [[{ key: 'nothing_here' }], 'analysis.catalogueMetrics.0.key'],
      [[{ key: 'tickets_30' }, { key: 'revenue' }], 'analysis.catalogueMetrics.1.key'],
      [[{ key: 'old_tickets' }], 'analysis.catalogueMetrics.0.key'],
      [[{ key: 'tickets_30', version: 7 }], 'analysis.catalogueMetrics.0.version'],
      [[{ key: 'tickets_30' }, { key: 'tickets_30' }], 'analysis.catalogueMetrics.1.key'],
      [[{ key: `tickets'); DROP TABLE experiments; --` }], 'analysis.catalogueMetrics.0.key'],
      [[{ key: 'aov_builtin' }], 'analysis.catalogueMetrics.0.key'],
      [[{ key: 'tickets_30', version: 0 }], 'analysis.catalogueMetrics.0.version'],
      [Array.from({ length: 11 }, (_, i) => ({ key: `m_${i}` })), 'analysis.catalogueMetrics'],
    ]
    const counter = await openStoreCounter(h.db, h.ch)
    const snapshot = await counter.snapshot()
    for (const [refs, field] of cases) {
      const created = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('refused'), analysis: { catalogueMetrics: refs } })
      expect(created.status, JSON.stringify(refs)).toBe(400)
      expect(created.body.error.field, JSON.stringify(created.body)).toBe(field)
      const exp = await getExperiment(h.db, EXP)
      const updated = await h.call('PATCH', `/v1/experiments/${EXP}`, { analysis: { ...exp.analysis, catalogueMetrics: refs } })
      expect(updated.status, JSON.stringify(refs)).toBe(400)
      expect(updated.body.error.field).toBe(field)
    }
    expect(changedTables(snapshot, await counter.snapshot())).toEqual([])
  })
})
