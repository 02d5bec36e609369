import { createHmac, timingSafeEqual } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openNotificationHarness, openReceiver } from '../helpers/notifications.ts'
import { createApp } from '../../api/app.ts'
import { jsonClient } from '../helpers/server-client.ts'
import { ADMIN_KEY } from '../helpers/harness.ts'
import { claimDue } from '../../api/notifications/outbox.ts'
import { verifySignature } from '../../api/notifications/signing.ts'

/**
 * Issue 21, delivery: destinations and their validation, the webhook signature, retries with backoff, the dead
 * letter and a restart in the middle, against a local HTTP receiver. The app's clock is the test's: a retry is due
 * when the test moves the clock past its backoff, never after a real wait.
 */
const BACKOFF = 60_000
let clock = Date.now()
const now = () => clock
let h: Awaited<ReturnType<typeof openNotificationHarness>>
let receiver: Awaited<ReturnType<typeof openReceiver>>
const options = {
  secretKey: 'a test key that is at least thirty-two characters long',
  allowPrivateAddresses: true,
  publicUrl: 'https://lab.example.com',
  maxAttempts: 3,
  backoffBaseMs: BACKOFF,
  timeoutMs: 500,
  random: () => 0.5,
}

beforeAll(async () => {
  receiver = await openReceiver()
  h = await openNotificationHarness({ now, notifications: options })
}, 120_000)
afterAll(async () => {
  await h?.close()
  await receiver?.close()
})

async function webhook(name: string, pathName: string) {
  const r = await h.call('POST', '/v1/destinations', { kind: 'webhook', name, url: `${receiver.base}${pathName}` })
  expect(r.status).toBe(201)
  return r.body as { id: string; signingSecret: string }
}

async function deliveries() {
  return (await h.call('GET', '/v1/deliveries?limit=500')).body.deliveries as Array<Record<string, any>>
}

describe('destinations', () => {
  it('refuses a URL that is not one, naming the field', async () => {
    const r = await h.call('POST', '/v1/destinations', { kind: 'webhook', name: 'x', url: 'not a url' })
    expect([r.status, r.body.error.field]).toEqual([400, 'url'])
    const slack = await h.call('POST', '/v1/destinations', { kind: 'slack', name: 'x', url: 'ftp://hooks.slack.com/x' })
    expect([slack.status, slack.body.error.field]).toEqual([400, 'url'])
  })

  it('refuses http to a private address when the configuration disallows it', async () => {
    const strict = await createApp({ db: h.db, ch: h.ch, now, notifications: { ...options, allowPrivateAddresses: false } })
    try {
      const { call } = jsonClient((url, init) => strict.app.request(url, init), ADMIN_KEY)
      for (const url of [
        'http://127.0.0.1:9/hook',
        'http://10.1.2.3/hook',
        'http://[::1]/hook',
        'http://localhost/hook',
        'http://192.168.0.7/x',
        'http://169.254.169.254/latest',
      ]) {
        const r = await call('POST', '/v1/destinations', { kind: 'webhook', name: 'internal', url })
        expect([url, r.status, r.body.error.field]).toEqual([url, 400, 'url'])
        expect(r.body.error.message).toMatch(/private/)
      }
    } finally {
      await strict.close()
    }
  })

  it('refuses an email destination without SMTP settings, naming every missing field at once', async () => {
    const r = await h.call('POST', '/v1/destinations', { kind: 'email', name: 'CFO', to: ['cfo@example.com'] })
    expect(r.status).toBe(400)
    expect(r.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['smtp.host', 'smtp.from'])
    const bad = await h.call('POST', '/v1/destinations', { kind: 'email', name: 'CFO', to: ['not-an-address'] })
    expect([bad.status, bad.body.error.field]).toEqual([400, 'to.0'])
  })

  it('shows a secret once: never in lists, reads, the audit log or the delivery log', async () => {
    const hook = await webhook('Ops', '/hooks/secret')
    expect(hook.signingSecret).toMatch(/^whsec_/)
    const slackToken = 'T0SECRET/B0SECRET/xoxSECRETtoken'
    const slack = await h.call('POST', '/v1/destinations', { kind: 'slack', name: 'Growth', url: `${receiver.base}/services/${slackToken}` })
    expect(slack.status).toBe(201)
    receiver.answer(500)
    await h.call('POST', `/v1/destinations/${slack.body.id}/test`)
    receiver.answer(200)
    const answers = JSON.stringify([
      await h.call('GET', '/v1/destinations'),
      await h.call('GET', `/v1/destinations/${hook.id}`),
      await h.call('GET', `/v1/destinations/${slack.body.id}`),
      await h.call('GET', '/v1/audit?limit=1000'),
      await h.call('GET', '/v1/deliveries'),
      slack.body,
    ])
    expect(answers).not.toContain(hook.signingSecret)
    expect(answers).not.toContain('xoxSECRETtoken')
    const stored = JSON.stringify(await h.db.selectFrom('notification_destinations').selectAll().execute())
    expect(stored).not.toContain(hook.signingSecret)
    expect(stored).not.toContain('xoxSECRETtoken')
  })
})

