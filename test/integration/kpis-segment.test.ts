/**
 * Program KPIs per segment (issue 20, item 3): `GET /v1/kpis?segment=<key>` counts a customer in a scope when they
 * met the segment's rule at the start of that scope's window, from their events before it. Recomputed here by brute
 * force from the exposures logged and the raw events: features with the reference implementation, the program's
 * window being each customer's earliest, RFM groups against quintiles among the period's windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { kpiWindows, periodWindows, type KpiWindow } from '../helpers/kpi-windows.ts'
import { purchaseHistories, referenceFeatures, referenceRfmCuts } from '../helpers/features-reference.ts'
import type { RawEvent } from '../helpers/raw-event.ts'
import type { CustomerFeatures } from '../../api/segments/features.ts'
import { rfmScore } from '../../api/segments/rfm.ts'
import type { KpiReport } from '../../api/contract/kpis.ts'

const DAY = 86_400_000
const WINDOW = 30 * DAY
const T0 = Date.parse('2026-06-01T00:00:00Z')
const FROM = T0
const TO = T0 + 20 * DAY
const AS_OF = T0 + 60 * DAY
const CUSTOMERS = 1500

let clock = T0
let h: Harness
const events: RawEvent[] = []
const byCustomer = new Map<string, RawEvent[]>()
const windows = new Map<string, KpiWindow[]>()

beforeAll(async () => {
  const rand = mulberry32(909)
  h = await openHarness({ now: () => clock })
  expect((await h.call('PUT', '/v1/settings', { globalHoldoutPct: 0.25 })).status).toBe(200)
  for (const id of ['x', 'y']) {
    expect((await h.call('POST', '/v1/experiments', twoArmExperiment(id))).status).toBe(201)
    expect((await h.call('POST', `/v1/experiments/${id}/start`)).status).toBe(200)
  }
  // History before the period: every lapse stage well populated; a tenth never bought.
  events.push(...purchaseHistories({ prefix: 'k-', customers: CUSTOMERS, before: T0, spreadDays: 300, rand }))
  expect((await h.call('POST', '/v1/events', events)).body.rejected).toEqual([])

  // Enrolment over ten days; a third of the customers enter x, then y a few days later (y's window is not their
  // earliest), a third y only, a third x only.
  const plan: Array<{ day: number; exp: string; id: string }> = []
  for (let c = 0; c < CUSTOMERS; c++) {
    const id = `k-${c}`
    const day = Math.floor(rand() * 10)
    if (c % 3 !== 1) plan.push({ day, exp: 'x', id })
    if (c % 3 !== 2) plan.push({ day: c % 3 === 0 ? day + 4 : day, exp: 'y', id })
  }
  for (let day = 0; day < 14; day++) {
    for (const exp of ['x', 'y']) {
      const batch = plan.filter((p) => p.day === day && p.exp === exp).map((p) => ({ customerId: p.id }))
      if (!batch.length) continue
      clock = T0 + day * DAY + (exp === 'y' ? 3_600_000 : 0)
      expect((await h.call('POST', '/v1/assign/batch', { experimentId: exp, customers: batch })).status).toBe(200)
    }
  }
  // Outcomes: purchases after first exposure, some at the very instant of it (not a feature: the outcome).
  for (const [id, list] of await kpiWindows(h)) windows.set(id, list)
  const outcomes: RawEvent[] = []
  for (const [id, list] of windows) {
    const t0 = Math.min(...list.map((w) => w.t0))
    const u = rand()
    if (u < 0.08) outcomes.push({ eventId: `${id}:at`, customerId: id, type: 'purchase', ts: t0, revenue: 40 })
    else if (u < 0.35) outcomes.push({ eventId: `${id}:in`, customerId: id, type: 'purchase', ts: t0 + 1 + Math.floor(rand() * 20 * DAY), revenue: 60 })
  }
  clock = AS_OF
  expect((await h.call('POST', '/v1/events', outcomes)).body.rejected).toEqual([])
  events.push(...outcomes)
  for (const e of events) byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e])

  const segment = (key: string, name: string, rule: unknown) => h.call('POST', '/v1/segments', { key, name, rule })
  expect((await segment('lapsed', 'Lapsed', { lapse_stage: { $in: ['lapsed', 'dormant'] } })).status).toBe(201)
  expect((await segment('valuable', 'Valuable', { rfm_group: { $in: ['champions', 'loyal', 'cant_lose_them'] } })).status).toBe(201)
}, 180_000)
afterAll(() => h?.close())

const features = (id: string, at: number): CustomerFeatures => referenceFeatures(byCustomer.get(id) ?? [], at)

/** The program's treated and held-out groups (n, reactivated) and each experiment's, for customers meeting `meets`. */
function bruteForce(meets: (id: string, t0: number) => boolean) {
  const groups = new Map<string, { treated: { n: number; r: number }; held: { n: number; r: number } }>()
  const add = (scope: string, treated: boolean, reactivated: boolean) => {
    const g = groups.get(scope) ?? { treated: { n: 0, r: 0 }, held: { n: 0, r: 0 } }
    const cell = treated ? g.treated : g.held
    cell.n++
    cell.r += reactivated ? 1 : 0
    groups.set(scope, g)
  }
  const reactivatedIn = (id: string, t0: number) =>
    (byCustomer.get(id) ?? []).some((e) => e.type === 'purchase' && e.ts >= t0 && e.ts < t0 + WINDOW && e.ts <= AS_OF)
  for (const { id, window: w, program, treatedAnywhere } of periodWindows(windows, FROM, TO)) {
    if (w.t0 + WINDOW > AS_OF || !meets(id, w.t0)) continue
    add(w.exp, w.treated, reactivatedIn(id, w.t0))
    if (program) add('', treatedAnywhere, reactivatedIn(id, w.t0))
  }
  return groups
}

