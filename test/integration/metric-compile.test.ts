import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { getExperiment } from '../../api/experiments/store.ts'
import { MetricDefinitionInput, type MetricFilter, type MetricSource, type MetricValue } from '../../api/metrics/schema.ts'
import { compileMetrics, sourcesOf, type CompilableMetric, type MeanMetric, type QuantileMetric } from '../../api/metrics/compile.ts'
import { addPropertyColumns, propertyColumnName, propertyColumnsFilled, propertyKeysOf, storedPropertyColumns } from '../../api/stores/property-columns.ts'
import { quantileComparison, type QuantileArmResult } from '../../api/metrics/quantile-values.ts'
import { metricArmValues, type MetricArmValues } from '../../api/metrics/arm-values.ts'
import { metricPreviewRoutes } from '../../api/routes/metric-preview.ts'
import { quantileRankBounds, sampleQuantile, type SurvivalRow } from '../../stats/index.ts'
import type { RawEvent } from '../helpers/raw-event.ts'
import {
  bruteComparison,
  expectSame,
  countedFor,
  eventValue as refEventValue,
  inWindow,
  qualifies,
  referenceArms,
  referenceCustomers,
} from '../helpers/metric-reference.ts'

/**
 * Catalogue metrics against a brute force: a random world of custom events with properties is written through the
 * API, every customer's value of every definition is recomputed here from the raw events sent (docs/metrics.md),
 * and per-arm n, sums and values must agree with the compiled query to 1e-9, and the intervals with the stats
 * module applied to the brute-force sums.
 */

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')
const AS_OF = T0 + 100 * DAY
const MARGIN_RATE = 0.25
const LOOKBACK_DAYS = 60
const EXP = 'catalogue'
let clock = T0
let h: Harness

/** Text that would change the SQL if it were ever spliced in. */
const NASTY_KEY = `it's "q" \\ {x:String}`
const NASTY_VALUE = `') OR 1=1 --`
const QUOTED_VALUE = `a'b"c\\d`

