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

/** A rule's alerts after two rounds: the second shows that an alert fires once per state change, not every run. */
async function alertsAfterTwoRounds(ruleId: string) {
  await round()
  await round()
  return alertsOf(ruleId)
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
    const alerts = await alertsAfterTwoRounds(id)
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
    const alerts = await alertsAfterTwoRounds(id)
    expect(alerts.map((a) => a.state)).toEqual(['80', '100'])
    expect(alerts[1].text).toContain('$110.00 of $100.00')
    expect(receivedFor(id)).toHaveLength(2)
  })

  it('budget: counts what open offers hold reserved with the spend, and fires only on the way up', async () => {
    expect((await h.call('POST', '/v1/triggers', { key: 'reserve', name: 'reserve' })).status).toBe(201)
    await expectOk(
      h.call('POST', '/v1/experiments', {
        id: 'reserve',
        name: 'Reserve',
        trigger: 'reserve',
        budget: { amount: 100, currency: 'USD', reservation: 'max_cost' },
        arms: [
          { key: 'reminder', name: 'Reminder', weight: 0.5, isControl: true, offer: { type: 'none', value: 0 } },
          { key: 'discount', name: 'Discount', weight: 0.5, offer: { type: 'amount_off', value: 10, unitCost: 10, validityDays: 7 } },
        ],
      }),
      201,
    )
    await expectOk(h.call('POST', '/v1/experiments/reserve/start'))
    const id = await rule('budget', 'reserve')
    const offered: string[] = []
    let n = 0
    /** Decides for new customers until `count` more of them got the discount (each reserves its $10 unit cost). */
    const offer = async (count: number) => {
      for (const target = offered.length + count; offered.length < target;) {
        const customerId = `reserve-c${n++}`
        const d = await expectOk(h.call('POST', '/v1/decide', { customerId, trigger: 'reserve' }))
        if (d.offer?.type === 'amount_off') offered.push(customerId)
        if (n > 500) throw new Error('the discount arm stopped offering')
      }
    }
    await offer(7)
    await round()
    expect(await alertsOf(id)).toHaveLength(0)
    // Nothing is spent yet: $80 of open offers alone reach 80%.
    await offer(1)
    await round()
    await round()
    expect((await alertsOf(id)).map((a) => a.state)).toEqual(['80'])
    expect((await alertsOf(id))[0].text).toContain('$0.00 spent and $80.00 reserved by open offers, of $100.00 (80%)')
    // Redemptions turn reservations into spend: the total, and so the state, stays.
    await expectOk(
      h.call(
        'POST',
        '/v1/events',
        offered.slice(0, 3).map((customerId) => ({
          eventId: `${customerId}-r`,
          customerId,
          type: 'offer_redeemed',
          ts: clock,
          cost: 10,
          experimentId: 'reserve',
          arm: 'discount',
        })),
      ),
    )
    await round()
    expect(await alertsOf(id)).toHaveLength(1)
    await offer(2)
    const alerts = await alertsAfterTwoRounds(id)
    expect(alerts.map((a) => [a.previousState, a.state])).toEqual([
      ['under', '80'],
      ['80', '100'],
    ])
    expect(alerts[1].text).toContain('$30.00 spent and $70.00 reserved by open offers, of $100.00 (100%)')
    // The digest's budget status says the same, with the overview's numbers.
    const kpiBudget = (await expectOk(h.call('GET', '/v1/kpis'))).budgets.find((b: { experimentId: string }) => b.experimentId === 'reserve')
    const digestBudget = (await expectOk(h.call('GET', '/v1/digest'))).budgets.find((b: { experimentId: string }) => b.experimentId === 'reserve')
    expect(digestBudget).toEqual({ experimentId: 'reserve', name: 'Reserve', amount: 100, currency: 'USD', spent: 30, reserved: 70, share: 1 })
    expect([kpiBudget.spent, kpiBudget.reserved]).toEqual([digestBudget.spent, digestBudget.reserved])
    // The unredeemed offers expire and release their reservations: back under 80%, recorded without an alert.
    clock += 8 * DAY
    await h.retention.decider.runScheduled(clock)
    await round()
    await round()
    expect(await alertsOf(id)).toHaveLength(2)
    const { rows } = await (await import('kysely')).sql<{ state: string }>`select state from alert_states where rule_id = ${id}`.execute(h.db)
    expect(rows).toEqual([{ state: 'under' }])
    expect(receivedFor(id).map((b) => b.data.state)).toEqual(['80', '100'])
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
    const alerts = await alertsAfterTwoRounds(id)
    expect(alerts.map((a) => a.state)).toEqual(['unsubscribe:pct15'])
    const report = await expectOk(h.call('GET', '/v1/experiments/guard/report'))
    const guardrail = report.metrics.find((m: { key: string }) => m.key === 'unsubscribe')
    expect(guardrail.comparisons.find((c: { variant: string }) => c.variant === 'pct15').guardrail.status).toBe('harmed')
    expect(receivedFor(id)).toHaveLength(1)
  })

  it('ingestion rejections: fires once when more than X% of the last hour’s rows are rejected, counted across processes', async () => {
    const ingestionRule = (extra: Record<string, unknown>) =>
      h.call('POST', '/v1/alert-rules', { kind: 'ingestion_rejections', destinationIds: [destination], ...extra })
    const wrongScope = await ingestionRule({ experimentId: 'late', thresholdPct: 0 })
    expect(wrongScope.status).toBe(400)
    expect(wrongScope.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['thresholdPct'])
    expect((await ingestionRule({ experimentId: 'late' })).body.error.field).toBe('experimentId')
    expect((await h.call('POST', '/v1/alert-rules', { kind: 'srm', destinationIds: [destination], thresholdPct: 5 })).body.error.field).toBe('thresholdPct')
    expect((await h.call('GET', '/v1/alert-rules')).body.rules.some((r: { kind: string }) => r.kind === 'ingestion_rejections')).toBe(false)
    const id = (await expectOk(ingestionRule({ thresholdPct: 10, minRows: 20 }), 201)).id as string
    const lenient = (await expectOk(ingestionRule({ thresholdPct: 50, minRows: 20 }), 201)).id as string
    expect((await expectOk(h.call('GET', '/v1/alert-rules'))).rules.find((r: { id: string }) => r.id === id)).toMatchObject({
      experimentId: null,
      thresholdPct: 10,
      minRows: 20,
      hours: null,
    })

    // A second API process on the same stores: its rejected rows must count where the scheduler reads them.
    const { createApp } = await import('../../api/app.ts')
    const other = await createApp({ db: h.db, ch: h.ch, now, notifications: { secretKey: 'rules test key, at least thirty-two characters' } })
    const { jsonClient } = await import('../helpers/server-client.ts')
    const { ADMIN_KEY } = await import('../helpers/harness.ts')
    const callOther = jsonClient((url, init) => other.app.request(url, init), ADMIN_KEY).call
    let n = 0
    const good = (count: number) =>
      Array.from({ length: count }, () => ({ eventId: `ingest-${n}`, customerId: `ingest-c${n++}`, type: 'purchase', ts: clock, revenue: 20 }))
    const bad = (count: number) => Array.from({ length: count }, (_, i) => ({ eventId: `ingest-bad-${n++}`, customerId: `ingest-c${i}`, type: 'purchase' }))
    try {
      await expectOk(h.call('POST', '/v1/events', good(45)))
      await round()
      expect(await alertsOf(id)).toHaveLength(0)
      // 5 rows reuse stored eventIds with another amount (event_id_reused; sent to the process that stored them,
      // docs/ingestion.md) and, through the other process, 5 rows without a time: 10 of 55 (18%) rejected.
      const reused = Array.from({ length: 5 }, (_, i) => ({ eventId: `ingest-${i}`, customerId: `ingest-c${i}`, type: 'purchase', ts: clock, revenue: 99 }))
      const refused = await h.call('POST', '/v1/events', reused)
      expect(refused.body.rejected.map((r: { code: string }) => r.code)).toEqual(Array(5).fill('event_id_reused'))
      expect((await callOther('POST', '/v1/events', bad(5))).status).toBe(422)
      const alerts = await alertsAfterTwoRounds(id)
      expect(alerts).toHaveLength(1)
      expect(alerts[0]).toMatchObject({
        kind: 'ingestion_rejections',
        subject: 'program',
        state: 'above',
        previousState: 'below',
        link: 'https://lab.example.com/settings/notifications',
      })
      expect(alerts[0].text).toContain('10 of the 55 event rows received in the last hour were rejected')
      expect(await alertsOf(lenient)).toHaveLength(0)

      // An hour later the spell has left the window: the rule re-arms silently, and the next spell fires again.
      clock += 61 * 60_000
      await expectOk(callOther('POST', '/v1/events', good(30)))
      await round()
      expect(await alertsOf(id)).toHaveLength(1)
      await expectOk(h.call('POST', '/v1/events', [...good(10), ...bad(10)]))
      await round()
      await round()
      expect((await alertsOf(id)).map((a) => [a.previousState, a.state])).toEqual([
        ['below', 'above'],
        ['below', 'above'],
      ])
      expect(await alertsOf(lenient)).toHaveLength(0)
      const received = receivedFor(id)
      expect(received).toHaveLength(2)
      expect(received[0]).toMatchObject({
        type: 'alert',
        link: 'https://lab.example.com/settings/notifications',
        data: { kind: 'ingestion_rejections', experimentId: null, state: 'above' },
      })
    } finally {
      await other.close()
    }
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
