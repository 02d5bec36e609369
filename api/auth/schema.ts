import { z } from '@hono/zod-openapi'

export const Role = z.enum(['admin', 'editor', 'ingest', 'viewer'])
export type Role = z.infer<typeof Role>

/** An API key as listed: never the key itself, which only the answer that creates it carries. */
export const ApiKey = z
  .object({ id: z.string(), name: z.string(), role: Role, prefix: z.string(), createdAt: z.string(), revokedAt: z.string().nullable() })
  .openapi('ApiKey')
export type ApiKey = z.infer<typeof ApiKey>
export const CreatedApiKey = ApiKey.extend({ key: z.string() })
export type CreatedApiKey = z.infer<typeof CreatedApiKey>
