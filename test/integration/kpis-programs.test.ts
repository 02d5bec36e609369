import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { fixedHorizonTest, welchSatterthwaiteDf } from '../../stats/frequentist.ts'
import type { KpiGroup, KpiReport } from '../../api/contract/kpis.ts'
import type { RawEvent } from '../helpers/raw-event.ts'

/*
 * Program KPIs (docs/kpis.md) over five experiments (ids a–e) whose customers overlap, recomputed by brute force
 * from every assignment's answer and every raw event. A, B and C carry the program (C with its own 20% holdout);
 * D has six treated customers and no held-out one (no estimate: listed last); E enrols only in the last days,
 * so at asOf every E customer is still inside their window. 10% of customers are in the global holdout.
 */
const DAY = 86_400_000
const WINDOW = 30 * DAY
const T0 = Date.parse('2026-06-01T00:00:00Z') // a Monday
const FROM = T0
const TO = T0 + 35 * DAY
const AS_OF = T0 + 45 * DAY
/** Every C customer was first exposed from day 10 on: at day 39 none of them has a closed window. */
const EARLY_AS_OF = T0 + 39 * DAY
const MARGIN_RATE = 0.3
const EFFECT_SHARE = 0.3

let clock = T0
let h: Harness

interface Exposure {
  experimentId: string
  customerId: string
  /** The answer: an arm key, 'holdout' (the experiment's own) or 'global_holdout'. */
  arm: string
  ts: number
}
const exposures: Exposure[] = []
const events: RawEvent[] = []
const eventsOf = new Map<string, RawEvent[]>()

