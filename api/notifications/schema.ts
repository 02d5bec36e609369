import { z } from '@hono/zod-openapi'

/**
 * The notification API's input and output schemas (zod → OpenAPI); the wire types are inferred from these in
 * api/contract/notifications.ts.
 */

const httpUrl = (what: string) =>
  z
    .string()
    .max(2000)
    .refine((s) => {
      try {
        const u = new URL(s)
        return (u.protocol === 'https:' || u.protocol === 'http:') && !!u.hostname && !u.username && !u.password
      } catch {
        return false
      }
    }, `must be an http(s) URL such as ${what}, without a user name or password`)

const name = z.string().trim().min(1).max(100)

export const SmtpSettingsInput = z
  .object({
    host: z.string().trim().min(1).max(253).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    secure: z.boolean().optional().describe('TLS from the first byte (port 465); otherwise STARTTLS when offered'),
    user: z.string().max(200).optional(),
    password: z.string().max(500).optional().describe('stored encrypted, never shown again'),
    from: z.email('must be an email address such as alerts@example.com').max(254).optional(),
  })
  .strict()
  .describe('overrides the SMTP_* environment variables for this destination')

export const DestinationInput = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('webhook'), name, url: httpUrl('https://example.com/hooks/retention') }).strict(),
    z
      .object({
        kind: z.literal('slack'),
        name,
        url: httpUrl('https://hooks.slack.com/services/T000/B000/XXXX').describe('the incoming webhook URL: a secret, stored encrypted'),
      })
      .strict(),
    z
      .object({
        kind: z.literal('email'),
        name,
        to: z.array(z.email('must be an email address such as cfo@example.com').max(254)).min(1).max(20),
        smtp: SmtpSettingsInput.optional(),
      })
      .strict(),
  ])
  .openapi('DestinationInput')

export const Destination = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['webhook', 'slack', 'email']),
    target: z.object({
      url: z.string().optional().describe('webhook: the URL; slack: masked'),
      to: z.array(z.string()).optional(),
      smtp: z.object({ host: z.string(), port: z.number(), from: z.string() }).optional(),
    }),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi('Destination')

export const CreatedDestination = Destination.extend({
  signingSecret: z.string().optional().describe('webhook only: shown in this answer only; verify X-Retention-Signature with it'),
}).openapi('CreatedDestination')

export const RuleKind = z.enum(['srm', 'guardrail_harmed', 'recommendation_changed', 'budget', 'past_planned_end', 'no_exposures', 'ingestion_rejections'])

export const AlertRuleInput = z
  .object({
    kind: RuleKind,
    experimentId: z
      .string()
      .min(1)
      .max(64)
      .nullable()
      .optional()
      .describe('one experiment; omitted or null: every running experiment (ingestion_rejections watches all events: omit it)'),
    destinationIds: z.array(z.string().min(1).max(64)).min(1).max(10),
    hours: z
      .number()
      .int()
      .min(1)
      .max(24 * 30)
      .optional()
      .describe('no_exposures: hours without an exposure (default 24)'),
    thresholdPct: z
      .number()
      .gt(0)
      .max(100)
      .optional()
      .describe('ingestion_rejections: fires when more than this % of the rows received in the last hour were rejected (default 5)'),
    minRows: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .optional()
      .describe('ingestion_rejections: rows the last hour must have received before the share is judged (default 100)'),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi('AlertRuleInput')

export const AlertRule = z
  .object({
    id: z.string(),
    kind: RuleKind,
    experimentId: z.string().nullable(),
    destinationIds: z.array(z.string()),
    hours: z.number().nullable(),
    thresholdPct: z.number().nullable(),
    minRows: z.number().nullable(),
    enabled: z.boolean(),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi('AlertRule')

export const AlertRecord = z
  .object({
    id: z.number(),
    ruleId: z.string(),
    kind: z.string(),
    subject: z.string(),
    state: z.string(),
    previousState: z.string().nullable(),
    title: z.string(),
    text: z.string(),
    link: z.string(),
    firedAt: z.string(),
  })
  .openapi('Alert')

export const DeliveryAttempt = z.object({
  attempt: z.number(),
  at: z.string(),
  outcome: z.enum(['delivered', 'retry', 'dead']),
  statusCode: z.number().nullable(),
  error: z.string().nullable(),
  durationMs: z.number(),
})

export const Delivery = z
  .object({
    id: z.number(),
    idempotencyKey: z.string(),
    destinationId: z.string(),
    destinationName: z.string().nullable(),
    source: z.enum(['alert', 'digest', 'test']),
    title: z.string(),
    status: z.enum(['pending', 'delivered', 'dead']),
    attempts: z.number(),
    nextAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    log: z.array(DeliveryAttempt),
  })
  .openapi('Delivery')

export const DigestScheduleInput = z
  .object({
    enabled: z.boolean(),
    dayOfWeek: z.number().int().min(0).max(6).describe('0 = Sunday … 6 = Saturday (UTC)'),
    hourUtc: z.number().int().min(0).max(23),
    periodDays: z.number().int().min(7).max(730).describe('the KPI period the digest reports (as GET /v1/kpis?days=)'),
    destinationIds: z.array(z.string().min(1).max(64)).max(10),
  })
  .strict()
  .openapi('DigestScheduleInput')

export const DigestSchedule = DigestScheduleInput.extend({ lastSentFor: z.string().nullable(), updatedAt: z.string() }).openapi('DigestSchedule')