type Props = Record<string, unknown>
const exposures = new Map<string, { arm: string; t0: number }>()
const events: RawEvent[] = []

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  // Until api/app.ts mounts the preview, mount it here (before the first request builds the router's matcher).
  if (!h.app.routes.some((r) => r.path === '/v1/metrics/preview'))
    h.app.route('/v1/metrics', metricPreviewRoutes({ db: h.db, ch: h.ch, keys: h.retention.keys, now: () => clock }))
  const created = await h.call('POST', '/v1/experiments', {
    id: EXP,
    name: 'Catalogue metrics',
    holdoutPct: 0.1,
    arms: [
      { key: 'control', name: 'Message only', weight: 0.5, isControl: true },
      { key: 'offer', name: '20% off', weight: 0.5, offer: { type: 'percent_off', value: 20 } },
    ],
    analysis: { cuped: { enabled: true, lookbackDays: LOOKBACK_DAYS }, defaultMarginRate: MARGIN_RATE },
  })
  expect(created.status).toBe(201)
  await h.call('POST', `/v1/experiments/${EXP}/start`)
  expect((await h.call('POST', '/v1/experiments', twoArmExperiment('drafty'))).status).toBe(201)

  const rand = mulberry32(17)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]
  const ids = Array.from({ length: 1600 }, (_, i) => `c-${i}`)
  for (let day = 0; day < 50; day++) {
    clock = T0 + day * DAY + Math.floor(rand() * DAY)
    const cohort = ids.filter((_, i) => i % 50 === day)
    const res = await h.call('POST', '/v1/assign/batch', { experimentId: EXP, customers: cohort.map((customerId) => ({ customerId })) })
    for (const a of res.body.assignments) if (a.inExperiment) exposures.set(a.customerId, { arm: a.arm, t0: clock })
  }
  // A later assignment of some customers changes nothing: only the first exposure counts.
  clock = T0 + 60 * DAY
  await h.call('POST', '/v1/assign/batch', { experimentId: EXP, customers: ids.filter((_, i) => i % 9 === 2).map((customerId) => ({ customerId })) })

  let n = 0
  const boundaries = [0, 7, 10, 30, 31, 40, 45, 60, 90]
  for (const id of ids) {
    const base = exposures.get(id)?.t0 ?? T0 + 20 * DAY
    const k = Math.floor(rand() * 14)
    for (let j = 0; j < k; j++) {
      const r = rand()
      // Some events exactly on a window's boundary or a millisecond before it.
      const ts = r < 0.12 ? base + pick(boundaries) * DAY - (rand() < 0.3 ? 1 : 0) : base + Math.round((rand() * 180 - 70) * DAY)
      const e: RawEvent = { eventId: `e${n++}`, customerId: id, type: '', ts }
      const t = rand()
      if (t < 0.35) {
        e.type = 'purchase'
        e.revenue = rand() < 0.15 ? pick([25.5, 30, 49.99]) : Math.round(Math.exp(2.5 + rand() * 1.5) * 100) / 100
        if (rand() < 0.5) e.margin = rand() < 0.15 ? 5 : Math.round((rand() * 30 - 3) * 100) / 100
        if (rand() < 0.6) e.orderId = `o-${n % 40}`
        if (rand() < 0.6) {
          const category = pick(['shoes', 'bags', 'hats'])
          e.properties = { category, item: { category, price: Math.round(rand() * 10000) / 100 } }
          const coupon = rand()
          if (coupon < 0.3) e.properties.coupon = 'SAVE10'
          else if (coupon < 0.5) e.properties.coupon = null
        }
      } else if (t < 0.4) {
        e.type = 'refund'
        e.revenue = Math.round(rand() * 3000) / 100
      } else if (t < 0.6) {
        e.type = 'support_ticket'
        const p: Props = {}
        if (rand() < 0.85) p.channel = pick(['email', 'chat', 'phone'])
        const s = rand()
        p.severity = s < 0.15 ? '3' : s < 0.25 ? 3.5 : 1 + Math.floor(rand() * 5)
        if (rand() < 0.3) p.tags = ['late', 'damaged']
        if (rand() < 0.2) p.escalated = rand() < 0.5
        if (rand() < 0.1) p.channel = 3
        e.properties = p
      } else if (t < 0.9) {
        e.type = 'page_view'
        const p: Props = { page: pick(['home', 'product', 'cart']) }
        const item: Props = {}
        // A slash, non-ASCII letters and an emoji: text the raw-JSON readers must compare unescaped.
        if (rand() < 0.8) item.category = pick(['shoes', 'bags', 'hats', 'sacs/à main 😀'])
        item.price = rand() < 0.1 ? '19.99' : Math.round(rand() * 12000) / 100
        if (rand() < 0.85) p.item = item
        else if (rand() < 0.5) p.item = 'shoes'
        const d = rand()
        p.duration = d < 0.1 ? null : d < 0.2 ? '12' : Math.round(rand() * 600) / 10
        if (rand() < 0.05) delete p.duration
        e.properties = p
      } else {
        e.type = 'offer_redeemed'
        e.cost = Math.round(rand() * 1000) / 100
        e.experimentId = rand() < 0.8 ? EXP : 'other'
        if (rand() < 0.5) e.arm = pick(['offer', 'x', ''])
      }
      if (rand() < 0.03) e.properties = { ...e.properties, [NASTY_KEY]: NASTY_VALUE, note: '{x:String}', quote: QUOTED_VALUE }
      if (e.ts <= Date.now()) events.push(e)
    }
  }
  for (let i = 0; i < events.length; i += 5000) {
    const res = await h.call('POST', '/v1/events', events.slice(i, i + 5000))
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
  }
  // Resent events count once.
  await h.call('POST', '/v1/events', events.slice(200, 700))
  clock = AS_OF + 5 * DAY
}, 180_000)
afterAll(() => h?.close())

// ——— The definitions: every kind compiled, every operator on fields and properties, late windows, both caps ———

const src = (eventTypes: string[], filters: MetricFilter[] = []): MetricSource => ({ eventTypes, filters })
const prop = (path: string, rest: Record<string, unknown>) => ({ on: 'property', path, ...rest }) as MetricFilter
const field = (name: string, rest: Record<string, unknown>) => ({ on: 'field', field: name, ...rest }) as MetricFilter
const define = <T = CompilableMetric>(x: Record<string, unknown>) => MetricDefinitionInput.parse({ name: x.key, ...x }) as T

const revenue30 = define({
  key: 'revenue_30',
  kind: 'mean',
  source: src(['purchase']),
  value: { of: 'revenue' },
  window: { endDays: 30 },
  cuped: false,
}) as MeanMetric
const orders30 = define({
  key: 'orders_30',
  kind: 'mean',
  source: src(['purchase']),
  value: { of: 'count' },
  window: { endDays: 30 },
  cuped: false,
}) as MeanMetric
const cappedPrice = define({
  key: 'capped_price',
  kind: 'mean',
  source: src(['page_view']),
  value: { of: 'property', path: 'item.price' },
  window: { endDays: 30 },
  capping: { type: 'percentile', percentile: 0.9 },
}) as MeanMetric

