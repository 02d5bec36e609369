import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openNotificationHarness } from '../helpers/notifications.ts'
import { twoArmExperiment } from '../helpers/harness.ts'
import { CHROMIUM, SHOTS } from './browser.ts'

/**
 * Issue 21: the digest by email. A test SMTP server (smtp-server) receives it; its HTML part renders in Chromium with
 * the API's numbers, formatted for people (screenshot: test/e2e/screenshots/digest-email.png), and its text part
 * carries the same figures.
 */
const DAY = 86_400_000
const start = Date.now() - 60 * DAY
let clock = start
let h: Awaited<ReturnType<typeof openNotificationHarness>>
let smtp: SMTPServer
let browser: Browser
const mails: Array<{ from: string; to: string[]; raw: string }> = []

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = ''
      stream.on('data', (d: Buffer) => (raw += d.toString('utf8')))
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()))
  const port = (smtp.server.address() as AddressInfo).port
  h = await openNotificationHarness({
    now: () => clock,
    notifications: {
      secretKey: 'email test key, at least thirty-two characters!',
      allowPrivateAddresses: true,
      publicUrl: 'https://lab.example.com',
      smtp: { host: '127.0.0.1', port, from: 'lab@example.com' },
    },
  })
  await h.call('POST', '/v1/experiments', twoArmExperiment('winback', { budget: { amount: 2000 } }))
  await h.call('POST', '/v1/experiments/winback/start')
  const { body } = await h.call('POST', '/v1/assign/batch', {
    experimentId: 'winback',
    customers: Array.from({ length: 800 }, (_, i) => ({ customerId: `m-${i}` })),
  })
  await h.retention.exposures.flush()
  const events = (body.assignments as Array<{ customerId: string; arm: string | null }>).flatMap((a, i) => [
    ...(i % 3 === 0 || (a.arm === 'pct15' && i % 4 === 0)
      ? [{ eventId: `p-${i}`, customerId: a.customerId, type: 'purchase', ts: start + DAY, revenue: 60 + (i % 9) * 10, margin: 20 }]
      : []),
    ...(a.arm === 'pct15' && i % 4 === 0
      ? [{ eventId: `r-${i}`, customerId: a.customerId, type: 'offer_redeemed', ts: start + DAY, cost: 6, experimentId: 'winback', arm: 'pct15' }]
      : []),
  ])
  await h.call('POST', '/v1/events', events)
  clock = start + 50 * DAY
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  fs.mkdirSync(SHOTS, { recursive: true })
}, 180_000)
afterAll(async () => {
  await browser?.close()
  await h?.close()
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()))
})

/** The decoded body of the first MIME part of `type` (quoted-printable or base64, as nodemailer chooses). */
function mimePart(raw: string, type: string): string {
  const at = raw.search(new RegExp(`Content-Type: ${type}`, 'i'))
  expect(at).toBeGreaterThan(-1)
  const part = raw.slice(at)
  const headerEnd = part.indexOf('\r\n\r\n')
  const headers = part.slice(0, headerEnd)
  const body = part.slice(headerEnd + 4).split(/\r\n--/)[0]
  if (/base64/i.test(headers)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (/quoted-printable/i.test(headers)) {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => `%${hex}`)
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'))
  }
  return body
}

describe('the digest by email', () => {
  it('reaches the SMTP server with HTML and text parts that render in Chromium with the API’s numbers', async () => {
    const dest = await h.call('POST', '/v1/destinations', { kind: 'email', name: 'Executives', to: ['cfo@example.com', 'vp-growth@example.com'] })
    expect(dest.status).toBe(201)
    const from = new Date(start - DAY).toISOString()
    const to = new Date(start + 3 * DAY).toISOString()
    const sent = await h.call('POST', `/v1/digest/send?from=${from}&to=${to}`, { destinationIds: [dest.body.id] })
    expect([sent.status, sent.body.queued]).toEqual([200, 1])
    expect(await h.notifications.worker.runDue()).toBe(1)
    expect(mails).toHaveLength(1)
    const [mail] = mails
    expect(mail.from).toBe('lab@example.com')
    expect(mail.to.sort()).toEqual(['cfo@example.com', 'vp-growth@example.com'])
    const deliveries = (await h.call('GET', '/v1/deliveries')).body.deliveries
    expect(deliveries[0]).toMatchObject({ status: 'delivered', lastStatusCode: 250, source: 'digest' })

    const kpis = (await h.call('GET', `/v1/kpis?from=${from}&to=${to}`)).body
    const html = mimePart(mail.raw, 'text/html')
    const text = mimePart(mail.raw, 'text/plain')
    const page = await browser.newPage({ viewport: { width: 720, height: 900 } })
    // No network: the email must stand alone, as in a mail client.
    await page.route('**/*', (route) => route.abort())
    await page.setContent(html)
    await page.screenshot({ path: path.join(SHOTS, 'digest-email.png'), fullPage: true })
    await expect(page.locator('h1').textContent()).resolves.toContain('Retention program')
    const shown = await page.locator('body').innerText()
    expect(shown).toContain(kpis.headline.text)
    const spend = `$${Math.round(kpis.incentiveSpend).toLocaleString('en-US')}`
    expect(shown).toContain(spend)
    expect(text).toContain(spend)
    expect(shown).toContain(`${kpis.treated.n.toLocaleString('en-US')} / ${kpis.globalHoldout.n.toLocaleString('en-US')}`)
    expect(shown).toMatch(/Budgets[\s\S]*Experiment winback/)
    const link = await page.locator('a', { hasText: 'Experiment winback' }).first().getAttribute('href')
    expect(link).toBe('https://lab.example.com/experiments/winback')
    expect(shown).not.toMatch(/NaN|undefined|null/)
    await page.close()
  })
})
