/**
 * Catalogue metrics in the program KPIs (issue 17, item 4): `GET /v1/kpis?metrics=a,b` compares treated vs the global
 * holdout on each metric, for the program (each customer from their earliest window) and for each experiment (from
 * that experiment's window). Recomputed here by brute force from the exposures logged and the raw events sent, with
 * the catalogue's reference (test/helpers/metric-reference.ts): per group n, value and sufficient statistics to
 * 1e-9, and the lift with the stats module applied to the brute-force sums.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { kpiWindows, periodWindows, type KpiWindow } from '../helpers/kpi-windows.ts'
import type { RawEvent } from '../helpers/raw-event.ts'
import { bruteComparison, expectSame, referenceArms, referenceCustomers } from '../helpers/metric-reference.ts'
import { MetricDefinitionInput } from '../../api/metrics/schema.ts'
import type { CompilableMetric, MeanMetric } from '../../api/metrics/compile.ts'
import type { KpiMetric, KpiMetricScope, KpiReport } from '../../api/contract/kpis.ts'
import type { SurvivalRow } from '../../stats/index.ts'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')
const FROM = T0
const TO = T0 + 20 * DAY
const AS_OF = T0 + 110 * DAY
const CUSTOMERS = 1200
const MARGIN_RATE = 0.3

let clock = T0
let h: Harness
const events: RawEvent[] = []
const windows = new Map<string, KpiWindow[]>()

const drafts = [
  {
    key: 'shoes_or_bags_twice',
    name: 'Bought shoes or bags twice',
    kind: 'proportion',
    minEvents: 2,
    source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'category', op: 'in', values: ['shoes', 'bags'] }] },
    window: { endDays: 30 },
  },
  {
    key: 'big_basket_revenue',
    name: 'Revenue of baskets of 2+ items',
    kind: 'mean',
    source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'items', op: 'gte', value: 2 }] },
    value: { of: 'revenue' },
    window: { endDays: 30 },
    capping: { type: 'absolute', value: 150 },
    format: 'currency',
  },
  {
    key: 'chat_tickets',
    name: 'Chat tickets',
    kind: 'mean',
    source: { eventTypes: ['support_ticket'], filters: [{ on: 'property', path: 'channel', op: 'neq', value: 'email' }] },
    value: { of: 'count' },
    window: { startDays: 2, endDays: 45 },
    capping: { type: 'percentile', percentile: 0.9 },
    direction: 'lower',
  },
  { key: 'back_31_60', name: 'Bought in days 31–60', kind: 'retention', source: { eventTypes: ['purchase'] }, window: { startDays: 31, endDays: 60 } },
  {
    key: 'items_bought',
    name: 'Items bought',
    kind: 'mean',
    source: { eventTypes: ['purchase'] },
    value: { of: 'property', path: 'items' },
    window: { endDays: 30 },
  },
  { key: 'purchases', name: 'Purchases', kind: 'mean', source: { eventTypes: ['purchase'] }, value: { of: 'count' }, window: { endDays: 30 } },
  { key: 'items_per_order', name: 'Items per order', kind: 'ratio', numerator: 'items_bought', denominator: 'purchases' },
  { key: 'days_to_ticket', name: 'Days to a ticket', kind: 'time_to_event', source: { eventTypes: ['support_ticket'] }, window: { startDays: 5, endDays: 40 } },
  {
    key: 'median_order',
    name: 'Median order value',
    kind: 'quantile',
    quantile: 0.5,
    source: { eventTypes: ['purchase'] },
    value: { of: 'revenue' },
    window: { endDays: 30 },
  },
]
const asked = ['shoes_or_bags_twice', 'big_basket_revenue', 'chat_tickets', 'back_31_60', 'items_per_order', 'days_to_ticket']

/** The definitions as the KPIs read them (a ratio with its parts; no CUPED in the KPIs). */
function definition(key: string): CompilableMetric {
  const parse = (k: string) => {
    const def = MetricDefinitionInput.parse(drafts.find((d) => d.key === k)) as CompilableMetric
    return def.kind === 'mean' ? { ...def, cuped: false } : def
  }
  const def = parse(key)
  return def.kind === 'ratio'
    ? ({ ...def, parts: { numerator: parse(def.numerator) as MeanMetric, denominator: parse(def.denominator) as MeanMetric } } as CompilableMetric)
    : def
}