const definitions: CompilableMetric[] = [
  define({ key: 'second_order_60', kind: 'proportion', source: src(['purchase']), minEvents: 2, window: { endDays: 60 } }),
  define({ key: 'still_buying_31_90', kind: 'retention', source: src(['purchase']), window: { startDays: 31, endDays: 90 } }),
  define({
    key: 'urgent_tickets',
    kind: 'proportion',
    source: src(['support_ticket'], [prop('channel', { op: 'in', values: ['chat', 'phone', 3] }), prop('severity', { op: 'gte', value: 3 })]),
    window: { endDays: 30 },
  }),
  define({ key: 'tickets_per_customer', kind: 'mean', source: src(['support_ticket']), value: { of: 'count' }, window: { endDays: 30 } }),
  define({
    key: 'shoe_revenue',
    kind: 'mean',
    source: src(['purchase'], [prop('item.category', { op: 'eq', value: 'shoes' })]),
    value: { of: 'revenue' },
    window: { endDays: 45 },
    capping: { type: 'absolute', value: 150 },
    cuped: false,
  }),
  define({
    key: 'margin_capped',
    kind: 'mean',
    source: src(['purchase', 'refund'], [field('margin', { op: 'neq', value: 5 })]),
    value: { of: 'margin' },
    window: { endDays: 60 },
    capping: { type: 'percentile', percentile: 0.9 },
  }),
  define({
    key: 'item_price',
    kind: 'mean',
    source: src(['page_view'], [prop('item.category', { op: 'not_in', values: ['bags', 'sacs/à main 😀'] }), prop('duration', { op: 'lt', value: 30 })]),
    value: { of: 'property', path: 'item.price' },
    window: { startDays: 7, endDays: 40 },
    capping: { type: 'percentile', percentile: 0.95 },
  }),
  define({
    key: 'redeemed_cost',
    kind: 'mean',
    source: src(
      ['offer_redeemed'],
      [
        field('experiment_id', { op: 'eq', value: EXP }),
        field('arm', { op: 'not_in', values: ['x', 7] }),
        field('cost', { op: 'gt', value: 1 }),
        field('cost', { op: 'lte', value: 7.5 }),
      ],
    ),
    value: { of: 'cost' },
    window: { endDays: 30 },
  }),
  define({
    key: 'mid_orders',
    kind: 'mean',
    source: src(
      ['purchase'],
      [
        field('order_id', { op: 'neq', value: '' }),
        field('revenue', { op: 'lt', value: 80 }),
        field('revenue', { op: 'gte', value: 10 }),
        field('margin', { op: 'exists' }),
        field('margin', { op: 'lte', value: 8 }),
        field('order_id', { op: 'in', values: ['o-1', 'o-2', 'o-3', 'o-5', 'o-8', 'o-13', 'o-21', 'o-34', 12] }),
      ],
    ),
    value: { of: 'count' },
    window: { endDays: 60 },
    cuped: false,
  }),
  define({
    key: 'home_views',
    kind: 'mean',
    source: src(
      ['page_view'],
      [prop('page', { op: 'eq', value: 'home' }), prop('duration', { op: 'lte', value: 10 }), prop('item.price', { op: 'gt', value: 50 })],
    ),
    value: { of: 'property', path: 'duration' },
    window: { endDays: 30 },
  }),
  define({
    key: 'ticket_mix',
    kind: 'proportion',
    source: src(
      ['support_ticket'],
      [
        prop('channel', { op: 'neq', value: 'email' }),
        prop('severity', { op: 'in', values: [1, 2, 3] }),
        prop('tags', { op: 'exists' }),
        prop('tags.length', { op: 'not_in', values: [2] }),
      ],
    ),
    window: { endDays: 45 },
  }),
  define({
    key: 'severity_three',
    kind: 'retention',
    source: src(['support_ticket'], [prop('severity', { op: 'eq', value: 3 }), prop('escalated', { op: 'neq', value: 'true' })]),
    window: { startDays: 10, endDays: 60 },
  }),
  define({
    key: 'round_prices',
    kind: 'retention',
    source: src(['purchase'], [field('revenue', { op: 'in', values: ['x', 25.5, 30, 49.99] }), field('revenue', { op: 'neq', value: 25.5 })]),
    window: { endDays: 30 },
  }),
  define({ key: 'price_49', kind: 'proportion', source: src(['purchase'], [field('revenue', { op: 'eq', value: 49.99 })]), window: { endDays: 60 } }),
  define({ key: 'coupon_buyers', kind: 'retention', source: src(['purchase'], [prop('coupon', { op: 'exists' })]), window: { endDays: 30 } }),
  {
    ...define({ key: 'aov_30', kind: 'ratio', numerator: 'revenue_30', denominator: 'orders_30' }),
    parts: { numerator: revenue30, denominator: orders30 },
  } as CompilableMetric,
  {
    ...define({ key: 'price_per_order', kind: 'ratio', numerator: 'capped_price', denominator: 'orders_30' }),
    parts: { numerator: cappedPrice, denominator: orders30 },
  } as CompilableMetric,
  define({
    key: 'first_chat',
    kind: 'time_to_event',
    source: src(['support_ticket'], [prop('channel', { op: 'eq', value: 'chat' })]),
    window: { endDays: 45 },
  }),
  define({ key: 'late_ticket', kind: 'time_to_event', source: src(['support_ticket', 'refund']), window: { startDays: 10, endDays: 60 } }),
]

