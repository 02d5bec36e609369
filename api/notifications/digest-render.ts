import { DASH, isNumber, MINUS, moneyScale, scaledMoney, currency } from '../contract/money.ts'
import type { KpiEstimate } from '../contract/kpis.ts'
import type { Digest } from './digest.ts'
import { escapeHtml } from './message.ts'

/** The digest's figures as people read them, shared by the Slack, email and webhook forms (and the dashboard page reads the same numbers). */
export function digestFigures(d: Digest) {
  const k = d.kpis
  const money = (e: KpiEstimate) => {
    const scale = moneyScale([e.estimate, ...(e.ci ?? [])])
    return `${scaledMoney(e.estimate, scale, 'USD', true)}${e.ci ? ` (95% CI ${scaledMoney(e.ci[0], scale)} to ${scaledMoney(e.ci[1], scale)})` : ''}`
  }
  const lift = (c: { estimate: number | null; ci: [number, number] | null }) =>
    `${signedPercent(c.estimate)}${c.ci ? ` (95% CI ${signedPercent(c.ci[0])} to ${signedPercent(c.ci[1])})` : ''}`
  const times = (x: number) => `${x.toFixed(2).replace('-', MINUS)}×`
  const roi = isNumber(k.roi) ? `${times(k.roi)}${k.roiCi ? ` (95% CI ${times(k.roiCi[0])} to ${times(k.roiCi[1])})` : ''}` : DASH
  return [
    { label: 'Incremental net value', value: money(k.incrementalNetValue) },
    { label: 'Incremental revenue', value: money(k.incrementalRevenue) },
    { label: 'Incentive spend', value: currency(k.incentiveSpend, 'USD', k.incentiveSpend >= 100 ? 0 : 2) },
    { label: 'ROI', value: roi },
    { label: 'Reactivation lift vs holdout', value: lift(k.reactivationLift) },
    { label: 'Revenue lift vs holdout', value: lift(k.revenueLift) },
    { label: 'Customers treated / held out', value: `${k.treated.n.toLocaleString('en-US')} / ${k.globalHoldout.n.toLocaleString('en-US')}` },
  ]
}

function signedPercent(x: number | null | undefined): string {
  if (!isNumber(x)) return DASH
  const r = Number((x * 100).toFixed(1))
  return `${r > 0 ? '+' : r < 0 ? MINUS : ''}${Math.abs(r).toFixed(1)}%`
}

const actionWords: Record<string, string> = { ship: 'Ship', keep_running: 'Keep running', stop: 'Stop', roll_back: 'Roll back', investigate: 'Investigate' }
const action = (a: string | null, arm: string | null) => (a ? `${actionWords[a] ?? a}${arm ? ` ${arm}` : ''}` : DASH)
const day = (iso: string) => new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })
const share = (x: number) => `${Math.round(x * 100)}%`
const used = (b: Digest['budgets'][number]) =>
  `${currency(b.spent, b.currency)} spent${b.reserved > 0 ? ` + ${currency(b.reserved, b.currency)} reserved` : ''} of ${currency(b.amount, b.currency)} (${share(b.share)})`