beforeAll(async () => {
  const rand = mulberry32(1717)
  h = await openHarness({ now: () => clock })
  expect((await h.call('PUT', '/v1/settings', { globalHoldoutPct: 0.25 })).status).toBe(200)
  for (const id of ['x', 'y']) {
    expect((await h.call('POST', '/v1/experiments', twoArmExperiment(id))).status).toBe(201)
    expect((await h.call('POST', `/v1/experiments/${id}/start`)).status).toBe(200)
  }
  for (const d of drafts) expect((await h.call('POST', '/v1/metrics', d)).status, d.key).toBe(201)

  // Enrolment over ten days (some before the period: their windows are not in it); a third of the customers enter
  // x, then y four days later (y's window is not their earliest), a third y only, a third x only.
  const plan: Array<{ day: number; exp: string; id: string }> = []
  for (let c = 0; c < CUSTOMERS; c++) {
    const id = `q-${c}`
    const day = Math.floor(rand() * 12)
    if (c % 3 !== 1) plan.push({ day, exp: 'x', id })
    if (c % 3 !== 2) plan.push({ day: c % 3 === 0 ? day + 4 : day, exp: 'y', id })
  }
  for (let day = 0; day < 16; day++) {
    for (const exp of ['x', 'y']) {
      const batch = plan.filter((p) => p.day === day && p.exp === exp).map((p) => ({ customerId: p.id }))
      if (!batch.length) continue
      clock = T0 - 2 * DAY + day * DAY + (exp === 'y' ? 3_600_000 : 0)
      expect((await h.call('POST', '/v1/assign/batch', { experimentId: exp, customers: batch })).status).toBe(200)
    }
  }
  for (const [id, list] of await kpiWindows(h)) windows.set(id, list)

  // Outcomes from ten days before the earliest exposure to 70 days after, treated customers buying a little more;
  // some exactly at a window's start or end, where the boundaries decide.
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]
  let k = 0
  for (const [id, list] of windows) {
    const t0 = Math.min(...list.map((w) => w.t0))
    if (!Number.isFinite(t0)) continue
    const boost = list.some((w) => w.treated) ? 1.3 : 1
    const count = Math.floor(rand() * 6 * boost)
    for (let i = 0; i < count; i++) {
      const at =
        rand() < 0.1 ? t0 + pick([0, 30 * DAY, 31 * DAY, 60 * DAY, 2 * DAY, 45 * DAY, 5 * DAY, 40 * DAY]) : t0 - 10 * DAY + Math.floor(rand() * 80 * DAY)
      const u = rand()
      if (u < 0.6)
        events.push({
          eventId: `ev-${k++}`,
          customerId: id,
          type: 'purchase',
          ts: at,
          revenue: Math.round(20 + rand() * 180),
          properties: { category: pick(['shoes', 'bags', 'hats']), items: 1 + Math.floor(rand() * 4) },
        })
      else if (u < 0.85)
        events.push({ eventId: `ev-${k++}`, customerId: id, type: 'support_ticket', ts: at, properties: { channel: pick(['chat', 'email', 'phone']) } })
      else events.push({ eventId: `ev-${k++}`, customerId: id, type: 'refund', ts: at, revenue: Math.round(10 + rand() * 50) })
    }
  }
  clock = AS_OF
  for (let i = 0; i < events.length; i += 2000) expect((await h.call('POST', '/v1/events', events.slice(i, i + 2000))).body.rejected).toEqual([])
}, 240_000)
afterAll(() => h?.close())

/** Each scope's customers ('' = the program), in their group ('treated' or 'global_holdout') from their window's start. */
function scopes(): Map<string, Map<string, { arm: string; t0: number }>> {
  const out = new Map<string, Map<string, { arm: string; t0: number }>>([['', new Map()]])
  for (const { id, window: w, program, treatedAnywhere } of periodWindows(windows, FROM, TO)) {
    if (!out.has(w.exp)) out.set(w.exp, new Map())
    out.get(w.exp)!.set(id, { arm: w.treated ? 'treated' : 'global_holdout', t0: w.t0 })
    if (program) out.get('')!.set(id, { arm: treatedAnywhere ? 'treated' : 'global_holdout', t0: w.t0 })
  }
  return out
}

const byTime = (rows: SurvivalRow[]) => [...rows].sort((a, b) => a.time - b.time || b.events - a.events)

function expectScope(
  got: KpiMetricScope,
  def: CompilableMetric,
  customers: Map<string, { arm: string; t0: number }>,
  asOf: number,
  immature: boolean,
  path: string,
) {
  const brute = referenceArms(def, referenceCustomers(customers, events, asOf), asOf, immature, { marginRate: MARGIN_RATE, lookbackDays: 0 })
  for (const v of [got.treated, got.globalHoldout]) {
    const want = brute.get(v.arm) ?? { n: 0, value: null, stats: {} }
    expectSame(v.n, want.n, `${path}/${v.arm}.n`)
    expectSame(v.value, want.value, `${path}/${v.arm}.value`)
    const stats = 'survival' in v.stats ? { ...v.stats, survival: byTime(v.stats.survival) } : v.stats
    expectSame(stats, want.stats, `${path}/${v.arm}.stats`)
  }
  if (!got.treated.n || !got.globalHoldout.n) return expect(got.lift, path).toBeNull()
  const c = got.lift!
  expect(c, path).not.toBeNull()
  expect([c.baseline, c.variant, c.metric], path).toEqual(['global_holdout', 'treated', def.key])
  const want = bruteComparison(def, brute.get('global_holdout')!, brute.get('treated')!)
  if (def.kind === 'time_to_event') {
    expectSame(c.estimate, want.relative.estimate, `${path}.estimate`)
    expectSame(c.ci, want.relative.ci, `${path}.ci`)
  } else {
    expectSame(c.absolute.ci, want.absolute.ci, `${path}.absolute.ci`)
    const shown = c.fallback === 'absolute' ? want.absolute : want.relative
    expectSame(c.estimate, shown.estimate, `${path}.estimate`)
    expectSame(c.ci, shown.ci, `${path}.ci`)
  }
  // The verdict is the interval's: significant exactly when it excludes zero.
  if (c.ci) expect(c.significant, path).toBe(c.ci[0] > 0 || c.ci[1] < 0)
}