// ——— The brute force, from the raw events sent ———

const eventValue = (e: RawEvent, v: MetricValue) => refEventValue(e, v, MARGIN_RATE)
const customersAsOf = (asOf: number) => referenceCustomers(exposures, events, asOf)
const bruteForce = (def: CompilableMetric, asOf: number, immature: boolean) =>
  referenceArms(def, customersAsOf(asOf), asOf, immature, { marginRate: MARGIN_RATE, lookbackDays: LOOKBACK_DAYS })

/** Kaplan–Meier rows in one order (the report lists a day's events, at d + 1, before its censorings, at d). */
const byTime = (rows: SurvivalRow[]) => [...rows].sort((a, b) => a.time - b.time || b.events - a.events)

function expectMatchesBruteForce(m: MetricArmValues, def: CompilableMetric, asOf: number, immature: boolean) {
  const brute = bruteForce(def, asOf, immature)
  for (const v of m.values) {
    const want = brute.get(v.arm) ?? { n: 0, value: null, stats: {} }
    expectSame(v.n, want.n, `${def.key}/${v.arm}.n`)
    expectSame(v.value, want.value, `${def.key}/${v.arm}.value`)
    const stats = 'survival' in v.stats ? { ...v.stats, survival: byTime(v.stats.survival) } : v.stats
    expectSame(stats, want.stats, `${def.key}/${v.arm}.stats`)
  }
  const [c] = m.comparisons
  expect(c.variant).toBe('offer')
  const want = bruteComparison(def, brute.get('control')!, brute.get('offer')!)
  if (def.kind === 'time_to_event') {
    expectSame(c.estimate, want.relative.estimate, `${def.key}.estimate`)
    expectSame(c.ci, want.relative.ci, `${def.key}.ci`)
    return
  }
  expectSame(c.absolute.estimate, want.absolute.estimate, `${def.key}.absolute.estimate`)
  expectSame(c.absolute.ci, want.absolute.ci, `${def.key}.absolute.ci`)
  const shown = c.fallback === 'absolute' ? want.absolute : want.relative
  expectSame(c.estimate, shown.estimate, `${def.key}.estimate`)
  expectSame(c.ci, shown.ci, `${def.key}.ci`)
  expectSame(c.pValue, shown.pValue, `${def.key}.pValue`)
}

