import type { Digest } from './digest.ts'

/**
 * One notification as the outbox stores it, independent of where it goes: each transport renders it in its own
 * format (a signed JSON body, Slack blocks, an email) when it is delivered.
 */
export interface NotificationMessage {
  type: 'alert' | 'digest' | 'test'
  title: string
  /** One paragraph for people. */
  text: string
  /** The dashboard page to open. */
  link: string
  facts: Array<{ label: string; value: string }>
  /** Machine-readable details for webhook receivers (an alert's rule, subject and states). */
  data?: Record<string, unknown>
  digest?: Digest
}

/** The JSON a webhook receives (docs/notifications.md); `id` is the idempotency key, the same on every retry. */
export function webhookBody(id: string, m: NotificationMessage, createdAt: Date): string {
  const { digest, ...rest } = m
  return JSON.stringify({ id, ...rest, ...(digest ? { digest } : {}), createdAt: createdAt.toISOString() })
}

const escapeMrkdwn = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Block Kit for an alert or a test: a header, the sentence, up to ten facts and a button to the dashboard. */
export function slackBlocks(m: NotificationMessage): { text: string; blocks: unknown[] } {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: m.title.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(m.text) } },
  ]
  if (m.facts.length)
    blocks.push({
      type: 'section',
      fields: m.facts.slice(0, 10).map((f) => ({ type: 'mrkdwn', text: `*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}` })),
    })
  blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Retention Lab' }, url: m.link }] })
  return { text: m.title, blocks }
}

export const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** An alert or a test as an email: the same sentence, facts and link in plain text and in simple HTML. */
export function emailParts(m: NotificationMessage): { subject: string; text: string; html: string } {
  const text = [m.text, '', ...m.facts.map((f) => `${f.label}: ${f.value}`), '', `Open in Retention Lab: ${m.link}`].join('\n')
  const rows = m.facts
    .map((f) => `<tr><th align="left" style="padding:4px 12px 4px 0">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`)
    .join('')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1f2933">
<h1 style="font-size:18px">${escapeHtml(m.title)}</h1><p>${escapeHtml(m.text)}</p>
${rows ? `<table style="border-collapse:collapse;font-size:14px">${rows}</table>` : ''}
<p><a href="${escapeHtml(m.link)}">Open in Retention Lab</a></p></body></html>`
  return { subject: m.title, text, html }
}
