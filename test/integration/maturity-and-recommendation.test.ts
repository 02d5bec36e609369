import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { sampleSizePerArm } from '../../stats/index.ts'

// Planted worlds driven through the real API with a moved clock: customers exposed at chosen days, purchases
// (and unsubscribes) drawn with known probabilities inside each customer's 30-day window.
const DAY = 86_400_000
const NOW = Math.floor(Date.now() / DAY) * DAY
let clock = NOW
let h: Harness

interface Plan {
  id: string
  /** Customers per cohort and the day (relative to NOW) the cohort is exposed. */
  cohorts: Array<{ customers: number; daysAgo: number }>
  reactivation: Record<string, number>
  unsubscribe?: Record<string, number>
  analysis?: Record<string, unknown>
  startDaysAgo: number
}

const arms = [
  { key: 'control', name: 'Message only', weight: 0.5, isControl: true },
  { key: 'offer', name: '20% off', weight: 0.5, offer: { type: 'percent_off', value: 20, unitCost: 5 } },
]

async function plant(plan: Plan, seed: number) {
  const rand = mulberry32(seed)
  clock = NOW - plan.startDaysAgo * DAY
  expect((await h.call('POST', '/v1/experiments', { id: plan.id, name: plan.id, arms, analysis: { attributionDays: 30, ...plan.analysis } })).status).toBe(201)
  expect((await h.call('POST', `/v1/experiments/${plan.id}/start`)).status).toBe(200)
  const events: unknown[] = []
  let n = 0
  for (const [c, cohort] of plan.cohorts.entries()) {
    const t0 = NOW - cohort.daysAgo * DAY
    clock = t0
    const customers = Array.from({ length: cohort.customers }, (_, i) => ({ customerId: `${plan.id}-${c}-${i}` }))
    for (let i = 0; i < customers.length; i += 5000) {
      const res = await h.call('POST', '/v1/assign/batch', { experimentId: plan.id, customers: customers.slice(i, i + 5000) })
      expect(res.status).toBe(200)
      for (const a of res.body.assignments) {
        if (!a.inExperiment || a.arm === 'holdout') continue
        // Purchases fall anywhere in the 30-day window; those not yet happened by NOW are not sent.
        if (rand() < plan.reactivation[a.arm]) {
          const ts = t0 + Math.floor(rand() * 30 * DAY)
          if (ts <= NOW) events.push({ eventId: `${plan.id}-p${n++}`, customerId: a.customerId, type: 'purchase', ts, revenue: 40 })
        }
        if (plan.unsubscribe && rand() < plan.unsubscribe[a.arm]) {
          const ts = t0 + Math.floor(rand() * 10 * DAY)
          if (ts <= NOW) events.push({ eventId: `${plan.id}-u${n++}`, customerId: a.customerId, type: 'unsubscribe', ts })
        }
      }
    }
  }
  for (let i = 0; i < events.length; i += 10_000) expect((await h.call('POST', '/v1/events', events.slice(i, i + 10_000))).status).toBe(200)
  clock = NOW
}

beforeAll(async () => {
  h = await openHarness({ now: () => clock })
  // Half the customers exposed 40 days ago (windows complete), half 5 days ago (25 days still to go).
  await plant(
    {
      id: 'half-young',
      startDaysAgo: 41,
      cohorts: [
        { customers: 6000, daysAgo: 40 },
        { customers: 6000, daysAgo: 5 },
      ],
      reactivation: { control: 0.1, offer: 0.15 },
    },
    11,
  )
  await plant(
    {
      id: 'unsub-harm',
      startDaysAgo: 41,
      cohorts: [{ customers: 6000, daysAgo: 40 }],
      reactivation: { control: 0.1, offer: 0.16 },
      unsubscribe: { control: 0.01, offer: 0.05 },
      analysis: { guardrails: ['unsubscribe'], guardrailMargins: { unsubscribe: 0.003 } },
    },
    12,
  )
  // Underpowered: 100 customers a day for 40 days, +5% planted, still enrolling.
  await plant(
    {
      id: 'small',
      startDaysAgo: 40,
      cohorts: Array.from({ length: 40 }, (_, d) => ({ customers: 100, daysAgo: 40 - d })),
      reactivation: { control: 0.1, offer: 0.105 },
    },
    13,
  )
}, 300_000)
afterAll(() => h?.close())