/** Who gets assigned to what, in order; each later experiment some days after the previous one. */
const PLANS: Array<[number, string[]]> = [
  [0.22, ['a']],
  [0.15, ['a', 'b']],
  [0.12, ['b', 'c']],
  [0.1, ['c']],
  [0.08, ['c', 'a']],
  [0.08, ['a', 'b', 'c']],
  [0.07, ['a', 'a']],
  [0.06, ['b']],
  [0.05, ['a', 'e']],
  [0.02, ['a', 'late']],
  [0.02, ['late']],
  [0.03, []],
]

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  // The global holdout can only change while no experiment is active.
  expect((await h.call('PUT', '/v1/settings', { globalHoldoutPct: 0.1 })).status).toBe(200)
  for (const id of ['a', 'b', 'c', 'd', 'e']) {
    expect((await h.call('POST', '/v1/experiments', twoArmExperiment(id, id === 'c' ? { holdoutPct: 0.2 } : {}))).status).toBe(201)
    expect((await h.call('POST', '/v1/experiments/' + id + '/start')).status).toBe(200)
  }

  const rand = mulberry32(20261201)
  // Half-day slots with a few minutes of jitter, so first exposures are not round numbers.
  const slotTime = (day: number) => T0 + Math.floor(day * 2) * (DAY / 2) + ((Math.floor(day * 2) * 7919) % 600_000)
  const schedule = new Map<number, Map<string, string[]>>()
  const plan = (ts: number, experimentId: string, customerId: string) => {
    const slot = schedule.get(ts) ?? new Map<string, string[]>()
    slot.set(experimentId, [...(slot.get(experimentId) ?? []), customerId])
    schedule.set(ts, slot)
  }
  const ids = Array.from({ length: 2000 }, (_, i) => `cust-${i}`)
  for (const id of ids) {
    let r = rand()
    const steps = PLANS.find(([p]) => (r -= p) < 0)?.[1] ?? []
    let day = steps[0] === 'c' ? 10 + rand() * 8 : rand() * 18
    for (const step of steps) {
      // 'late': assigned again after `to`, or for the first time (then outside the period).
      if (step === 'late') plan(slotTime(36 + rand()), 'a', id)
      else if (step === 'e') plan(slotTime(16 + rand() * 5), 'e', id)
      else plan(slotTime(step === 'c' ? Math.max(day, 10) : day), step, id)
      day = Math.min(day + 1 + rand() * 5, 21.9)
    }
  }
  // D, at day 14: six customers A has already treated.
  const dAt = slotTime(14)
  schedule.set(dAt, (schedule.get(dAt) ?? new Map<string, string[]>()).set('d', []))
  for (const [ts, slot] of [...schedule].sort(([a], [b]) => a - b)) {
    clock = ts
    for (const [experimentId, planned] of slot) {
      const customers =
        experimentId === 'd'
          ? exposures
              .filter((x) => x.experimentId === 'a' && x.arm !== 'global_holdout' && x.ts < ts)
              .slice(0, 6)
              .map((x) => x.customerId)
          : planned
      const res = await h.call('POST', '/v1/assign/batch', { experimentId, customers: customers.map((customerId) => ({ customerId })) })
      expect(res.status).toBe(200)
      for (const a of res.body.assignments) {
        const arm = a.inExperiment ? a.arm : a.reason === 'global_holdout' ? 'global_holdout' : null
        if (arm) exposures.push({ experimentId, customerId: a.customerId, arm, ts })
      }
    }
  }

  let n = 0
  const money = (max: number) => Math.round(rand() * max * 100) / 100
  const event = (customerId: string, ts: number): RawEvent => {
    const r = rand()
    const eventId = `e${n++}`
    if (r < 0.5) return { eventId, customerId, type: 'purchase', ts, revenue: money(120), ...(rand() < 0.4 ? { margin: money(40) } : {}) }
    if (r < 0.62) return { eventId, customerId, type: 'refund', ts, revenue: money(60), ...(rand() < 0.3 ? { margin: money(15) } : {}) }
    if (r < 0.87) return { eventId, customerId, type: 'offer_redeemed', ts, cost: money(12), experimentId: ['a', 'b', 'c', 'other'][Math.floor(rand() * 4)] }
    return { eventId, customerId, type: rand() < 0.5 ? 'offer_opened' : 'unsubscribe', ts }
  }
  for (const id of ids) {
    const mine = exposures.filter((x) => x.customerId === id)
    const base = mine[0]?.ts ?? T0 + rand() * 20 * DAY
    for (let k = Math.floor(rand() * 9); k > 0; k--) events.push(event(id, Math.round(base + (rand() * 75 - 15) * DAY)))
    // Window edges of every exposure: the first and last millisecond inside, and the first ones outside.
    for (const x of mine) for (const at of [x.ts - 1, x.ts, x.ts + WINDOW - 1, x.ts + WINDOW]) if (rand() < 0.3) events.push(event(id, at))
    if (rand() < 0.05) events.push(event(id, AS_OF), event(id, AS_OF + 1), event(id, EARLY_AS_OF), event(id, EARLY_AS_OF + 1))
    // A true effect that changes sign: the first cohorts' offers cost more than they bring, later ones pay off.
    const treatedAt = mine.find((x) => x.arm !== 'holdout' && x.arm !== 'global_holdout')?.ts
    if (treatedAt !== undefined && rand() < EFFECT_SHARE) {
      const ts = Math.round(treatedAt + rand() * 29 * DAY)
      const eventId = `e${n++}`
      events.push(
        treatedAt < T0 + 11 * DAY
          ? { eventId, customerId: id, type: 'offer_redeemed', ts, cost: 40, experimentId: mine[0].experimentId }
          : { eventId, customerId: id, type: 'purchase', ts, revenue: 200 },
      )
    }
  }
  for (const e of events) eventsOf.set(e.customerId, [...(eventsOf.get(e.customerId) ?? []), e])
  for (let i = 0; i < events.length; i += 5000) expect((await h.call('POST', '/v1/events', events.slice(i, i + 5000))).body.rejected).toEqual([])
  await h.call('POST', '/v1/events', events.slice(200, 1200)) // resent copies count once
}, 120_000)
afterAll(() => h.close())

interface Unit {
  t0: number
  treated: boolean
}
/**
 * Customers whose first exposure in a scope falls in [from, to): scope '' is the program, from the first exposure
 * that treated or globally held the customer (an experiment's own holdout does not count); else one experiment.
 */