async function kpis(segment?: string): Promise<KpiReport> {
  const res = await h.call('GET', `/v1/kpis?from=${FROM}&to=${TO}&window=30${segment ? `&segment=${segment}` : ''}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

function expectKpis(body: KpiReport, want: ReturnType<typeof bruteForce>) {
  const all = want.get('')!
  expect(body.treated.n).toBe(all.treated.n)
  expect(body.globalHoldout.n).toBe(all.held.n)
  expect(body.treated.reactivationRate!).toBeCloseTo(all.treated.r / all.treated.n, 12)
  expect(body.globalHoldout.reactivationRate!).toBeCloseTo(all.held.r / all.held.n, 12)
  for (const exp of ['x', 'y']) {
    const p = body.programs.find((x) => x.experimentId === exp)!
    expect(p.treated.n, exp).toBe(want.get(exp)!.treated.n)
    expect(p.globalHoldout.n, exp).toBe(want.get(exp)!.held.n)
  }
}

describe('program KPIs per segment', () => {
  it('counts everyone without a segment, as before', async () => {
    const body = await kpis()
    expect(body.segment).toBeNull()
    expectKpis(
      body,
      bruteForce(() => true),
    )
  })

  it('counts a customer in a scope when they met the rule at the start of that window, and says so in the headline', async () => {
    const body = await kpis('lapsed')
    expect(body.segment).toEqual({ key: 'lapsed', name: 'Lapsed', version: 1 })
    const want = bruteForce((id, t0) => ['lapsed', 'dormant'].includes(features(id, t0).lapse_stage))
    expectKpis(body, want)
    const everyone = bruteForce(() => true).get('')!
    expect(want.get('')!.treated.n).toBeGreaterThan(50)
    expect(want.get('')!.treated.n).toBeLessThan(everyone.treated.n)
    expect(body.headline.text).toContain('among customers in the segment “Lapsed”')
  })

  it('places RFM groups against quintiles among the period’s windows', async () => {
    const all = [...windows].flatMap(([id, list]) =>
      list.filter((w) => (w.treated || w.held) && w.t0 < TO && w.t0 >= FROM).map((w) => ({ id, t0: w.t0, f: features(id, w.t0) })),
    )
    // Every window of the period counts in the cut points, the earliest-window rule applied to the windows only.
    const cut = referenceRfmCuts(all.map((x) => x.f))
    const valuable = (id: string, t0: number) => ['champions', 'loyal', 'cant_lose_them'].includes(rfmScore(features(id, t0), cut)?.group ?? '')
    const want = bruteForce(valuable)
    expect(want.get('')!.treated.n).toBeGreaterThan(20)
    expectKpis(await kpis('valuable'), want)
  })

  it('refuses an unknown segment with a 400 naming it', async () => {
    const res = await h.call('GET', `/v1/kpis?segment=nope_nope`)
    expect(res.status).toBe(400)
    expect(res.body.error.field).toBe('segment')
    expect((await h.call('GET', `/v1/kpis?segment=${encodeURIComponent("x' OR 1=1")}`)).status).toBe(400)
  })
})
