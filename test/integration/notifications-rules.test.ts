import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openNotificationHarness, openReceiver } from '../helpers/notifications.ts'
import { twoArmExperiment } from '../helpers/harness.ts'

/**
 * Issue 21, alert rules: each fires exactly once when its state changes (and again only after another change),
 * links to the experiment's page, is recorded, and reaches the receiver once. The scheduler runs on the test's
 * clock (tick), which starts three weeks back so that every instant the test reaches is in the real past.
 */
const HOUR = 3_600_000
const DAY = 24 * HOUR
let clock = Date.now() - 21 * DAY
const now = () => clock
let h: Awaited<ReturnType<typeof openNotificationHarness>>
let receiver: Awaited<ReturnType<typeof openReceiver>>
let destination: string

beforeAll(async () => {
  receiver = await openReceiver()
  h = await openNotificationHarness({
    now,
    notifications: {
      secretKey: 'rules test key, at least thirty-two characters',
      allowPrivateAddresses: true,
      publicUrl: 'https://lab.example.com',
      random: () => 0.5,
    },
  })
  destination = (await h.call('POST', '/v1/destinations', { kind: 'webhook', name: 'Alerts', url: `${receiver.base}/hooks/alerts` })).body.id
}, 120_000)
afterAll(async () => {
  await h?.close()
  await receiver?.close()
})

async function expectOk(p: Promise<{ status: number; body: any }>, status = 200) {
  const r = await p
  if (r.status !== status) throw new Error(`answered ${r.status}: ${JSON.stringify(r.body)}`)
  return r.body
}

async function startExperiment(id: string, extra: Record<string, unknown> = {}, customers = 0) {
  await expectOk(h.call('POST', '/v1/experiments', twoArmExperiment(id, extra)), 201)
  await expectOk(h.call('POST', `/v1/experiments/${id}/start`))
  if (customers)
    await assign(
      id,
      Array.from({ length: customers }, (_, i) => `${id}-c${i}`),
    )
}

async function assign(id: string, customerIds: string[]) {
  const body = await expectOk(h.call('POST', '/v1/assign/batch', { experimentId: id, customers: customerIds.map((customerId) => ({ customerId })) }))
  await h.retention.exposures.flush()
  return body.assignments as Array<{ customerId: string; arm: string | null }>
}

async function rule(kind: string, experimentId: string, extra: Record<string, unknown> = {}) {
  return (await expectOk(h.call('POST', '/v1/alert-rules', { kind, experimentId, destinationIds: [destination], ...extra }), 201)).id as string
}

/** One scheduler round, then every due delivery. */
async function round() {
  const r = await h.notifications.tick()
  expect(r.ran).toBe(true)
  await h.notifications.worker.runDue()
}

async function alertsOf(ruleId: string) {
  const all = (await expectOk(h.call('GET', '/v1/alerts?limit=1000'))).alerts as Array<Record<string, any>>
  return all.filter((a) => a.ruleId === ruleId).reverse()
}

const receivedFor = (ruleId: string) =>
  receiver
    .on('/hooks/alerts')
    .map((r) => JSON.parse(r.body))
    .filter((b) => b.data?.ruleId === ruleId)