describe('catalogue metrics compiled to ClickHouse', () => {
  it('match a brute force over the raw events for every kind, operator, window and cap (mature customers)', async () => {
    const exp = await getExperiment(h.db, EXP)
    const result = await metricArmValues(h.ch, exp, definitions, { asOf: AS_OF }, clock)
    expect(result.arms.map((a) => a.key)).toEqual(['holdout', 'control', 'offer'])
    for (const [i, def] of definitions.entries()) expectMatchesBruteForce(result.metrics[i], def, AS_OF, false)
    // The world is rich enough that every definition has something to count in every arm.
    for (const m of result.metrics) for (const v of m.values) expect(v.n, `${m.key}/${v.arm}`).toBeGreaterThan(10)
    for (const m of result.metrics.filter((x) => x.kind !== 'time_to_event'))
      expect(
        m.values.some((v) => v.value !== 0),
        m.key,
      ).toBe(true)
  })

  it('match the brute force with immature customers included, at an asOf inside most windows', async () => {
    const exp = await getExperiment(h.db, EXP)
    const asOf = T0 + 52 * DAY
    const result = await metricArmValues(h.ch, exp, definitions, { asOf, include: 'immature' }, clock)
    for (const [i, def] of definitions.entries()) expectMatchesBruteForce(result.metrics[i], def, asOf, true)
  })

  it('give the same statistics when the customers are read in many slices', async () => {
    const exp = await getExperiment(h.db, EXP)
    const sliceable = definitions.filter((d) => !JSON.stringify(d).includes('"percentile"'))
    const whole = await metricArmValues(h.ch, exp, sliceable, { asOf: AS_OF }, clock)
    const sliced = await metricArmValues(h.ch, exp, sliceable, { asOf: AS_OF }, clock, { customersPerSlice: 150 })
    expectSame(sliced.metrics, whole.metrics, 'sliced')
  })

  it('counts only customers whose window has ended by asOf', async () => {
    const exp = await getExperiment(h.db, EXP)
    const late = definitions.find((d) => d.key === 'still_buying_31_90')!
    const [m] = (await metricArmValues(h.ch, exp, [late], { asOf: AS_OF }, clock)).metrics
    for (const v of m.values) {
      const mature = [...exposures.values()].filter((x) => x.arm === v.arm && x.t0 + 90 * DAY <= AS_OF).length
      expect(v.n).toBe(mature)
    }
    expect(m.values.reduce((s, v) => s + v.n, 0)).toBeLessThan(exposures.size)
  })
})

// ——— Quantiles (stats/quantile.ts): the arm's quantile over qualifying events, its clustered interval ———

const quantiles: QuantileMetric[] = [
  define<QuantileMetric>({
    key: 'median_order',
    kind: 'quantile',
    source: src(['purchase']),
    value: { of: 'revenue' },
    quantile: 0.5,
    window: { endDays: 45 },
  }),
  define<QuantileMetric>({
    key: 'p90_late_price',
    kind: 'quantile',
    source: src(['page_view'], [prop('item.price', { op: 'gt', value: 3 })]),
    value: { of: 'property', path: 'item.price' },
    quantile: 0.9,
    window: { startDays: 5, endDays: 50 },
  }),
]

/** Each arm from the raw events: counted customers, qualifying events, the quantile, the per-customer sums and the interval. */
function bruteQuantile(def: QuantileMetric, asOf: number, immature: boolean, alpha: number): Map<string, QuantileArmResult> {
  const out = new Map<string, QuantileArmResult>()
  const byArm = new Map<string, number[][]>()
  for (const c of customersAsOf(asOf)) {
    if (c.t0 > asOf || !countedFor(c, def.window.endDays, asOf, immature)) continue
    const values = c.events.filter((e) => inWindow(e.dt, def.window) && qualifies(e, def.source)).map((e) => eventValue(e, def.value))
    byArm.set(c.arm, [...(byArm.get(c.arm) ?? []), values])
  }
  for (const [arm, customers] of byArm) {
    const sorted = customers.flat().sort((a, b) => a - b)
    const estimate = sampleQuantile(sorted, def.quantile)
    const sums = { n: customers.length, belowSum: 0, belowSumSquares: 0, eventsSum: sorted.length, eventsSumSquares: 0, crossSum: 0 }
    for (const values of customers) {
      const a = estimate === null ? 0 : values.filter((x) => x <= estimate).length
      sums.belowSum += a
      sums.belowSumSquares += a * a
      sums.eventsSumSquares += values.length ** 2
      sums.crossSum += a * values.length
    }
    const bounds = estimate === null ? null : quantileRankBounds(sums, def.quantile, alpha)
    out.set(arm, {
      arm,
      n: customers.length,
      events: sorted.length,
      estimate,
      ci: bounds ? [sampleQuantile(sorted, bounds.lower)!, sampleQuantile(sorted, bounds.upper)!] : null,
      rank: estimate === null ? null : sums,
    })
  }
  return out
}

