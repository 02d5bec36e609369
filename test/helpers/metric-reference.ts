/**
 * Catalogue metrics recomputed from raw events, independently of the SQL (metrics/compile.ts): which events
 * qualify, what each is worth, and per arm the counted customers, values and sufficient statistics that the stats
 * module takes. The brute force of the catalogue's tests (experiment arms, and the program KPIs' groups).
 */
import type { MetricFilter, MetricSource, MetricValue } from '../../api/metrics/schema.ts'
import type { CompilableMetric, MeanMetric } from '../../api/metrics/compile.ts'
import {
  compareCuped,
  compareMeans,
  compareProportions,
  compareRatios,
  compareRestrictedMeans,
  restrictedMeanSurvival,
  winsorizeCap,
  type Comparison,
  type SurvivalRow,
} from '../../stats/index.ts'
import { expect } from 'vitest'
import type { RawEvent } from './raw-event.ts'

type Props = Record<string, unknown>
const DAY = 86_400_000

const MISSING = Symbol('missing')
/** A property by its dot path through plain objects (an array or a scalar on the way: missing); null is missing. */
function lookup(props: Props | undefined, path: string): unknown {
  let at: unknown = props ?? {}
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, key)) return MISSING
    at = (at as Props)[key]
  }
  return at === null ? MISSING : at
}

function targetValue(e: RawEvent, f: MetricFilter): unknown {
  if (f.on === 'property') return lookup(e.properties, f.path)
  if (f.field === 'margin') return e.margin ?? MISSING
  if (f.field === 'revenue' || f.field === 'cost') return e[f.field] ?? 0
  return { order_id: e.orderId, experiment_id: e.experimentId, arm: e.arm }[f.field] ?? ''
}

function passes(e: RawEvent, f: MetricFilter): boolean {
  const v = targetValue(e, f)
  const eq = (x: string | number) => typeof v === typeof x && v === x
  switch (f.op) {
    case 'eq':
      return eq(f.value)
    case 'neq':
      return !eq(f.value)
    case 'in':
      return f.values.some(eq)
    case 'not_in':
      return !f.values.some(eq)
    case 'lt':
      return typeof v === 'number' && v < f.value
    case 'lte':
      return typeof v === 'number' && v <= f.value
    case 'gt':
      return typeof v === 'number' && v > f.value
    case 'gte':
      return typeof v === 'number' && v >= f.value
    case 'exists':
      return v !== MISSING
  }
}

export const qualifies = (e: RawEvent, s: MetricSource) => s.eventTypes.includes(e.type) && s.filters.every((f) => passes(e, f))

/** What one qualifying event contributes; margin falls back to revenue × `marginRate`. */
export function eventValue(e: RawEvent, v: MetricValue, marginRate: number): number {
  if (v.of === 'count') return 1
  if (v.of === 'property') {
    const x = lookup(e.properties, v.path)
    return typeof x === 'number' ? x : 0
  }
  if (v.of === 'margin') return e.margin ?? (e.revenue ?? 0) * marginRate
  return e[v.of] ?? 0
}

/** A customer measured from `t0` in group `arm`, with their events as of some instant and each one's offset from t0. */
export interface RefCustomer {
  id: string
  arm: string
  t0: number
  events: Array<RawEvent & { dt: number }>
}
type Customer = RefCustomer

/** Each exposed customer (id → arm, t0) with the events sent (resent copies once) up to `asOf`. */
export function referenceCustomers(exposures: Iterable<[string, { arm: string; t0: number }]>, events: RawEvent[], asOf: number): RefCustomer[] {
  const unique = new Map(events.map((e) => [e.eventId, e]))
  const byId = new Map<string, Customer>([...exposures].map(([id, x]) => [id, { id, arm: x.arm, t0: x.t0, events: [] }]))
  for (const e of unique.values()) {
    const c = byId.get(e.customerId)
    if (c && e.ts <= asOf) c.events.push({ ...e, dt: e.ts - c.t0 })
  }
  return [...byId.values()]
}

export const inWindow = (dt: number, w: { startDays: number; endDays: number }) => dt >= w.startDays * DAY && dt < w.endDays * DAY
export const countedFor = (c: Customer, endDays: number, asOf: number, immature: boolean) => immature || c.t0 + endDays * DAY <= asOf

/** Per customer: whether counted, the capped value and (CUPED) the capped pre-exposure value of a mean. */
function meanPerCustomer(def: MeanMetric, customers: Customer[], asOf: number, immature: boolean, o: ReferenceOptions) {
  const rows = customers.map((c) => {
    const sel = c.events.filter((e) => qualifies(e, def.source))
    return {
      c,
      counted: countedFor(c, def.window.endDays, asOf, immature),
      x: sel.filter((e) => inWindow(e.dt, def.window)).reduce((s, e) => s + eventValue(e, def.value, o.marginRate), 0),
      pre: sel.filter((e) => e.dt < 0 && e.dt >= -o.lookbackDays * DAY).reduce((s, e) => s + eventValue(e, def.value, o.marginRate), 0),
    }
  })
  const capOf = (values: number[]) =>
    def.capping.type === 'absolute' ? def.capping.value : def.capping.type === 'percentile' ? winsorizeCap(values, def.capping.percentile)! : Infinity
  const counted = rows.filter((r) => r.counted)
  const cap = capOf(counted.map((r) => r.x))
  const preCap = capOf(counted.map((r) => r.pre))
  return rows.map((r) => ({ ...r, x: Math.min(r.x, cap), pre: Math.min(r.pre, preCap) }))
}

export interface BruteArm {
  n: number
  value: number | null
  stats: Record<string, unknown>
}

export interface ReferenceOptions {
  marginRate: number
  lookbackDays: number
}