const report = async (id: string, query = '') => {
  const res = await h.call('GET', `/v1/experiments/${id}/report?metrics=reactivation,unsubscribe${query}`)
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
  return res.body
}
const reactivation = (r: any) => r.metrics.find((m: any) => m.key === 'reactivation')
const rate = (r: any, arm: string) => reactivation(r).values.find((v: any) => v.arm === arm).value

describe('mature windows', () => {
  it('counts only customers whose window has ended and recovers the planted lift; counting the others under-reads', async () => {
    const mature = await report('half-young')
    // 12,000 assigned less the ~5% global holdout, which no experiment report counts.
    const { enrolled, immature, included } = mature.health.maturity
    expect(included).toBe(false)
    expect(enrolled).toBeGreaterThan(11_000)
    expect(immature).toBeGreaterThan(0.45 * enrolled)
    expect(mature.totalCustomers).toBe(enrolled - immature)
    const lift = reactivation(mature).comparisons.find((c: any) => c.variant === 'offer' && c.against === 'control')
    // Planted: 15% / 10% − 1 = +50%.
    expect(lift.ci[0]).toBeLessThan(0.5)
    expect(lift.ci[1]).toBeGreaterThan(0.5)
    expect(Math.abs(rate(mature, 'control') - 0.1)).toBeLessThan(0.03)

    const all = await report('half-young', '&include=immature')
    expect(all.totalCustomers).toBe(enrolled)
    expect(all.health.maturity.included).toBe(true)
    // The young half has had 5 of its 30 days: its rates read about a sixth of the truth, pulling both arms down.
    expect(rate(all, 'control')).toBeLessThan(rate(mature, 'control') - 0.02)
    expect(rate(all, 'offer')).toBeLessThan(rate(mature, 'offer') - 0.03)
  })
})

describe('the recommendation', () => {
  it('rolls back an arm that wins on the primary metric but raises unsubscribes beyond the margin', async () => {
    const r = await report('unsub-harm')
    const offerWins = reactivation(r).comparisons.find((c: any) => c.variant === 'offer' && c.against === 'control')
    expect(offerWins.significant).toBe(true)
    const guard = r.metrics.find((m: any) => m.key === 'unsubscribe').comparisons.find((c: any) => c.variant === 'offer' && c.against === 'control')
    expect(guard.family).toBe('guardrail')
    expect(guard.guardrail).toMatchObject({ status: 'harmed', margin: 0.003, harmDirection: 'increase' })
    expect(guard.guardrail.ci[0]).toBeGreaterThan(0.003)
    expect(r.recommendation).toMatchObject({ action: 'roll_back', arm: 'offer' })
  })

  it('keeps an underpowered test running, for the days that enrolment rate and n needed give by hand', async () => {
    const r = await report('small')
    expect(r.recommendation.action).toBe('keep_running')
    const health = r.health
    // n needed: the planned sample to detect the default +5% (analysis.mde) on the control's observed rate.
    const controlRate = rate(r, 'control')
    const needed = sampleSizePerArm(
      { kind: 'proportion', baselineRate: controlRate },
      { mde: 0.05, mdeKind: 'relative', alpha: 0.05, power: 0.8, arms: 2 },
    ).perArm!
    expect(health.power.nPerArmNeeded).toBe(needed)
    // Enrolment per arm per day over the 40 days since start, in the smaller arm.
    const enrolled = Math.min(...health.maturity.byArm.map((a: any) => a.enrolled))
    expect(health.power.nPerArmEnrolled).toBe(enrolled)
    const perDay = enrolled / 40
    expect(health.enrolmentPerArmPerDay).toBeCloseTo(perDay, 9)
    expect(needed).toBeGreaterThan(enrolled)
    // The rest enrol at that rate, then the last of them needs its 30-day window.
    const days = Math.ceil((needed - enrolled) / perDay) + 30
    expect(r.recommendation.daysNeeded).toBe(days)
    expect(r.recommendation.headline).toContain(`${days} more days`)
  })
})