function expectQuantileMatches(m: MetricArmValues, def: QuantileMetric, asOf: number, immature: boolean) {
  const brute = bruteQuantile(def, asOf, immature, 0.05)
  expect(m.kind).toBe('quantile')
  for (const v of m.values) {
    const b = brute.get(v.arm)!
    const stats = v.stats as { events: number; ci: [number, number] | null; rank: unknown }
    expect([v.n, stats.events], `${def.key} ${v.arm}`).toEqual([b.n, b.events])
    expectSame(v.value, b.estimate, `${def.key} ${v.arm} quantile`)
    expectSame(stats.ci, b.ci, `${def.key} ${v.arm} interval`)
    expect(stats.rank, `${def.key} ${v.arm} per-customer sums`).toEqual(b.rank)
  }
  expect(m.comparisons).toHaveLength(1)
  const want = quantileComparison(def.key, brute.get('control')!, brute.get('offer')!, 'control', 0.05)
  expectSame(m.comparisons[0].estimate, want.estimate, `${def.key} lift`)
  expectSame(m.comparisons[0].ci, want.ci, `${def.key} lift interval`)
  expectSame(m.comparisons[0].absolute.ci, want.absolute.ci, `${def.key} difference interval`)
  expect(m.comparisons[0].significant).toBe(want.significant)
}

describe('quantile metrics', () => {
  it('match a brute force over the raw events: per-arm customers, events, quantile, per-customer sums, interval and comparison', async () => {
    const exp = await getExperiment(h.db, EXP)
    const result = await metricArmValues(h.ch, exp, quantiles, { asOf: AS_OF }, clock)
    result.metrics.forEach((m, i) => expectQuantileMatches(m, quantiles[i], AS_OF, false))
    // The world has the orders and prices for an interval in every arm.
    for (const m of result.metrics) for (const v of m.values) expect((v.stats as { ci: unknown }).ci).not.toBeNull()
  })

  it('match it with immature customers included, and beside compiled metrics in one call, in order', async () => {
    const exp = await getExperiment(h.db, EXP)
    // After the last exposure (day 49), inside most windows.
    const asOf = T0 + 52 * DAY
    const result = await metricArmValues(h.ch, exp, [quantiles[0], definitions[0], quantiles[1]], { asOf, include: 'immature' }, clock)
    expect(result.metrics.map((m) => m.key)).toEqual([quantiles[0].key, definitions[0].key, quantiles[1].key])
    expectQuantileMatches(result.metrics[0], quantiles[0], asOf, true)
    expectQuantileMatches(result.metrics[2], quantiles[1], asOf, true)
    expectMatchesBruteForce(result.metrics[1], definitions[0], asOf, true)
  })

  it('are previewed through the API with the same numbers', async () => {
    const res = await h.call('POST', '/v1/metrics/preview', {
      experimentId: EXP,
      definition: {
        key: 'median_order',
        name: 'Median order value',
        kind: 'quantile',
        source: { eventTypes: ['purchase'] },
        value: { of: 'revenue' },
        quantile: 0.5,
        window: { endDays: 45 },
      },
      asOf: new Date(AS_OF).toISOString(),
    })
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
    expectQuantileMatches(res.body.metric, quantiles[0], AS_OF, false)
  })
})

describe('definitions are data, never SQL', () => {
  const matching = (f: (e: RawEvent) => boolean) =>
    new Set(customersAsOf(AS_OF).flatMap((c) => (c.events.some((e) => e.dt >= 0 && e.dt < 90 * DAY && f(e)) ? [c.id] : [])))
  const reached = async (filters: MetricFilter[], eventTypes = ['purchase', 'support_ticket', 'page_view', 'refund', 'offer_redeemed']) => {
    const exp = await getExperiment(h.db, EXP)
    const def = define({ key: 'probe', kind: 'retention', source: src(['purchase']), window: { endDays: 90 } })
    // Straight to the compiler, past the schema's path pattern: even a path it would refuse must stay data.
    const [m] = (
      await metricArmValues(h.ch, exp, [{ ...def, source: { eventTypes, filters } } as CompilableMetric], { asOf: AS_OF, include: 'immature' }, clock)
    ).metrics
    return m.values.reduce((s, v) => s + (v.stats as { sum: number }).sum, 0)
  }

  it('matches exactly the events holding a key or value with quotes, backslashes, placeholders or SQL', async () => {
    const withNasty = matching((e) => e.properties?.[NASTY_KEY] === NASTY_VALUE)
    expect(withNasty.size).toBeGreaterThan(3)
    expect(await reached([prop(NASTY_KEY, { op: 'eq', value: NASTY_VALUE })])).toBe(withNasty.size)
    expect(await reached([prop(NASTY_KEY, { op: 'exists' })])).toBe(withNasty.size)
    expect(await reached([prop('note', { op: 'in', values: ['{x:String}'] })])).toBe(withNasty.size)
    expect(await reached([prop('quote', { op: 'eq', value: QUOTED_VALUE })])).toBe(withNasty.size)
  })

  it('matches nothing when the SQL-looking text is only in the definition', async () => {
    expect(await reached([prop('note', { op: 'eq', value: NASTY_VALUE })])).toBe(0)
    expect(await reached([prop(`channel') OR 1=1 --`, { op: 'exists' })])).toBe(0)
    expect(await reached([prop(`channel\\`, { op: 'exists' })])).toBe(0)
    expect(await reached([], [`purchase') OR 1=1 --`, `{x:String}`])).toBe(0)
    expect(await reached([field('order_id', { op: 'eq', value: `' OR ''='` })])).toBe(0)
  })
})