describe('alert rules', () => {
  it('refuses a rule for unknown destinations or experiments, naming each field', async () => {
    const r = await h.call('POST', '/v1/alert-rules', { kind: 'srm', experimentId: 'nope', destinationIds: [destination, 'dst_missing'] })
    expect(r.status).toBe(400)
    expect(r.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['destinationIds.1', 'experimentId'])
    expect((await h.call('POST', '/v1/alert-rules', { kind: 'srm', destinationIds: [destination], hours: 3 })).body.error.field).toBe('hours')
  })

  it('past planned end: fires once when the date passes, never again', async () => {
    const end = new Date(clock + 3 * DAY).toISOString().slice(0, 10)
    await startExperiment('late', { analysis: { successCriteria: { minimumLift: 0.1, plannedEndDate: end } } }, 20)
    const id = await rule('past_planned_end', 'late')
    await round()
    expect(await alertsOf(id)).toHaveLength(0)
    clock += 4 * DAY
    await round()
    await round()
    const alerts = await alertsOf(id)
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({
      kind: 'past_planned_end',
      subject: 'late',
      state: 'past',
      previousState: 'before',
      link: 'https://lab.example.com/experiments/late',
    })
    expect(receivedFor(id)).toHaveLength(1)
    expect(receivedFor(id)[0]).toMatchObject({ type: 'alert', link: 'https://lab.example.com/experiments/late', data: { experimentId: 'late', state: 'past' } })
  })

  it('no exposures for N hours: fires once per quiet spell', async () => {
    await startExperiment('quiet', {}, 10)
    const id = await rule('no_exposures', 'quiet', { hours: 2 })
    await round()
    clock += 3 * HOUR
    await round()
    await round()
    expect((await alertsOf(id)).map((a) => a.state)).toEqual(['quiet'])
    await assign('quiet', ['quiet-late-1'])
    await round()
    expect(await alertsOf(id)).toHaveLength(1)
    clock += 3 * HOUR
    await round()
    await round()
    expect((await alertsOf(id)).map((a) => [a.previousState, a.state])).toEqual([
      ['active', 'quiet'],
      ['active', 'quiet'],
    ])
    expect(receivedFor(id)).toHaveLength(2)
  })

  it('budget: fires at 80% and at 100% of the incentive budget, once each', async () => {
    await startExperiment('spend', { budget: { amount: 100 } })
    const assignments = await assign(
      'spend',
      Array.from({ length: 40 }, (_, i) => `spend-c${i}`),
    )
    const treated = assignments.filter((a) => a.arm === 'pct15').map((a) => a.customerId)
    const id = await rule('budget', 'spend')
    let n = 0
    const redeem = async (cost: number) =>
      expectOk(
        h.call('POST', '/v1/events', [
          { eventId: `spend-r${n++}`, customerId: treated[n % treated.length], type: 'offer_redeemed', ts: clock, cost, experimentId: 'spend', arm: 'pct15' },
        ]),
      )
    await redeem(50)
    await round()
    expect(await alertsOf(id)).toHaveLength(0)
    await redeem(35)
    await round()
    await round()
    await redeem(5)
    await round()
    expect((await alertsOf(id)).map((a) => a.state)).toEqual(['80'])
    await redeem(20)
    await round()
    await round()
    const alerts = await alertsOf(id)
    expect(alerts.map((a) => a.state)).toEqual(['80', '100'])
    expect(alerts[1].text).toContain('$110.00 of $100.00')
    expect(receivedFor(id)).toHaveLength(2)
  })

  it('SRM and the recommendation: each fires once when a broken exposure path skews the split', async () => {
    await startExperiment('skew', {}, 400)
    const srm = await rule('srm', 'skew')
    const recommendation = await rule('recommendation_changed', 'skew')
    await round()
    expect(await alertsOf(srm)).toHaveLength(0)
    expect(await alertsOf(recommendation)).toHaveLength(0)
    // A second logging path writes 300 extra control exposures: the observed split no longer matches 50/50.
    await h.ch.client.insert({
      table: 'exposures',
      values: Array.from({ length: 300 }, (_, i) => ({
        experiment_id: 'skew',
        customer_id: `skew-extra-${i}`,
        arm: 'control',
        ts: clock - HOUR,
        attributes: {},
      })),
      format: 'JSONEachRow',
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    })
    await round()
    await round()
    const srmAlerts = await alertsOf(srm)
    expect(srmAlerts.map((a) => a.state)).toEqual(['mismatch'])
    expect(srmAlerts[0].link).toBe('https://lab.example.com/experiments/skew')
    const report = await expectOk(h.call('GET', '/v1/experiments/skew/report'))
    expect(report.srm.mismatch).toBe(true)
    const changes = await alertsOf(recommendation)
    expect(changes).toHaveLength(1)
    expect(changes[0].state).toBe(`${report.recommendation.action}${report.recommendation.arm ? `:${report.recommendation.arm}` : ''}`)
    expect(changes[0].previousState).not.toBe(changes[0].state)
    expect(receivedFor(srm)).toHaveLength(1)
    expect(receivedFor(recommendation)).toHaveLength(1)
  })

  it('guardrail harmed: fires once when the offer arm raises unsubscribes beyond the margin', async () => {
    await expectOk(h.call('POST', '/v1/experiments', twoArmExperiment('guard', { analysis: { attributionDays: 1 } })), 201)
    await expectOk(h.call('POST', '/v1/experiments/guard/start'))
    const assignments = await assign(
      'guard',
      Array.from({ length: 400 }, (_, i) => `guard-c${i}`),
    )
    const id = await rule('guardrail_harmed', 'guard')
    await round()
    expect(await alertsOf(id)).toHaveLength(0)
    const unsubscribes = assignments
      .filter((a, i) => a.arm === 'pct15' || (a.arm === 'control' && i % 10 === 0))
      .map((a, i) => ({ eventId: `guard-u${i}`, customerId: a.customerId, type: 'unsubscribe', ts: clock + HOUR }))
    await expectOk(h.call('POST', '/v1/events', unsubscribes))
    clock += 2 * DAY
    await round()
    await round()
    const alerts = await alertsOf(id)
    expect(alerts.map((a) => a.state)).toEqual(['unsubscribe:pct15'])
    const report = await expectOk(h.call('GET', '/v1/experiments/guard/report'))
    const guardrail = report.metrics.find((m: { key: string }) => m.key === 'unsubscribe')
    expect(guardrail.comparisons.find((c: { variant: string }) => c.variant === 'pct15').guardrail.status).toBe('harmed')
    expect(receivedFor(id)).toHaveLength(1)
  })

  it('runs the scheduled work in one holder of the advisory lock at a time', async () => {
    const { withAdvisoryLock, SCHEDULER_LOCK } = await import('../../api/notifications/leader.ts')
    const { sql } = await import('kysely')
    let inside = false
    const ran = await withAdvisoryLock(h.db, SCHEDULER_LOCK, async () => {
      inside = true
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${SCHEDULER_LOCK}`.execute(h.db)
      expect(rows[0].n).toBe(1)
    })
    expect([ran, inside]).toEqual([true, true])
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory'`.execute(h.db)
    expect(rows[0].n).toBe(0)
  })
})
