import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openNotificationHarness, openReceiver } from '../helpers/notifications.ts'
import { twoArmExperiment } from '../helpers/harness.ts'
import { latestSlot } from '../../api/notifications/digest.ts'

/**
 * Issue 21, the executive digest: its numbers are GET /v1/kpis's for the same period (same clock), it goes out on
 * its weekly slot once, as a signed webhook body and as Slack blocks. The world: 600 customers first exposed 50
 * days before the test's "now" (their 30-day windows have closed), purchases and redemptions in their windows,
 * about 5% of them in the global holdout.
 */
const DAY = 86_400_000
const start = Date.now() - 60 * DAY
let clock = start
const now = () => clock
let h: Awaited<ReturnType<typeof openNotificationHarness>>
let receiver: Awaited<ReturnType<typeof openReceiver>>
let webhook: string
let slack: string

async function expectOk(p: Promise<{ status: number; body: any }>, status = 200) {
  const r = await p
  if (r.status !== status) throw new Error(`answered ${r.status}: ${JSON.stringify(r.body)}`)
  return r.body
}

beforeAll(async () => {
  receiver = await openReceiver()
  h = await openNotificationHarness({
    now,
    notifications: { secretKey: 'digest test key, at least thirty-two characters', allowPrivateAddresses: true, publicUrl: 'https://lab.example.com' },
  })
  webhook = (await expectOk(h.call('POST', '/v1/destinations', { kind: 'webhook', name: 'BI', url: `${receiver.base}/hooks/digest` }), 201)).id
  slack = (await expectOk(h.call('POST', '/v1/destinations', { kind: 'slack', name: '#exec', url: `${receiver.base}/services/T0/B0/slack` }), 201)).id

  await expectOk(h.call('POST', '/v1/experiments', twoArmExperiment('winback')), 201)
  await expectOk(h.call('POST', '/v1/experiments/winback/start'))
  const customers = Array.from({ length: 600 }, (_, i) => ({ customerId: `d-${i}` }))
  const { assignments } = await expectOk(h.call('POST', '/v1/assign/batch', { experimentId: 'winback', customers }))
  await h.retention.exposures.flush()
  const events = (assignments as Array<{ customerId: string; arm: string | null }>).flatMap((a, i) => [
    ...(i % 3 === 0 || (a.arm === 'pct15' && i % 5 === 0)
      ? [{ eventId: `p-${i}`, customerId: a.customerId, type: 'purchase', ts: start + DAY + i * 1000, revenue: 40 + (i % 7) * 5, margin: 12 }]
      : []),
    ...(a.arm === 'pct15' && i % 4 === 0
      ? [{ eventId: `r-${i}`, customerId: a.customerId, type: 'offer_redeemed', ts: start + DAY, cost: 6, experimentId: 'winback', arm: 'pct15' }]
      : []),
  ])
  await expectOk(h.call('POST', '/v1/events', events))
  clock = start + 50 * DAY
}, 180_000)
afterAll(async () => {
  await h?.close()
  await receiver?.close()
})

const kpiFields = ['treated', 'globalHoldout', 'incrementalRevenue', 'incrementalNetValue', 'incentiveSpend', 'roi', 'roiCi', 'headline', 'windowDays'] as const

function expectSameNumbers(digestKpis: Record<string, any>, kpis: Record<string, any>) {
  for (const f of kpiFields) expect([f, digestKpis[f]]).toEqual([f, kpis[f]])
  expect(digestKpis.reactivationLift).toEqual({
    estimate: kpis.lift.reactivation.estimate,
    ci: kpis.lift.reactivation.ci,
    significant: kpis.lift.reactivation.significant,
  })
  expect(digestKpis.revenueLift).toEqual({
    estimate: kpis.lift.revenuePerCustomer.estimate,
    ci: kpis.lift.revenuePerCustomer.ci,
    significant: kpis.lift.revenuePerCustomer.significant,
  })
}

describe('the executive digest', () => {
  it('has the numbers of GET /v1/kpis for the same period', async () => {
    const from = new Date(start - DAY).toISOString()
    const to = new Date(start + 3 * DAY).toISOString()
    const kpis = await expectOk(h.call('GET', `/v1/kpis?from=${from}&to=${to}`))
    expect(kpis.treated.n).toBeGreaterThan(400)
    expect(kpis.globalHoldout.n).toBeGreaterThan(5)
    expect(kpis.incentiveSpend).toBeGreaterThan(0)
    const digest = await expectOk(h.call('GET', `/v1/digest?from=${from}&to=${to}`))
    expectSameNumbers(digest.kpis, kpis)
    expect(digest.periodLabel).toBe(kpis.periodLabel)
    expect(digest.running).toEqual([expect.objectContaining({ experimentId: 'winback', link: 'https://lab.example.com/experiments/winback' })])
    const report = await expectOk(h.call('GET', '/v1/experiments/winback/report'))
    expect(digest.running[0].action).toBe(report.recommendation.action)
  })

  it('goes out once on its weekly slot, as a webhook body and as Slack blocks, with the API’s numbers', async () => {
    const d = new Date(clock)
    const schedule = { enabled: true, dayOfWeek: d.getUTCDay(), hourUtc: (d.getUTCHours() + 1) % 24, periodDays: 60, destinationIds: [webhook, slack] }
    await expectOk(h.call('PUT', '/v1/digest/schedule', schedule))
    expect((await h.notifications.tick()).digests).toBe(0)
    // The next slot: at most a week ahead.
    const slot = latestSlot(clock + 7 * DAY, schedule.dayOfWeek, schedule.hourUtc)
    expect(slot).toBeGreaterThan(clock)
    clock = slot + 60_000
    expect((await h.notifications.tick()).digests).toBe(2)
    expect((await h.notifications.tick()).digests).toBe(0)
    await h.notifications.worker.runDue()

    const [hook] = receiver.on('/hooks/digest')
    const body = JSON.parse(hook.body)
    expect(body).toMatchObject({ type: 'digest', id: `digest:${new Date(slot).toISOString()}:${webhook}` })
    const kpis = await expectOk(h.call('GET', `/v1/kpis?from=${new Date(slot - 60 * DAY).toISOString()}&to=${new Date(slot).toISOString()}`))
    expectSameNumbers(body.digest.kpis, kpis)

    const [s] = receiver.on('/services/T0/B0/slack')
    const blocks = JSON.parse(s.body)
    expect(blocks.text).toContain(kpis.headline.text)
    expect(blocks.blocks[0]).toMatchObject({ type: 'header' })
    const fields = blocks.blocks.find((b: { fields?: unknown[] }) => b.fields).fields.map((f: { text: string }) => f.text)
    expect(fields.some((f: string) => f.startsWith('*Incentive spend*') && f.includes('$'))).toBe(true)
    expect(JSON.stringify(blocks)).toContain('<https://lab.example.com/experiments/winback|Experiment winback>')

    const sched = await expectOk(h.call('GET', '/v1/digest/schedule'))
    expect(sched.lastSentFor).toBe(new Date(slot).toISOString())
  })

  it('refuses a schedule or a send to an unknown destination, naming the field', async () => {
    const r = await h.call('PUT', '/v1/digest/schedule', { enabled: true, dayOfWeek: 1, hourUtc: 8, periodDays: 90, destinationIds: ['dst_nope'] })
    expect([r.status, r.body.error.field]).toEqual([400, 'destinationIds.0'])
    const s = await h.call('POST', '/v1/digest/send', { destinationIds: [webhook, 'dst_nope'] })
    expect([s.status, s.body.error.field]).toEqual([400, 'destinationIds.1'])
  })
})
