import { z } from '@hono/zod-openapi'

/** An optional query-string instant: ISO-8601 or epoch milliseconds, parsed to epoch ms. */
export const instantParam = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return undefined
    const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s)
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date/time or epoch milliseconds' })
      return z.NEVER
    }
    return ms
  })
