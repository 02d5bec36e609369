import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { z } from '@hono/zod-openapi'
import type { Database } from '../stores/schema.ts'
import { recordAudit } from '../audit/log.ts'
import { DomainError, notFound } from '../domain-errors.ts'
import type { FieldError } from '../http/errors.ts'
import type { CreatedDestination, Destination, DestinationInput } from './schema.ts'
import { newSigningSecret, type SecretBox } from './secrets.ts'
import { privateHostProblem } from './address-policy.ts'
import type { ResolvedNotificationOptions, SmtpSettings } from './options.ts'

type Input = z.infer<typeof DestinationInput>
export type DestinationView = z.infer<typeof Destination>

/** What a transport needs to send: the view plus the decrypted secrets. */
export type DestinationTarget =
  | { id: string; kind: 'webhook'; name: string; url: string; signingSecret: string }
  | { id: string; kind: 'slack'; name: string; url: string }
  | { id: string; kind: 'email'; name: string; to: string[]; smtp: Required<Pick<SmtpSettings, 'host' | 'port' | 'from'>> & SmtpSettings }

/** A destination whose fields are fine one by one but cannot be used: every problem at once, by field. */
export class FieldProblems extends Error {
  constructor(readonly fields: FieldError[]) {
    super(fields.map((f) => `${f.field}: ${f.message}`).join('; '))
  }
}

/** "https://hooks.slack.com/services/T0…/…x9" — enough to recognise a Slack URL, not enough to post to it. */
export const maskUrl = (url: string) => {
  const u = new URL(url)
  const tail = u.pathname.slice(-2)
  return `${u.protocol}//${u.host}${u.pathname.slice(0, Math.min(u.pathname.length - 2, 12))}…${tail}`
}

/** The SMTP settings an email destination sends with: its own over the environment's; missing ones are field problems. */
export function smtpFor(input: SmtpSettings | undefined, env: SmtpSettings): { smtp: SmtpSettings; problems: FieldError[] } {
  const smtp = { ...env, ...Object.fromEntries(Object.entries(input ?? {}).filter(([, v]) => v !== undefined)) } as SmtpSettings
  const problems: FieldError[] = []
  if (!smtp.host) problems.push({ field: 'smtp.host', message: 'is required: set SMTP_HOST on the server or give smtp.host here' })
  if (!smtp.from) problems.push({ field: 'smtp.from', message: 'is required: set SMTP_FROM on the server or give smtp.from here' })
  return { smtp: { port: smtp.secure ? 465 : 587, ...smtp }, problems }
}

/**
 * Checks a destination past its schema, then stores it with its secrets sealed; a webhook's signing secret is
 * generated here and returned in this answer only.
 * @example const created = await createDestination(db, box, { kind: 'webhook', name: 'Ops', url: 'https://ops.example.com/hook' }, opts, 'admin')
 */
export async function createDestination(
  db: Kysely<Database>,
  box: SecretBox,
  input: Input,
  opts: ResolvedNotificationOptions,
  actor: string,
  now = new Date(),
): Promise<z.infer<typeof CreatedDestination>> {
  const problems: FieldError[] = []
  let target: Record<string, unknown>
  let secrets: Record<string, unknown>
  let signingSecret: string | undefined
  if (input.kind === 'email') {
    const { smtp, problems: missing } = smtpFor(input.smtp, opts.smtp)
    problems.push(...missing)
    target = { to: input.to, smtp: { host: smtp.host ?? '', port: smtp.port ?? 587, from: smtp.from ?? '' } }
    secrets = { smtp: input.smtp ?? {} }
  } else {
    const problem = await privateHostProblem(new URL(input.url), opts.allowPrivateAddresses)
    if (problem) problems.push({ field: 'url', message: problem })
    if (input.kind === 'slack') {
      target = { url: maskUrl(input.url) }
      secrets = { url: input.url }
    } else {
      signingSecret = newSigningSecret()
      target = { url: input.url }
      secrets = { signingSecret }
    }
  }
  if (problems.length) throw new FieldProblems(problems)

  const id = `dst_${randomBytes(8).toString('hex')}`
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('notification_destinations')
      .values({ id, name: input.name, kind: input.kind, target: JSON.stringify(target), secret: box.seal(secrets), created_at: now, created_by: actor })
      .execute()
    await recordAudit(
      trx,
      { actor, action: 'destination.create', entityType: 'destination', entityId: id, after: { name: input.name, kind: input.kind, target } },
      now,
    )
  })
  const view = await getDestination(db, id)
  return signingSecret ? { ...view, signingSecret } : view
}

type Row = { id: string; name: string; kind: string; target: Record<string, unknown>; created_at: Date; created_by: string }
const toView = (r: Row): DestinationView => ({
  id: r.id,
  name: r.name,
  kind: r.kind as DestinationView['kind'],
  target: r.target as DestinationView['target'],
  createdAt: new Date(r.created_at).toISOString(),
  createdBy: r.created_by,
})
const viewColumns = ['id', 'name', 'kind', 'target', 'created_at', 'created_by'] as const

export async function listDestinations(db: Kysely<Database>): Promise<DestinationView[]> {
  const rows = await db.selectFrom('notification_destinations').select(viewColumns).orderBy('created_at').orderBy('id').execute()
  return rows.map(toView)
}

export async function getDestination(db: Kysely<Database>, id: string): Promise<DestinationView> {
  const row = await db.selectFrom('notification_destinations').select(viewColumns).where('id', '=', id).executeTakeFirst()
  if (!row) throw notFound('destination', id)
  return toView(row)
}

/** Deletes a destination; notifications still queued for it are dead-lettered by the worker (it no longer exists). */
export async function deleteDestination(db: Kysely<Database>, id: string, actor: string, now = new Date()): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx.deleteFrom('notification_destinations').where('id', '=', id).returning(['name', 'kind']).executeTakeFirst()
    if (!row) throw notFound('destination', id)
    await recordAudit(trx, { actor, action: 'destination.delete', entityType: 'destination', entityId: id, before: row }, now)
  })
}

/** The destination with its secrets opened, for a transport; null when it was deleted. */
export async function destinationTarget(db: Kysely<Database>, box: SecretBox, id: string, env: SmtpSettings): Promise<DestinationTarget | null> {
  const row = await db.selectFrom('notification_destinations').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) return null
  const secrets = box.open<{ signingSecret?: string; url?: string; smtp?: SmtpSettings }>(row.secret)
  const target = row.target as { url?: string; to?: string[] }
  if (row.kind === 'webhook') return { id, kind: 'webhook', name: row.name, url: target.url!, signingSecret: secrets.signingSecret! }
  if (row.kind === 'slack') return { id, kind: 'slack', name: row.name, url: secrets.url! }
  const { smtp, problems } = smtpFor(secrets.smtp, env)
  if (problems.length)
    throw new DomainError('invalid', 'smtp_missing', problems.map((p) => `${p.field} ${p.message}`).join('; '), problems[0].field ?? undefined)
  return { id, kind: 'email', name: row.name, to: target.to ?? [], smtp: smtp as Required<Pick<SmtpSettings, 'host' | 'port' | 'from'>> & SmtpSettings }
}

/** Unknown destination ids among `ids`, for a rule or schedule to refuse by field. */
export async function unknownDestinations(db: Kysely<Database>, ids: string[]): Promise<string[]> {
  if (!ids.length) return []
  const found = new Set((await db.selectFrom('notification_destinations').select('id').where('id', 'in', ids).execute()).map((r) => r.id))
  return ids.filter((id) => !found.has(id))
}