describe('POST /v1/metrics/preview', () => {
  const draft = {
    key: 'tickets_30',
    name: 'Support tickets per customer',
    kind: 'mean',
    source: { eventTypes: ['support_ticket'], filters: [{ on: 'property', path: 'channel', op: 'neq', value: 'email' }] },
    value: { of: 'count' },
    window: { endDays: 30 },
  }

  it("answers a draft's per-arm values and comparisons, as metricArmValues computes them, to viewers", async () => {
    const viewer = await h.keyFor('viewer')
    const res = await h.call('POST', '/v1/metrics/preview', { experimentId: EXP, definition: draft, asOf: new Date(AS_OF).toISOString() }, viewer)
    expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(200)
    const exp = await getExperiment(h.db, EXP)
    const direct = await metricArmValues(h.ch, exp, [define(draft) as CompilableMetric], { asOf: AS_OF }, clock)
    expect(res.body.metric).toEqual(JSON.parse(JSON.stringify(direct.metrics[0])))
    expect(res.body.asOf).toBe(new Date(AS_OF).toISOString())
    expect(res.body.metric.comparisons[0].cuped).not.toBeNull()
    expectMatchesBruteForce(res.body.metric, define(draft) as CompilableMetric, AS_OF, false)
  })

  it('previews a ratio from the definitions of its numerator and denominator given inline', async () => {
    const ratio = { key: 'aov_30', name: 'AOV', kind: 'ratio', numerator: 'revenue_30', denominator: 'orders_30' }
    const res = await h.call('POST', '/v1/metrics/preview', { experimentId: EXP, definition: ratio, numerator: revenue30, denominator: orders30, asOf: AS_OF })
    expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(200)
    expectMatchesBruteForce(
      res.body.metric,
      definitions.find((d) => d.key === 'aov_30')!,
      AS_OF,
      false,
    )
  })

  it('refuses what it cannot preview with a status and the field to fix', async () => {
    const post = (body: unknown, key?: string | null) => h.call('POST', '/v1/metrics/preview', body, key)
    const ratio = { key: 'aov_30', name: 'AOV', kind: 'ratio', numerator: 'revenue_30', denominator: 'orders_30' }
    const cases: Array<[unknown, number, string | undefined]> = [
      [{ experimentId: 'nope', definition: draft }, 404, undefined],
      [{ experimentId: 'drafty', definition: draft }, 409, undefined],
      [
        { experimentId: EXP, definition: { ...draft, source: { eventTypes: ['x'], filters: [{ on: 'property', path: `a'b`, op: 'exists' }] } } },
        400,
        'definition.source.filters.0.path',
      ],
      [{ experimentId: EXP, definition: { ...draft, window: { startDays: 30, endDays: 30 } } }, 400, 'definition.window.endDays'],
      [
        { experimentId: EXP, definition: { ...draft, source: { eventTypes: ['x'], filters: [{ on: 'property', path: 'a', op: 'like', value: 'x' }] } } },
        400,
        'definition.source.filters.0.op',
      ],
      [{ experimentId: EXP, definition: ratio, numerator: revenue30 }, 400, 'denominator'],
      [{ experimentId: EXP, definition: ratio, numerator: revenue30, denominator: { ...definitions[0], key: 'orders_30' } }, 400, 'denominator.kind'],
      [{ experimentId: EXP, definition: ratio, numerator: orders30, denominator: orders30 }, 400, 'numerator.key'],
      [{ experimentId: EXP, definition: draft, asOf: '2026-02-30' }, 400, 'asOf'],
    ]
    for (const [body, status, fieldName] of cases) {
      const res = await post(body)
      expect(res.status, JSON.stringify(body)).toBe(status)
      if (fieldName) expect(res.body.error.field, JSON.stringify(res.body)).toBe(fieldName)
    }
    expect((await post({ experimentId: EXP, definition: draft }, null)).status).toBe(401)
  })
})

