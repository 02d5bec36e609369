import nodemailer from 'nodemailer'
import type { DestinationTarget } from './destinations.ts'
import { emailParts, slackBlocks, webhookBody, type NotificationMessage } from './message.ts'
import { digestEmail, digestSlackBlocks } from './digest-render.ts'
import { signatureHeader, SIGNATURE_HEADER } from './signing.ts'
import { privateHostProblem } from './address-policy.ts'

/** One attempt's outcome: delivered or not, the receiver's status (HTTP, or the SMTP reply code) and why not. */
export interface SendResult {
  ok: boolean
  statusCode: number | null
  error: string | null
}

export interface SendContext {
  idempotencyKey: string
  createdAt: Date
  now: Date
  timeoutMs: number
  allowPrivateAddresses: boolean
}

/** Sends one notification to one destination, once; retrying is the outbox's job. Never throws. */
export async function send(target: DestinationTarget, m: NotificationMessage, ctx: SendContext): Promise<SendResult> {
  try {
    if (target.kind === 'email') return await sendEmail(target, m, ctx)
    // Checked again at each delivery: a name may resolve elsewhere now than when the destination was saved.
    const problem = await privateHostProblem(new URL(target.url), ctx.allowPrivateAddresses)
    if (problem) return { ok: false, statusCode: null, error: problem }
    if (target.kind === 'slack') {
      const body = JSON.stringify(m.digest ? digestSlackBlocks(m.digest) : slackBlocks(m))
      return await post(target.url, body, { 'content-type': 'application/json' }, ctx.timeoutMs)
    }
    const body = webhookBody(ctx.idempotencyKey, m, ctx.createdAt)
    const t = Math.floor(ctx.now.getTime() / 1000)
    return await post(
      target.url,
      body,
      {
        'content-type': 'application/json',
        'user-agent': 'RetentionLab-Webhooks/1',
        'idempotency-key': ctx.idempotencyKey,
        [SIGNATURE_HEADER]: signatureHeader(target.signingSecret, t, body),
      },
      ctx.timeoutMs,
    )
  } catch (error) {
    return { ok: false, statusCode: null, error: describe(error) }
  }
}

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendResult> {
  // Redirects are not followed: a receiver could otherwise point the server at a private address.
  const res = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
  const text = await res.text().catch(() => '')
  if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status, error: null }
  return { ok: false, statusCode: res.status, error: `answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` }
}

async function sendEmail(target: Extract<DestinationTarget, { kind: 'email' }>, m: NotificationMessage, ctx: SendContext): Promise<SendResult> {
  const { smtp } = target
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure ?? false,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    connectionTimeout: ctx.timeoutMs,
    greetingTimeout: ctx.timeoutMs,
    socketTimeout: ctx.timeoutMs,
  })
  try {
    const parts = m.digest ? digestEmail(m.digest) : emailParts(m)
    const info = await transport.sendMail({
      from: smtp.from,
      to: target.to,
      subject: parts.subject,
      text: parts.text,
      html: parts.html,
      headers: { 'X-Retention-Idempotency-Key': ctx.idempotencyKey },
    })
    const code = Number(/^(\d{3})/.exec(String(info.response ?? ''))?.[1] ?? 250)
    return { ok: true, statusCode: code, error: null }
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode ?? null
    return { ok: false, statusCode: code, error: describe(error) }
  } finally {
    transport.close()
  }
}

/** An error in a few words for the delivery log; never the request, which may carry a secret URL. */
function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out'
    const cause = (error as { cause?: { code?: string } }).cause?.code
    return (cause ? `${error.message} (${cause})` : error.message).slice(0, 300)
  }
  return String(error).slice(0, 300)
}
