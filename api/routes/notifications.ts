import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { instantParam } from '../http/params.ts'
import { bearer, json, jsonBody, newRouter, standardErrors } from '../http/openapi.ts'
import { ApiError } from '../http/errors.ts'
import { recordAudit } from '../audit/log.ts'
import {
  AlertRecord,
  AlertRule,
  AlertRuleInput,
  CreatedDestination,
  Delivery,
  Destination,
  DestinationInput,
  DigestSchedule,
  DigestScheduleInput,
} from '../notifications/schema.ts'
import { createDestination, deleteDestination, FieldProblems, listDestinations, getDestination, unknownDestinations } from '../notifications/destinations.ts'
import { createRule, deleteRule, listAlerts, listRules } from '../notifications/rules.ts'
import { listDeliveries } from '../notifications/deliveries.ts'
import type { Notifications } from '../notifications/service.ts'

const DAY = 86_400_000
const IdParam = z.object({ id: z.string().min(1).max(64) })
const DigestJson = z.record(z.string(), z.unknown()).openapi('Digest')

/** Problems found past the schema (a private host, missing SMTP settings, unknown ids) as one 400 naming every field. */
async function fieldChecked<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (!(error instanceof FieldProblems)) throw error
    const [first] = error.fields
    throw new ApiError(400, 'invalid_input', `${first.field}: ${first.message}`, first.field ?? undefined, undefined, error.fields)
  }
}

