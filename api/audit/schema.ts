import { z } from '@hono/zod-openapi'

/** One entry of GET /v1/audit, newest first. */
export const AuditLogEntry = z.object({
  id: z.number(),
  actor: z.string(),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  at: z.string(),
})
export type AuditLogEntry = z.infer<typeof AuditLogEntry>
