import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openServer, type OpenServer } from '../helpers/server-client.ts'
import { openReceiver } from '../helpers/notifications.ts'

/**
 * Issue 21: secrets never appear in API answers or logs. The server runs as `npm start` runs it, logging at `trace`,
 * with its delivery worker and scheduler on their own timers; every secret it is given — a webhook's signing secret,
 * a Slack URL's token, SMTP passwords from the body and from the environment, the sealing key — goes through
 * successful and failing deliveries (an SMTP server refusing the login, a Slack receiver answering 500, a retried
 * and dead-lettered alert) and refused requests, and then none of them is in any answer or in stdout and stderr.
 */
const SEALING_KEY = 'sealing-key-SECRET-0123456789abcdefghij'
const ENV_SMTP_PASSWORD = 'env-smtp-SECRET-password'
const BODY_SMTP_PASSWORD = 'body-smtp-SECRET-password'
const SLACK_TOKEN = 'T0SECRET/B0SECRET/slackSECRETtoken'
const URL_PASSWORD = 'urlSECRETpassword'
let s: OpenServer
let receiver: Awaited<ReturnType<typeof openReceiver>>
let smtp: SMTPServer
const logins: Array<{ username: string; password: string }> = []

beforeAll(async () => {
  receiver = await openReceiver()
  smtp = new SMTPServer({
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username ?? '', password: auth.password ?? '' })
      callback(new Error('Invalid username or password'))
    },
  })
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()))
  s = await openServer('notify-secrets', {
    env: {
      LOG_LEVEL: 'trace',
      NOTIFICATIONS_SECRET_KEY: SEALING_KEY,
      NOTIFICATIONS_ALLOW_PRIVATE: '1',
      NOTIFICATIONS_MAX_ATTEMPTS: '2',
      NOTIFICATIONS_BACKOFF_MS: '0',
      NOTIFICATIONS_INTERVAL_MS: '200',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String((smtp.server.address() as AddressInfo).port),
      SMTP_USER: 'env-user',
      SMTP_PASSWORD: ENV_SMTP_PASSWORD,
      SMTP_FROM: 'lab@example.com',
    },
  })
}, 120_000)
afterAll(async () => {
  await s?.close()
  await receiver?.close()
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()))
})

/** Polls `read` until `done` holds (a condition, never a fixed wait); fails after 30 s. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const v = await read()
    if (done(v)) return v
    if (Date.now() > deadline) throw new Error(`condition not met; last value: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('destination secrets', () => {
  it('never appear in an API answer, the audit log, the delivery log or the server’s output', async () => {
    const answers: unknown[] = []
    const call = async (method: string, url: string, body?: unknown) => {
      const r = await s.call(method, url, body)
      answers.push(r.body)
      return r
    }
    const hook = await call('POST', '/v1/destinations', { kind: 'webhook', name: 'Ops', url: `${receiver.base}/hooks/ops` })
    expect(hook.status).toBe(201)
    const signingSecret = hook.body.signingSecret as string
    expect(signingSecret).toMatch(/^whsec_/)
    const slack = await call('POST', '/v1/destinations', { kind: 'slack', name: 'Growth', url: `${receiver.base}/services/${SLACK_TOKEN}` })
    expect(slack.status).toBe(201)
    const mailEnv = await call('POST', '/v1/destinations', { kind: 'email', name: 'CFO', to: ['cfo@example.com'] })
    expect(mailEnv.status).toBe(201)
    const mailBody = await call('POST', '/v1/destinations', {
      kind: 'email',
      name: 'Board',
      to: ['board@example.com'],
      smtp: { user: 'body-user', password: BODY_SMTP_PASSWORD },
    })
    expect(mailBody.status).toBe(201)

    // Refused requests carrying secrets: the answer names the field without repeating the value.
    const refusedSlack = await call('POST', '/v1/destinations', { kind: 'slack', name: '', url: `${receiver.base}/services/${SLACK_TOKEN}` })
    expect([refusedSlack.status, refusedSlack.body.error.field]).toEqual([400, 'name'])
    const refusedUrl = await call('POST', '/v1/destinations', { kind: 'webhook', name: 'x', url: `https://user:${URL_PASSWORD}@example.com/hook` })
    expect([refusedUrl.status, refusedUrl.body.error.field]).toEqual([400, 'url'])

    receiver.answer(200)
    expect((await call('POST', `/v1/destinations/${hook.body.id}/test`)).body).toMatchObject({ delivered: true, statusCode: 200 })
    receiver.answer(500)
    expect((await call('POST', `/v1/destinations/${slack.body.id}/test`)).body).toMatchObject({ delivered: false, statusCode: 500 })
    // The SMTP server saw each password (so each was really used), and refused the login.
    for (const d of [mailEnv, mailBody])
      expect((await call('POST', `/v1/destinations/${d.body.id}/test`)).body).toMatchObject({ delivered: false, statusCode: 535 })
    expect(logins.map((l) => [l.username, l.password])).toEqual([
      ['env-user', ENV_SMTP_PASSWORD],
      ['body-user', BODY_SMTP_PASSWORD],
    ])

    // An alert through the server's own scheduler and worker: retried, then dead-lettered (the receiver still says 500).
    const rule = await call('POST', '/v1/alert-rules', {
      kind: 'ingestion_rejections',
      destinationIds: [hook.body.id, slack.body.id, mailBody.body.id],
      thresholdPct: 10,
      minRows: 1,
    })
    expect(rule.status).toBe(201)
    expect((await call('POST', '/v1/events', [{ eventId: 'e-1', customerId: 'c-1', type: 'purchase' }])).status).toBe(422)
    const deliveries = await until(
      async () => (await call('GET', '/v1/deliveries?limit=100')).body.deliveries as Array<{ source: string; status: string; destinationId: string }>,
      (list) => list.filter((d) => d.source === 'alert' && d.status === 'dead').length === 3,
    )
    expect(deliveries.filter((d) => d.source === 'alert').length).toBe(3)

    for (const url of [
      '/v1/destinations',
      `/v1/destinations/${slack.body.id}`,
      `/v1/destinations/${mailBody.body.id}`,
      '/v1/audit?limit=1000',
      '/v1/alerts',
      '/v1/alert-rules',
    ])
      await call('GET', url)
    const answered = JSON.stringify(answers.slice(1))
    const output = s.output()
    expect(output).toContain('"msg"')
    for (const secret of [signingSecret, SLACK_TOKEN, 'slackSECRETtoken', ENV_SMTP_PASSWORD, BODY_SMTP_PASSWORD, URL_PASSWORD, SEALING_KEY]) {
      expect(answered, secret).not.toContain(secret)
      expect(output, secret).not.toContain(secret)
    }
    // The signing secret is in the one answer that creates it, and nowhere else.
    expect(JSON.stringify(answers[0])).toContain(signingSecret)
  }, 120_000)
})