/** Destinations, alert rules, the delivery log and the executive digest (issue 21). Admins configure; viewers read the digest. */
export function notificationRoutes(deps: { db: Kysely<Database>; keys: KeyResolver; notifications: Notifications }) {
  const { db, keys, notifications } = deps
  const clock = () => new Date(notifications.now())
  const app = newRouter()
  const admin = requirePermission(keys, 'admin')
  const read = requirePermission(keys, 'read')
  const tags = ['Notifications']

  app.openapi(
    createRoute({
      method: 'get',
      path: '/destinations',
      tags,
      summary: 'List destinations (never their secrets)',
      security: bearer,
      middleware: [admin] as const,
      responses: { 200: json(z.object({ destinations: z.array(Destination) })), ...standardErrors },
    }),
    async (c) => c.json({ destinations: await listDestinations(db) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/destinations',
      tags,
      summary: "Add a webhook, Slack or email destination; a webhook's signing secret is shown in this answer only",
      security: bearer,
      middleware: [admin] as const,
      request: { body: jsonBody(DestinationInput) },
      responses: { 201: json(CreatedDestination, 'Created'), ...standardErrors },
    }),
    async (c) => {
      const input = c.req.valid('json')
      return c.json(await fieldChecked(() => createDestination(db, notifications.box, input, notifications.opts, c.get('identity').name, clock())), 201)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/destinations/{id}',
      tags,
      summary: 'Get a destination',
      security: bearer,
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: { 200: json(Destination), ...standardErrors },
    }),
    async (c) => c.json(await getDestination(db, c.req.valid('param').id), 200),
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/destinations/{id}',
      tags,
      summary: 'Delete a destination (notifications still queued for it are dead-lettered)',
      security: bearer,
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...standardErrors },
    }),
    async (c) => {
      await deleteDestination(db, c.req.valid('param').id, c.get('identity').name, clock())
      return c.body(null, 204)
    },
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/destinations/{id}/test',
      tags,
      summary: 'Send a test message now; the answer is the attempt (delivered, status code, error), also in the delivery log',
      security: bearer,
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: {
        200: json(z.object({ deliveryId: z.number(), delivered: z.boolean(), statusCode: z.number().nullable(), error: z.string().nullable() })),
        ...standardErrors,
      },
    }),
    async (c) => c.json(await notifications.sendTest(c.req.valid('param').id, c.get('identity').name), 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/alert-rules',
      tags,
      summary: 'List alert rules',
      security: bearer,
      middleware: [admin] as const,
      responses: { 200: json(z.object({ rules: z.array(AlertRule) })), ...standardErrors },
    }),
    async (c) => c.json({ rules: await listRules(db) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/alert-rules',
      tags,
      summary: 'Add an alert rule: fires once each time its state changes (docs/notifications.md)',
      security: bearer,
      middleware: [admin] as const,
      request: { body: jsonBody(AlertRuleInput) },
      responses: { 201: json(AlertRule, 'Created'), ...standardErrors },
    }),
    async (c) => {
      const input = c.req.valid('json')
      return c.json(await fieldChecked(() => createRule(db, input, c.get('identity').name, clock())), 201)
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/alert-rules/{id}',
      tags,
      summary: 'Delete an alert rule and its stored states',
      security: bearer,
      middleware: [admin] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...standardErrors },
    }),
    async (c) => {
      await deleteRule(db, c.req.valid('param').id, c.get('identity').name, clock())
      return c.body(null, 204)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/alerts',
      tags,
      summary: 'Alerts fired, newest first',
      security: bearer,
      middleware: [read] as const,
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
      responses: { 200: json(z.object({ alerts: z.array(AlertRecord) })), ...standardErrors },
    }),
    async (c) => c.json({ alerts: await listAlerts(db, c.req.valid('query').limit) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/deliveries',
      tags,
      summary: 'The delivery log: each notification with its status, attempts and response codes, newest first',
      security: bearer,
      middleware: [admin] as const,
      request: {
        query: z.object({ status: z.enum(['pending', 'delivered', 'dead']).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
      },
      responses: { 200: json(z.object({ deliveries: z.array(Delivery) })), ...standardErrors },
    }),
    async (c) => c.json({ deliveries: await listDeliveries(db, c.req.valid('query')) }, 200),
  )

  const period = (q: { from?: number; to?: number; days?: number }) => {
    if (q.days !== undefined && q.from !== undefined) throw new ApiError(400, 'invalid_input', 'give either `from` or `days`, not both', 'days')
    const to = q.to ?? Math.floor(notifications.now() / 60_000) * 60_000
    const from = q.from ?? to - (q.days ?? 90) * DAY
    if (from >= to) throw new ApiError(400, 'invalid_input', '`from` must be before `to`', 'from')
    return { from, to }
  }
  const PeriodQuery = z.object({
    from: instantParam.describe('first exposures from (default: `days` before `to`)'),
    to: instantParam.describe('until (default: now)'),
    days: z.coerce.number().int().min(1).max(730).optional().describe('the last N days (default 90)'),
  })
  app.openapi(
    createRoute({
      method: 'get',
      path: '/digest',
      tags,
      summary: "The executive digest for a period: GET /v1/kpis's numbers, the week's decisions, running experiments, budgets",
      security: bearer,
      middleware: [read] as const,
      request: { query: PeriodQuery },
      responses: { 200: json(DigestJson), ...standardErrors },
    }),
    async (c) => c.json((await notifications.digest(period(c.req.valid('query')))) as unknown as Record<string, unknown>, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/digest/send',
      tags,
      summary: 'Send the digest for a period to destinations now',
      security: bearer,
      middleware: [admin] as const,
      request: { query: PeriodQuery, body: jsonBody(z.object({ destinationIds: z.array(z.string().min(1).max(64)).min(1).max(10) }).strict()) },
      responses: { 200: json(z.object({ queued: z.number(), digest: DigestJson })), ...standardErrors },
    }),
    async (c) => {
      const { destinationIds } = c.req.valid('json')
      const p = period(c.req.valid('query'))
      await fieldChecked(() => checkDestinations(db, destinationIds))
      const { digest, queued } = await notifications.sendDigest(p, destinationIds)
      return c.json({ queued, digest: digest as unknown as Record<string, unknown> }, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/digest/schedule',
      tags,
      summary: 'The weekly digest schedule',
      security: bearer,
      middleware: [admin] as const,
      responses: { 200: json(DigestSchedule), ...standardErrors },
    }),
    async (c) => c.json(await readSchedule(db), 200),
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/digest/schedule',
      tags,
      summary: 'Set the weekly digest schedule (the first digest goes out at the next slot)',
      security: bearer,
      middleware: [admin] as const,
      request: { body: jsonBody(DigestScheduleInput) },
      responses: { 200: json(DigestSchedule), ...standardErrors },
    }),
    async (c) => {
      const s = c.req.valid('json')
      await fieldChecked(() => checkDestinations(db, s.destinationIds))
      if (s.enabled && !s.destinationIds.length)
        throw new ApiError(400, 'invalid_input', 'destinationIds: an enabled digest needs at least one destination', 'destinationIds')
      const at = clock()
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('digest_schedule')
          .set({
            enabled: s.enabled,
            day_of_week: s.dayOfWeek,
            hour_utc: s.hourUtc,
            period_days: s.periodDays,
            destination_ids: JSON.stringify([...new Set(s.destinationIds)]),
            // The slot already past is not sent late: the first digest is the next one.
            last_sent_for: notifications.latestSlot(s.dayOfWeek, s.hourUtc),
            updated_at: at,
          })
          .where('id', '=', 'weekly')
          .execute()
        await recordAudit(trx, { actor: c.get('identity').name, action: 'digest.schedule', entityType: 'digest_schedule', entityId: 'weekly', after: s }, at)
      })
      return c.json(await readSchedule(db), 200)
    },
  )
  return app
}

async function checkDestinations(db: Kysely<Database>, ids: string[]): Promise<void> {
  const unknown = await unknownDestinations(db, ids)
  if (unknown.length) throw new FieldProblems(unknown.map((id) => ({ field: `destinationIds.${ids.indexOf(id)}`, message: `no destination '${id}'` })))
}

async function readSchedule(db: Kysely<Database>): Promise<z.infer<typeof DigestSchedule>> {
  const s = await db.selectFrom('digest_schedule').selectAll().where('id', '=', 'weekly').executeTakeFirstOrThrow()
  return {
    enabled: s.enabled,
    dayOfWeek: s.day_of_week,
    hourUtc: s.hour_utc,
    periodDays: s.period_days,
    destinationIds: s.destination_ids,
    lastSentFor: s.last_sent_for ? new Date(s.last_sent_for).toISOString() : null,
    updatedAt: new Date(s.updated_at).toISOString(),
  }
}