const mrkdwn = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** The digest as a Slack Block Kit message. */
export function digestSlackBlocks(d: Digest): { text: string; blocks: unknown[] } {
  const facts = digestFigures(d)
  const list = (lines: string[], empty: string) => (lines.length ? lines.join('\n') : `_${empty}_`)
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: d.title.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: mrkdwn(d.kpis.headline.text) } },
    { type: 'section', fields: facts.slice(0, 10).map((f) => ({ type: 'mrkdwn', text: `*${mrkdwn(f.label)}*\n${mrkdwn(f.value)}` })) },
    { type: 'divider' },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*This week's decisions*\n${list(
          d.decisions.map((x) => `• <${x.link}|${mrkdwn(x.name)}>: ${x.chosenArm ? `chose ${mrkdwn(x.chosenArm)}` : 'no arm chosen'} (${day(x.decidedAt)})`),
          'No decisions recorded this week.',
        )}`.slice(0, 3000),
      },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Running experiments*\n${list(
          d.running.map((x) => `• <${x.link}|${mrkdwn(x.name)}>: ${action(x.action, x.arm)}`),
          'None running.',
        )}`.slice(0, 3000),
      },
    },
  ]
  if (d.budgets.length)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Budgets*\n${d.budgets.map((b) => `• ${mrkdwn(b.name)}: ${used(b)}`).join('\n')}`.slice(0, 3000),
      },
    })
  blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the digest' }, url: d.link }] })
  return { text: `${d.title}: ${d.kpis.headline.text}`, blocks }
}

/** The digest as an email: HTML (tables, inline styles, as mail clients need) and the same content as plain text. */
export function digestEmail(d: Digest): { subject: string; text: string; html: string } {
  const facts = digestFigures(d)
  const text = [
    d.title,
    '',
    d.kpis.headline.text,
    '',
    ...facts.map((f) => `${f.label}: ${f.value}`),
    '',
    "This week's decisions:",
    ...(d.decisions.length
      ? d.decisions.map((x) => `- ${x.name}: ${x.chosenArm ? `chose ${x.chosenArm}` : 'no arm chosen'} (${day(x.decidedAt)}) ${x.link}`)
      : ['- none']),
    '',
    'Running experiments:',
    ...(d.running.length ? d.running.map((x) => `- ${x.name}: ${action(x.action, x.arm)} ${x.link}`) : ['- none']),
    ...(d.budgets.length ? ['', 'Budgets:', ...d.budgets.map((b) => `- ${b.name}: ${used(b)}`)] : []),
    '',
    `Open the digest: ${d.link}`,
  ].join('\n')
  const e = escapeHtml
  const th = 'style="text-align:left;padding:6px 12px 6px 0;font-weight:600;color:#52606d;border-bottom:1px solid #e4e7eb"'
  const td = 'style="padding:6px 12px 6px 0;border-bottom:1px solid #e4e7eb"'
  const table = (head: string[], rows: string[][]) =>
    `<table role="presentation" style="border-collapse:collapse;width:100%;font-size:14px"><tr>${head.map((h) => `<th ${th}>${e(h)}</th>`).join('')}</tr>${rows
      .map((r) => `<tr>${r.map((c) => `<td ${td}>${c}</td>`).join('')}</tr>`)
      .join('')}</table>`
  const color = { earned: '#0b7a3e', lost: '#b42318', unclear: '#52606d', no_data: '#52606d' }[d.kpis.headline.outcome]
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(d.title)}</title></head>
<body style="margin:0;background:#f5f7fa;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2933">
<div style="max-width:640px;margin:0 auto;padding:24px;background:#ffffff">
<h1 style="font-size:20px;margin:0 0 4px">${e(d.title)}</h1>
<p style="margin:0 0 16px;color:#52606d;font-size:13px">First exposures ${e(day(d.from))} to ${e(day(new Date(Date.parse(d.to) - 1).toISOString()))}; outcomes over ${d.kpis.windowDays} days, against the global holdout.</p>
<p style="font-size:16px;padding:12px;border-left:4px solid ${color};background:#f5f7fa;margin:0 0 16px">${e(d.kpis.headline.text)}</p>
${table(
  ['Figure', 'Value'],
  facts.map((f) => [e(f.label), e(f.value)]),
)}
<h2 style="font-size:16px;margin:24px 0 8px">This week's decisions</h2>
${
  d.decisions.length
    ? table(
        ['Experiment', 'Decision', 'Date'],
        d.decisions.map((x) => [`<a href="${e(x.link)}">${e(x.name)}</a>`, e(x.chosenArm ? `chose ${x.chosenArm}` : 'no arm chosen'), e(day(x.decidedAt))]),
      )
    : '<p style="color:#52606d">No decisions recorded this week.</p>'
}
<h2 style="font-size:16px;margin:24px 0 8px">Running experiments</h2>
${
  d.running.length
    ? table(
        ['Experiment', 'Recommendation'],
        d.running.map((x) => [`<a href="${e(x.link)}">${e(x.name)}</a>`, e(action(x.action, x.arm))]),
      )
    : '<p style="color:#52606d">None running.</p>'
}
${
  d.budgets.length
    ? `<h2 style="font-size:16px;margin:24px 0 8px">Budgets</h2>${table(
        ['Experiment', 'Spent', 'Reserved', 'Budget', 'Used'],
        d.budgets.map((b) => [
          e(b.name),
          e(currency(b.spent, b.currency)),
          e(currency(b.reserved, b.currency)),
          e(currency(b.amount, b.currency)),
          e(share(b.share)),
        ]),
      )}`
    : ''
}
<p style="margin:24px 0 0"><a href="${e(d.link)}" style="display:inline-block;padding:10px 16px;background:#1f5fbf;color:#ffffff;text-decoration:none;border-radius:4px">Open the digest</a></p>
</div></body></html>`
  return { subject: d.title, text, html }
}
