import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import type { KpiGroup } from '../../api/contract/kpis.ts'
import type { RawEvent } from '../helpers/raw-event.ts'

/*
 * The KPI query measures a customer's program window as their earliest experiment's window (api/reports/sql/kpis.ts).
 * This world stresses that: customers assigned to X and Y at the same instant (a tie for "earliest"), X first and Y
 * two days later, Y only, and customers in X's own holdout who are treated by Y at the same instant or later (X's
 * holdout starts no program window). Every group is recomputed by brute force from the assignment answers and raw
 * events, with events on both sides of every window's edges.
 */
const DAY = 86_400_000
const WINDOW = 30 * DAY
const T0 = Date.parse('2026-06-01T00:00:00Z')
const FROM = T0
const TO = T0 + 20 * DAY
const AS_OF = T0 + 80 * DAY
const MARGIN_RATE = 0.3

let clock = T0
let h: Harness
const exposures: Array<{ experimentId: string; customerId: string; arm: string; ts: number }> = []
const eventsOf = new Map<string, RawEvent[]>()

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  expect((await h.call('PUT', '/v1/settings', { globalHoldoutPct: 0.15 })).status).toBe(200)
  for (const [id, extra] of [
    ['x', { holdoutPct: 0.3 }],
    ['y', {}],
  ] as const) {
    expect((await h.call('POST', '/v1/experiments', twoArmExperiment(id, extra))).status).toBe(201)
    expect((await h.call('POST', '/v1/experiments/' + id + '/start')).status).toBe(200)
  }
  const rand = mulberry32(20261202)
  // [instant, experiment, customer], assigned in time order; a tie assigns X then Y at one instant.
  const plan: Array<[number, string, string]> = []
  for (let i = 0; i < 600; i++) {
    const id = `c${i}`
    const t = T0 + Math.floor(rand() * 18 * DAY)
    const kind = i % 4
    if (kind === 0) plan.push([t, 'x', id], [t, 'y', id])
    if (kind === 1) plan.push([t, 'x', id], [t + 2 * DAY, 'y', id])
    if (kind === 2) plan.push([t, 'y', id])
    if (kind === 3) plan.push([t - 3 * DAY, 'x', id], [t, 'y', id])
  }
  plan.sort((a, b) => a[0] - b[0])
  for (const [ts, experimentId, customerId] of plan) {
    clock = ts
    const res = await h.call('POST', '/v1/assign/batch', { experimentId, customers: [{ customerId }] })
    expect(res.status).toBe(200)
    const a = res.body.assignments[0]
    const arm = a.inExperiment ? a.arm : a.reason === 'global_holdout' ? 'global_holdout' : null
    if (arm) exposures.push({ experimentId, customerId, arm, ts })
  }
  expect(exposures.some((x) => x.experimentId === 'x' && x.arm === 'holdout')).toBe(true)

  let n = 0
  const money = (max: number) => Math.round(rand() * max * 100) / 100
  const events: RawEvent[] = []
  for (let i = 0; i < 600; i++) {
    const customerId = `c${i}`
    const starts = exposures.filter((x) => x.customerId === customerId).map((x) => x.ts)
    const times = [...starts.flatMap((s) => [s - 1, s, s + WINDOW - 1, s + WINDOW]), ...Array.from({ length: 4 }, () => T0 + Math.floor(rand() * 60 * DAY))]
    for (const ts of times) {
      if (rand() < 0.4) continue
      const r = rand()
      const eventId = `e${n++}`
      events.push(
        r < 0.55
          ? { eventId, customerId, type: 'purchase', ts, revenue: money(90), ...(rand() < 0.3 ? { margin: money(30) } : {}) }
          : r < 0.7
            ? { eventId, customerId, type: 'refund', ts, revenue: money(40) }
            : { eventId, customerId, type: 'offer_redeemed', ts, cost: money(10), experimentId: 'x' },
      )
    }
  }
  for (const e of events) eventsOf.set(e.customerId, [...(eventsOf.get(e.customerId) ?? []), e])
  expect((await h.call('POST', '/v1/events', events)).body.rejected).toEqual([])
}, 120_000)
afterAll(() => h.close())

interface Group {
  n: number
  reactivated: number
  revenue: number
  spend: number
  net: number
}
/** Customers whose first treating or globally holding exposure in the scope falls in [FROM, TO), measured directly. */
function bruteForce(scope: string) {
  const units = new Map<string, { t0: number; treated: boolean }>()
  for (const x of exposures) {
    if (x.ts >= TO || x.arm === 'holdout' || (scope !== '' && x.experimentId !== scope)) continue
    const u = units.get(x.customerId) ?? { t0: x.ts, treated: false }
    u.t0 = Math.min(u.t0, x.ts)
    u.treated ||= x.arm !== 'global_holdout'
    units.set(x.customerId, u)
  }
  const group = (): Group => ({ n: 0, reactivated: 0, revenue: 0, spend: 0, net: 0 })
  const out = { treated: group(), held: group() }
  for (const [id, u] of units) {
    if (u.t0 < FROM || u.t0 + WINDOW > AS_OF) continue
    const g = u.treated ? out.treated : out.held
    let bought = false
    for (const e of eventsOf.get(id) ?? []) {
      if (e.ts > AS_OF || e.ts < u.t0 || e.ts >= u.t0 + WINDOW) continue
      const margin = e.margin ?? (e.revenue ?? 0) * MARGIN_RATE
      if (e.type === 'purchase') [bought, g.revenue, g.net] = [true, g.revenue + e.revenue!, g.net + margin]
      if (e.type === 'refund') [g.revenue, g.net] = [g.revenue - e.revenue!, g.net - margin]
      if (e.type === 'offer_redeemed') [g.spend, g.net] = [g.spend + e.cost!, g.net - e.cost!]
    }
    g.n++
    if (bought) g.reactivated++
  }
  return out
}

function expectGroup(api: KpiGroup, g: Group, label: string) {
  const close = (actual: number | null, expected: number, what: string) =>
    expect(Math.abs(actual! - expected), `${label}.${what}: API ${actual}, brute force ${expected}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)))
  expect(api.n, `${label}.n`).toBe(g.n)
  close(api.reactivationRate, g.reactivated / g.n, 'reactivationRate')
  close(api.revenuePerCustomer, g.revenue / g.n, 'revenuePerCustomer')
  close(api.netValuePerCustomer, g.net / g.n, 'netValuePerCustomer')
  close(api.incentiveSpend, g.spend, 'incentiveSpend')
}

describe('program KPIs when experiment windows coincide', () => {
  it('matches the brute force for the program and each experiment', async () => {
    clock = AS_OF
    const res = await h.call('GET', `/v1/kpis?from=${FROM}&to=${TO}&window=30`)
    expect(res.status).toBe(200)
    const program = bruteForce('')
    expect(program.treated.n).toBeGreaterThan(100)
    expect(program.held.n).toBeGreaterThan(10)
    expectGroup(res.body.treated, program.treated, 'program.treated')
    expectGroup(res.body.globalHoldout, program.held, 'program.globalHoldout')
    for (const id of ['x', 'y']) {
      const row = res.body.programs.find((p: { experimentId: string }) => p.experimentId === id)
      const m = bruteForce(id)
      expectGroup(row.treated, m.treated, `${id}.treated`)
      expectGroup(row.globalHoldout, m.held, `${id}.globalHoldout`)
    }
  })
})