describe('webhook signature', () => {
  it('signs timestamp.body with HMAC-SHA256, verifiable with the documented snippet', async () => {
    const hook = await webhook('Signed', '/hooks/signed')
    receiver.answer(200)
    const test = await h.call('POST', `/v1/destinations/${hook.id}/test`)
    expect(test.body).toMatchObject({ delivered: true, statusCode: 200 })
    const [req] = receiver.on('/hooks/signed')
    const header = String(req.headers['x-retention-signature'])
    // docs/notifications.md's verification, written out independently of the server's code.
    const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('='))) as { t: string; v1: string }
    const expected = createHmac('sha256', hook.signingSecret).update(`${t}.${req.body}`).digest('hex')
    expect(timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(expected, 'hex'))).toBe(true)
    expect(Math.abs(Number(t) - Math.floor(clock / 1000))).toBeLessThanOrEqual(1)
    expect(verifySignature(hook.signingSecret, header, req.body, Math.floor(clock / 1000))).toBe(true)
    expect(verifySignature(hook.signingSecret, header, req.body.replace('Test', 'Tost'), Math.floor(clock / 1000))).toBe(false)
    expect(verifySignature('whsec_other', header, req.body, Math.floor(clock / 1000))).toBe(false)
    expect(JSON.parse(req.body)).toMatchObject({ type: 'test', id: req.headers['idempotency-key'], link: 'https://lab.example.com/settings/notifications' })
  })
})

describe('outbox', () => {
  it('delivers once after a receiver answers 500 twice then 200, retrying only after each backoff', async () => {
    const hook = await webhook('Flaky', '/hooks/flaky')
    receiver.answer(500, 500, 200)
    const sent = await h.call('POST', '/v1/digest/send', { destinationIds: [hook.id] })
    expect([sent.status, sent.body.queued]).toEqual([200, 1])
    expect(await h.notifications.worker.runDue()).toBe(1)
    // random = 0.5: the first retry waits 3/4 of the base, the second 3/4 of twice the base.
    expect(await h.notifications.worker.runDue()).toBe(0)
    clock += 0.75 * BACKOFF - 1
    expect(await h.notifications.worker.runDue()).toBe(0)
    clock += 1
    expect(await h.notifications.worker.runDue()).toBe(1)
    clock += 1.5 * BACKOFF
    expect(await h.notifications.worker.runDue()).toBe(1)
    const calls = receiver.on('/hooks/flaky')
    expect(calls).toHaveLength(3)
    expect(new Set(calls.map((c) => c.headers['idempotency-key'])).size).toBe(1)
    const [d] = (await deliveries()).filter((x) => x.destinationId === hook.id)
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, source: 'digest' })
    expect(d.log.map((a: { statusCode: number; outcome: string }) => [a.statusCode, a.outcome])).toEqual([
      [500, 'retry'],
      [500, 'retry'],
      [200, 'delivered'],
    ])
    clock += 10 * BACKOFF
    expect(await h.notifications.worker.runDue()).toBe(0)
    expect(receiver.on('/hooks/flaky')).toHaveLength(3)
  })

  it('dead-letters a notification whose receiver never answers after maxAttempts tries', async () => {
    const hook = await webhook('Silent', '/hooks/silent')
    receiver.answer('hang')
    await h.call('POST', '/v1/digest/send', { destinationIds: [hook.id] })
    for (let i = 0; i < 3; i++) {
      expect(await h.notifications.worker.runDue()).toBe(1)
      clock += 10 * BACKOFF
    }
    expect(await h.notifications.worker.runDue()).toBe(0)
    const [d] = (await deliveries()).filter((x) => x.destinationId === hook.id)
    expect(d).toMatchObject({ status: 'dead', attempts: 3, lastStatusCode: null, lastError: 'timed out', nextAttemptAt: null })
    expect((await h.call('GET', '/v1/deliveries?status=dead')).body.deliveries.map((x: { id: number }) => x.id)).toContain(d.id)
    receiver.answer(200)
  })

  it('loses nothing across a restart: queued, failed and claimed-by-a-dead-worker notifications are all delivered once', async () => {
    const hook = await webhook('Survivor', '/hooks/survivor')
    receiver.answer(500)
    // One that failed once, one never tried, one claimed by a worker that then died.
    await h.call('POST', '/v1/digest/send', { destinationIds: [hook.id] })
    expect(await h.notifications.worker.runDue()).toBe(1)
    await h.call('POST', '/v1/digest/send', { destinationIds: [hook.id] })
    clock += 1
    await h.call('POST', '/v1/digest/send', { destinationIds: [hook.id] })
    const claimed = await claimDue(h.db, new Date(clock), 60_000, 1)
    expect(claimed).toHaveLength(1)
    const before = receiver.on('/hooks/survivor').length

    await h.restart()
    receiver.answer(200)
    clock += 2 * BACKOFF
    expect(await h.notifications.worker.runDue()).toBe(3)
    const mine = (await deliveries()).filter((x) => x.destinationId === hook.id)
    expect(mine.map((x) => x.status)).toEqual(['delivered', 'delivered', 'delivered'])
    const after = receiver.on('/hooks/survivor').slice(before)
    expect(after).toHaveLength(3)
    expect(new Set(after.map((r) => r.headers['idempotency-key'])).size).toBe(3)
    // The restarted app still opens the secrets sealed before it: the signatures verify.
    expect(after.every((r) => verifySignature(hook.signingSecret, String(r.headers['x-retention-signature']), r.body, Math.floor(clock / 1000)))).toBe(true)
  }, 120_000)

  it('queues a notification once per idempotency key', async () => {
    const { enqueue } = await import('../../api/notifications/outbox.ts')
    const message = { type: 'test' as const, title: 't', text: 't', link: 'https://lab.example.com', facts: [] }
    const hook = await webhook('Once', '/hooks/once')
    expect(await enqueue(h.db, { idempotencyKey: 'k-1', destinationId: hook.id, source: 'test', message })).toBe(true)
    expect(await enqueue(h.db, { idempotencyKey: 'k-1', destinationId: hook.id, source: 'test', message })).toBe(false)
  })
})