describe('property keys with columns of their own (stores/property-columns.ts)', () => {
  const keysRead = () => [...new Set([...sourcesOf(definitions), ...quantiles].flatMap((d) => propertyKeysOf(d)))]
  const filledParts = async (column: string) =>
    Number(
      (
        await (
          await h.ch.client.query({
            query: `SELECT count() AS n FROM system.parts_columns WHERE database = currentDatabase() AND table = 'events' AND active AND column = {c:String}`,
            query_params: { c: column },
            format: 'JSONEachRow',
          })
        ).json<{ n: string }>()
      )[0].n,
    )

  it('give the brute force’s numbers as soon as the columns exist and after the stored events are filled', async () => {
    const keys = keysRead()
    expect(keys).toEqual(expect.arrayContaining(['item', 'channel', 'severity', 'duration', 'coupon']))
    const added = await addPropertyColumns(h.ch, [...keys, NASTY_KEY], 100)
    expect(added.added.sort()).toEqual([...keys, NASTY_KEY].sort())
    const stored = await storedPropertyColumns(h.ch)
    for (const k of [...keys, NASTY_KEY]) expect(stored.has(propertyColumnName(k)), k).toBe(true)
    // Keys whose values repeat get LowCardinality columns, the others String: the comparisons below read both.
    const types = new Map(
      (await h.chQuery<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events'`)).map(
        (r) => [r.name, r.type],
      ),
    )
    for (const k of ['page', 'channel', 'severity']) expect(types.get(propertyColumnName(k)), k).toBe('LowCardinality(String)')
    for (const k of ['item', 'duration', NASTY_KEY]) expect(types.get(propertyColumnName(k)), k).toBe('String')
    // The compiled pass reads the key's column, not the map: the comparisons below measure the columns' path.
    const sql = compileMetrics(definitions, { cuped: true, stored }).sql()
    expect(sql).toContain(propertyColumnName('item'))
    expect(sql).not.toContain('properties_map')

    const exp = await getExperiment(h.db, EXP)
    const check = async () => {
      const result = await metricArmValues(h.ch, exp, [...definitions, ...quantiles], { asOf: AS_OF }, clock)
      definitions.forEach((def, i) => expectMatchesBruteForce(result.metrics[i], def, AS_OF, false))
      quantiles.forEach((def, i) => expectQuantileMatches(result.metrics[definitions.length + i], def, AS_OF, false))
      // A key holding quotes, a backslash and a placeholder is a column's key like any other.
      const probe = { ...define({ key: 'probe', kind: 'retention', source: src(['purchase']), window: { endDays: 90 } }) }
      const nasty = {
        ...probe,
        source: src(['purchase', 'support_ticket', 'page_view', 'refund', 'offer_redeemed'], [prop(NASTY_KEY, { op: 'eq', value: NASTY_VALUE })]),
      }
      const [m] = (await metricArmValues(h.ch, exp, [nasty as CompilableMetric], { asOf: AS_OF, include: 'immature' }, clock)).metrics
      const want = customersAsOf(AS_OF).filter((c) => c.events.some((e) => e.dt >= 0 && e.dt < 90 * DAY && e.properties?.[NASTY_KEY] === NASTY_VALUE))
      expect(want.length).toBeGreaterThan(3)
      expect(m.values.reduce((s, v) => s + (v.stats as { sum: number }).sum, 0)).toBe(want.length)
    }
    await check()
    // The fill is ClickHouse's background mutation: wait for it to be done, then every active part holds the column.
    await vi.waitFor(async () => expect(await propertyColumnsFilled(h.ch)).toBe(true), { timeout: 120_000, interval: 200 })
    expect(await filledParts(propertyColumnName('item'))).toBeGreaterThan(0)
    await check()
  }, 180_000)

  it('adds no column twice and none past the limit: a key over it is read from the map, with the same numbers', async () => {
    const before = await storedPropertyColumns(h.ch, Date.now() + 60_000)
    const again = await addPropertyColumns(h.ch, keysRead(), 100)
    expect(again).toEqual({ added: [], overLimit: [] })
    const full = await addPropertyColumns(h.ch, ['brand_new_key'], before.size)
    expect(full).toEqual({ added: [], overLimit: ['brand_new_key'] })
    expect((await storedPropertyColumns(h.ch, Date.now() + 60_000)).has(propertyColumnName('brand_new_key'))).toBe(false)
  })
})