async function kpis(query: string): Promise<KpiReport> {
  const res = await h.call('GET', `/v1/kpis?from=${FROM}&to=${TO}&window=30&${query}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

describe('catalogue metrics in the program KPIs', () => {
  it('compare treated vs global holdout on every kind, for the program and each experiment, as the raw events say', async () => {
    const body = await kpis(`metrics=${asked.join(',')}`)
    expect(body.metrics.map((m) => m.key)).toEqual(asked)
    const want = scopes()
    for (const m of body.metrics) {
      const def = definition(m.key)
      expect([m.version, m.name, m.kind, m.unavailable]).toEqual([1, def.name, def.kind, null])
      expectScope(m, def, want.get('')!, AS_OF, false, m.key)
      expect(m.programs.map((p) => p.experimentId).sort()).toEqual(['x', 'y'])
      for (const p of m.programs) expectScope(p, def, want.get(p.experimentId)!, AS_OF, false, `${m.key}/${p.experimentId}`)
      // Enough customers in both groups that the comparison means something.
      expect(m.globalHoldout.n, m.key).toBeGreaterThan(100)
      expect(m.treated.n, m.key).toBeGreaterThan(300)
    }
    // A 30-day metric counts the customers the KPIs count.
    const shoes = body.metrics.find((m) => m.key === 'shoes_or_bags_twice')!
    expect([shoes.treated.n, shoes.globalHoldout.n]).toEqual([body.treated.n, body.globalHoldout.n])
  })

  it('count a customer once their window for the metric has ended, or everyone with include=immature', async () => {
    const asOf = T0 + 50 * DAY
    clock = asOf
    try {
      const mature = await kpis('metrics=back_31_60,chat_tickets')
      const immature = await kpis('metrics=back_31_60,chat_tickets&include=immature')
      const want = scopes()
      for (const [body, all] of [
        [mature, false],
        [immature, true],
      ] as const)
        for (const m of body.metrics) expectScope(m, definition(m.key), want.get('')!, asOf, all, `${m.key}${all ? ' (immature)' : ''}`)
      // Nobody has reached day 60 by day 50 of the period.
      const late = mature.metrics.find((m) => m.key === 'back_31_60')!
      expect(late.treated.n + late.globalHoldout.n).toBe(0)
      expect(late.lift).toBeNull()
    } finally {
      clock = AS_OF
    }
  })

  it('say why a quantile has no numbers, and answer the others', async () => {
    const body = await kpis('metrics=median_order,purchases')
    expect(body.metrics[0].unavailable).toMatch(/quantile/i)
    expect([body.metrics[0].treated.n, body.metrics[0].lift]).toEqual([0, null])
    expect(body.metrics[1].unavailable).toBeNull()
    expect(body.metrics[1].treated.n).toBe(body.treated.n)
  })

  it('read a named version; a new version changes what the key alone reads', async () => {
    const v2 = { ...drafts.find((d) => d.key === 'purchases'), window: { endDays: 10 } }
    expect((await h.call('POST', '/v1/metrics/purchases/versions', v2)).status).toBe(201)
    const [latest, first] = (await kpis('metrics=purchases,purchases@1')).metrics
    expect([latest.version, first.version]).toEqual([2, 1])
    expect(latest.treated.value!).toBeLessThan(first.treated.value!)
  })

  it('restrict to a segment: the metric counts the customers the segment KPIs count', async () => {
    expect((await h.call('POST', '/v1/segments', { key: 'bought_before', name: 'Bought before', rule: { orders_90d: { $gte: 1 } } })).status).toBe(201)
    const body = await kpis('segment=bought_before&metrics=shoes_or_bags_twice')
    const [m] = body.metrics as KpiMetric[]
    expect(m.treated.n).toBe(body.treated.n)
    expect(m.globalHoldout.n).toBe(body.globalHoldout.n)
    expect(body.treated.n).toBeGreaterThan(0)
    expect(body.treated.n).toBeLessThan((await kpis('metrics=shoes_or_bags_twice')).treated.n)
  })

  it('refuse unknown, built-in, malformed or too many metrics with a 400 naming `metrics`', async () => {
    for (const q of [
      'nope_nope',
      'reactivation',
      'purchases@9',
      `${encodeURIComponent("x' OR 1=1 --")}`,
      'a,b,c,d,e,f,g,h,i'.replace(/[a-i]/g, (c) => `m_${c}`),
    ]) {
      const res = await h.call('GET', `/v1/kpis?metrics=${q}`)
      expect(res.status, q).toBe(400)
      expect(res.body.error.field, q).toBe('metrics')
    }
  })
})