function scopes(from: number, to: number): Map<string, Map<string, Unit>> {
  const acc = new Map<string, Map<string, Unit & { held: boolean }>>()
  const note = (scope: string, x: Exposure) => {
    const units = acc.get(scope) ?? new Map<string, Unit & { held: boolean }>()
    const u = units.get(x.customerId) ?? { t0: x.ts, treated: false, held: false }
    u.t0 = Math.min(u.t0, x.ts)
    u.treated ||= x.arm !== 'holdout' && x.arm !== 'global_holdout'
    u.held ||= x.arm === 'global_holdout'
    units.set(x.customerId, u)
    acc.set(scope, units)
  }
  for (const x of exposures) {
    if (x.ts >= to) continue
    note(x.experimentId, x)
    if (x.arm !== 'holdout') note('', x)
  }
  const out = new Map<string, Map<string, Unit>>()
  for (const [scope, units] of acc) out.set(scope, new Map([...units].filter(([, u]) => (u.treated || u.held) && u.t0 >= from)))
  return out
}

interface Group {
  n: number
  reactivated: number
  revenue: number
  spend: number
  nets: number[]
}
/** The docs' per-customer outcomes inside [t0, t0 + window), from events up to asOf. */
function measure(units: Map<string, Unit>, asOf: number, includeImmature: boolean, recentFrom: number) {
  const group = (): Group => ({ n: 0, reactivated: 0, revenue: 0, spend: 0, nets: [] })
  const out = { treated: group(), held: group(), immature: 0, recent: 0 }
  for (const [id, u] of units) {
    const mature = u.t0 + WINDOW <= asOf
    if (!mature) out.immature++
    if (u.treated && u.t0 >= recentFrom) out.recent++
    if (!mature && !includeImmature) continue
    const g = u.treated ? out.treated : out.held
    let bought = false
    let net = 0
    for (const e of eventsOf.get(id) ?? []) {
      if (e.ts > asOf || e.ts < u.t0 || e.ts >= u.t0 + WINDOW) continue
      const margin = e.margin ?? (e.revenue ?? 0) * MARGIN_RATE
      if (e.type === 'purchase') [bought, g.revenue, net] = [true, g.revenue + e.revenue!, net + margin]
      if (e.type === 'refund') [g.revenue, net] = [g.revenue - e.revenue!, net - margin]
      if (e.type === 'offer_redeemed') [g.spend, net] = [g.spend + e.cost!, net - e.cost!]
    }
    g.n++
    if (bought) g.reactivated++
    g.nets.push(net)
  }
  return out
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const mean = (xs: number[]) => sum(xs) / xs.length
/** Welch's interval of mean(treated) − mean(held), from the per-customer values (two-pass variances). */
function welchNet(t: Group, g: Group) {
  const summary = (xs: number[]) => ({ n: xs.length, mean: mean(xs), variance: sum(xs.map((x) => (x - mean(xs)) ** 2)) / (xs.length - 1) })
  const [a, b] = [summary(g.nets), summary(t.nets)]
  const estimate = b.mean - a.mean
  return { estimate, ci: fixedHorizonTest(estimate, Math.sqrt(a.variance / a.n + b.variance / b.n), welchSatterthwaiteDf(a, b), 0.05).ci }
}

function expectClose(actual: number | null | undefined, expected: number, label: string) {
  expect(actual, label).toBeTypeOf('number')
  expect(Math.abs(actual! - expected), `${label}: API ${actual}, brute force ${expected}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)))
}
function expectGroup(api: KpiGroup, g: Group, label: string) {
  expect(api.n, `${label}.n`).toBe(g.n)
  expectClose(api.reactivationRate, g.reactivated / g.n, `${label}.reactivationRate`)
  expectClose(api.revenuePerCustomer, g.revenue / g.n, `${label}.revenuePerCustomer`)
  expectClose(api.netValuePerCustomer, mean(g.nets), `${label}.netValuePerCustomer`)
  expectClose(api.incentiveSpend, g.spend, `${label}.incentiveSpend`)
}
/** Treated vs held: groups, reactivation lift, incremental net value (estimate and interval) and ROI. */
function expectComparison(
  api: { treated: KpiGroup; globalHoldout: KpiGroup; incrementalNetValue: KpiReport['incrementalNetValue']; incentiveSpend: number },
  lift: { estimate: number | null },
  roi: { estimate: number | null; ci: [number, number] | null },
  m: ReturnType<typeof measure>,
  label: string,
) {
  expectGroup(api.treated, m.treated, `${label}.treated`)
  expectGroup(api.globalHoldout, m.held, `${label}.globalHoldout`)
  const [rt, rh] = [m.treated.reactivated / m.treated.n, m.held.reactivated / m.held.n]
  expectClose(lift.estimate, (rt - rh) / rh, `${label} reactivation lift`)
  const net = welchNet(m.treated, m.held)
  const { estimate, ci } = api.incrementalNetValue
  expectClose(estimate, net.estimate * m.treated.n, `${label}.incrementalNetValue`)
  expectClose(ci?.[0], net.ci[0] * m.treated.n, `${label}.incrementalNetValue.ci[0]`)
  expectClose(ci?.[1], net.ci[1] * m.treated.n, `${label}.incrementalNetValue.ci[1]`)
  expectClose(api.incentiveSpend, m.treated.spend, `${label}.incentiveSpend`)
  expectClose(roi.estimate, (net.estimate * m.treated.n) / m.treated.spend, `${label}.roi`)
  expectClose(roi.ci?.[0], ci![0] / api.incentiveSpend, `${label}.roiCi[0]`)
  expectClose(roi.ci?.[1], ci![1] / api.incentiveSpend, `${label}.roiCi[1]`)
}

async function kpis(asOf: number, query: string, from = FROM): Promise<KpiReport> {
  clock = asOf
  const res = await h.call('GET', `/v1/kpis?from=${from}&to=${TO}&window=30${query}`)
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
  return res.body
}

/** Every figure of the report against the brute force at this asOf. */
function expectReport(report: KpiReport, asOf: number, includeImmature: boolean, from = FROM) {
  const basisDays = Math.min(28, Math.round((TO - from) / DAY))
  const recentFrom = TO - basisDays * DAY
  const all = scopes(from, TO)
  const total = measure(all.get('')!, asOf, includeImmature, recentFrom)
  expectComparison(report, report.lift.reactivation, { estimate: report.roi, ci: report.roiCi }, total, 'program')
  expectClose(
    report.incrementalRevenue.estimate,
    (total.treated.revenue / total.treated.n - total.held.revenue / total.held.n) * total.treated.n,
    'incrementalRevenue',
  )
  expect(report.maturity).toEqual({ immature: total.immature, included: includeImmature })
  expect(report.projectedAnnual.basisDays).toBe(basisDays)
  expectClose(report.projectedAnnual.treatedPerYear, (total.recent / basisDays) * 365, 'projectedAnnual.treatedPerYear')
  const [lo, hi] = report.incrementalNetValue.ci!
  expect(report.headline.outcome).toBe(lo > 0 ? 'earned' : hi < 0 ? 'lost' : 'unclear')

  const monday = (ms: number) => new Date(ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10)
  for (const w of report.weekly) {
    const week = new Map([...all.get('')!].filter(([, u]) => monday(u.t0) === w.week))
    const m = measure(week, asOf, includeImmature, recentFrom)
    expect([w.treated.n, w.globalHoldout.n], w.week).toEqual([m.treated.n, m.held.n])
  }

  const expected = ['a', 'b', 'c', 'd', 'e']
    .map((id) => ({ id, m: measure(all.get(id)!, asOf, includeImmature, recentFrom) }))
    .filter(({ m }) => m.treated.n + m.held.n > 0)
  for (const { id, m } of expected) {
    const row = report.programs.find((p) => p.experimentId === id)
    expect(row, `programs[] has ${id}`).toBeDefined()
    if (m.held.n < 2) {
      expect([row!.treated.n, row!.globalHoldout.n], id).toEqual([m.treated.n, m.held.n])
      expect(row!.incrementalNetValue).toEqual({ estimate: null, ci: null })
      continue
    }
    expectComparison(row!, row!.reactivationLift, row!.roi, m, id)
    expect(row!.roi.ci![0] > 0 || row!.roi.ci![1] < 0).toBe(row!.incrementalNetValue.ci![0] > 0 || row!.incrementalNetValue.ci![1] < 0)
  }
  const value = ({ m }: (typeof expected)[number]) => (m.held.n < 2 ? -Infinity : welchNet(m.treated, m.held).estimate * m.treated.n)
  const order = [...expected].sort((a, b) => value(b) - value(a) || a.id.localeCompare(b.id)).map(({ id }) => id)
  expect(report.programs.map((p) => p.experimentId)).toEqual(order)
  return { total, all, order }
}

describe('program KPIs over overlapping experiments', () => {
  it('builds a world where customers overlap across experiments and every kind of answer occurs', () => {
    const arms = new Set(exposures.map((x) => `${x.experimentId}:${x.arm}`))
    for (const a of ['a:control', 'a:pct15', 'a:global_holdout', 'c:holdout', 'c:global_holdout']) expect(arms, a).toContain(a)
    expect(exposures.filter((x) => x.experimentId === 'd' && x.arm !== 'global_holdout')).toHaveLength(6)
    const program = scopes(FROM, TO).get('')!
    // Held out by C, treated later by A: in the program from the A exposure, not the earlier C one.
    const heldByCThenA = [...program].filter(([id, u]) => exposures.some((x) => x.customerId === id && x.arm === 'holdout' && x.ts < u.t0 && u.treated))
    expect(heldByCThenA.length).toBeGreaterThan(10)
    // Experiment-holdout customers never treated elsewhere are in neither group.
    const onlyHeldByC = new Set(exposures.filter((x) => x.arm === 'holdout').map((x) => x.customerId))
    for (const x of exposures) if (x.arm !== 'holdout') onlyHeldByC.delete(x.customerId)
    expect(onlyHeldByC.size).toBeGreaterThan(10)
    for (const id of onlyHeldByC) expect(program.has(id)).toBe(false)
    // First assigned after `to`: outside the period.
    const late = exposures.filter((x) => x.ts >= TO && exposures.every((y) => y.customerId !== x.customerId || y.ts >= TO))
    expect(late.length).toBeGreaterThan(10)
    for (const x of late) expect(program.has(x.customerId)).toBe(false)
  })

  it('matches the brute force for the program and each experiment, counting only closed windows', async () => {
    const report = await kpis(AS_OF, '')
    const { total, order } = expectReport(report, AS_OF, false)
    expect(total.immature).toBeGreaterThan(100)
    // E's customers are all still inside their window; D has no held-out customer, so no estimate: last.
    expect(order).toEqual(expect.arrayContaining(['a', 'b', 'c', 'd']))
    expect(order).not.toContain('e')
    expect(order.at(-1)).toBe('d')
    expect(report.headline.outcome).toBe('unclear')
  })

  it('counts customers still inside their window with include=immature', async () => {
    const report = await kpis(AS_OF, '&include=immature')
    const { order } = expectReport(report, AS_OF, true)
    expect(order).toContain('e')
    expect(report.headline.outcome).toBe('earned')
  })

  it('leaves out an experiment none of whose customers has a closed window yet', async () => {
    const report = await kpis(EARLY_AS_OF, '')
    const { order } = expectReport(report, EARLY_AS_OF, false)
    expect(order).toEqual(expect.arrayContaining(['a', 'b']))
    expect(order).not.toContain('c')
    expect(report.headline.outcome).toBe('lost')
  })

  // A customer first exposed before `from` and again inside the period (a second experiment, or the same one
  // re-assigned) is not counted anew from the later exposure: the period holds customers whose FIRST exposure
  // falls in it (docs/kpis.md). The query once took the first exposure within [from, to) and counted them.
  it('counts only customers first exposed in the period when the period starts after some exposures', async () => {
    const from = T0 + 10 * DAY
    const report = await kpis(AS_OF, '&include=immature', from)
    expectReport(report, AS_OF, true, from)
  })
})