/**
 * Per arm (each customer's `arm`): counted customers, value and sufficient statistics of a definition, from the
 * customers' raw events (docs/metrics.md). A percentile cap is taken over all the customers given.
 */
export function referenceArms(def: CompilableMetric, customers: RefCustomer[], asOf: number, immature: boolean, o: ReferenceOptions): Map<string, BruteArm> {
  const arms = new Map<string, Customer[]>()
  for (const c of customers) arms.set(c.arm, [...(arms.get(c.arm) ?? []), c])
  const out = new Map<string, BruteArm>()
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0)
  if (def.kind === 'mean') {
    const rows = meanPerCustomer(def, customers, asOf, immature, o).filter((r) => r.counted)
    for (const arm of arms.keys()) {
      const rs = rows.filter((r) => r.c.arm === arm)
      const stats = { n: rs.length, sum: sum(rs.map((r) => r.x)), sumSquares: sum(rs.map((r) => r.x * r.x)) }
      const pre = { sum: sum(rs.map((r) => r.pre)), sumSquares: sum(rs.map((r) => r.pre * r.pre)), crossSum: sum(rs.map((r) => r.x * r.pre)) }
      out.set(arm, { n: rs.length, value: rs.length ? stats.sum / rs.length : null, stats: { ...stats, ...(def.cuped ? { pre } : {}) } })
    }
  } else if (def.kind === 'ratio') {
    const num = meanPerCustomer(def.parts.numerator, customers, asOf, immature, o)
    const den = meanPerCustomer(def.parts.denominator, customers, asOf, immature, o)
    const rows = num.map((r, i) => ({ c: r.c, counted: r.counted && den[i].counted, a: r.x, b: den[i].x })).filter((r) => r.counted)
    for (const arm of arms.keys()) {
      const rs = rows.filter((r) => r.c.arm === arm)
      const stats = {
        n: rs.length,
        numSum: sum(rs.map((r) => r.a)),
        numSumSquares: sum(rs.map((r) => r.a * r.a)),
        denSum: sum(rs.map((r) => r.b)),
        denSumSquares: sum(rs.map((r) => r.b * r.b)),
        crossSum: sum(rs.map((r) => r.a * r.b)),
      }
      out.set(arm, { n: rs.length, value: rs.length && stats.denSum ? stats.numSum / stats.denSum : null, stats })
    }
  } else if (def.kind === 'time_to_event') {
    for (const [arm, cs] of arms) {
      const byTime = new Map<string, SurvivalRow>()
      const add = (time: number, events: number, censored: number) => {
        const row = byTime.get(`${time}:${events > 0}`) ?? { time, events: 0, censored: 0 }
        row.events += events
        row.censored += censored
        byTime.set(`${time}:${events > 0}`, row)
      }
      let n = 0
      for (const c of cs.filter((c) => countedFor(c, def.window.endDays, asOf, immature))) {
        n++
        const hits = c.events.filter((e) => qualifies(e, def.source) && inWindow(e.dt, def.window)).map((e) => e.dt)
        // An event within day d (0-based) happened by d + 1 days; a censored customer was followed ⌈observed⌉ days.
        if (hits.length) add(Math.floor(Math.min(...hits) / DAY) + 1, 1, 0)
        else add(Math.ceil(Math.max(0, Math.min(def.window.endDays * DAY, asOf - c.t0)) / DAY), 0, 1)
      }
      const survival = [...byTime.values()].sort((a, b) => a.time - b.time || b.events - a.events)
      const events = sum(survival.map((r) => r.events))
      out.set(arm, { n, value: n ? restrictedMeanSurvival(survival, def.window.endDays).estimate : null, stats: { n, events, survival } })
    }
  } else {
    const atLeast = def.kind === 'proportion' ? def.minEvents : 1
    for (const [arm, cs] of arms) {
      const counted = cs.filter((c) => countedFor(c, def.window.endDays, asOf, immature))
      const hits = counted.filter((c) => c.events.filter((e) => qualifies(e, def.source) && inWindow(e.dt, def.window)).length >= atLeast).length
      out.set(arm, { n: counted.length, value: counted.length ? hits / counted.length : null, stats: { n: counted.length, sum: hits } })
    }
  }
  return out
}

/** The comparison of a variant vs its baseline from the brute-force statistics, relative and absolute. */
export function bruteComparison(def: CompilableMetric, control: BruteArm, variant: BruteArm): { relative: Comparison; absolute: Comparison } {
  const run = (kind: 'relative' | 'absolute') => {
    const o = { kind, alpha: 0.05 }
    const [a, b] = [control.stats, variant.stats] as any[]
    if (def.kind === 'proportion' || def.kind === 'retention') return compareProportions(a, b, o)
    if (def.kind === 'ratio') return compareRatios(a, b, o)
    if (def.kind === 'time_to_event') {
      const c = compareRestrictedMeans(a.survival, b.survival, def.window.endDays, { alpha: 0.05 })
      return c as unknown as Comparison
    }
    if (def.cuped) return compareCuped({ n: a.n, post: a, pre: a.pre, crossSum: a.pre.crossSum }, { n: b.n, post: b, pre: b.pre, crossSum: b.pre.crossSum }, o)
    return compareMeans(a, b, o)
  }
  return { relative: run('relative'), absolute: run('absolute') }
}

/** Equal numbers to 1e-9 relative (1e-9 absolute near 0), deeply; other values exactly. */
export function expectSame(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)))
  } else if (expected && typeof expected === 'object') {
    expect(actual && typeof actual === 'object', `${path} is an object`).toBe(true)
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual as object)])) expectSame((actual as any)[k], (expected as any)[k], `${path}.${k}`)
  } else expect(actual, path).toEqual(expected)
}
