import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, json, jsonBody, newRouter, standardErrors } from '../http/openapi.ts'
import { can, createKey, listKeys, revokeKey } from '../auth/keys.ts'
import { ApiKey, CreatedApiKey, Role } from '../auth/schema.ts'
import { getSettings, updateSettings } from '../settings/store.ts'
import { Settings, SettingsUpdate } from '../settings/schema.ts'
import { listAudit } from '../audit/log.ts'
import { AuditLogEntry } from '../audit/schema.ts'
import type { ExperimentCache } from '../experiments/cache.ts'

/** API keys, global settings and the audit log. */
export function adminRoutes(deps: { db: Kysely<Database>; keys: KeyResolver; cache: ExperimentCache }) {
  const { db, keys, cache } = deps
  const app = newRouter()
  const admin = requirePermission(keys, 'admin')
  const read = requirePermission(keys, 'read')

  app.openapi(
    createRoute({
      method: 'get',
      path: '/keys',
      tags: ['Keys'],
      summary: 'List API keys (never the keys themselves)',
      security: bearer,
      middleware: [admin] as const,
      responses: { 200: json(z.object({ keys: z.array(ApiKey) })), ...standardErrors },
    }),
    async (c) => c.json({ keys: await listKeys(db) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/keys',
      tags: ['Keys'],
      summary: 'Create an API key; the key is shown only in this answer',
      security: bearer,
      middleware: [admin] as const,
      request: { body: jsonBody(z.object({ name: z.string().min(1).max(100), role: Role })) },
      responses: { 201: json(CreatedApiKey, 'Created'), ...standardErrors },
    }),
    async (c) => c.json(await createKey(db, c.req.valid('json'), c.get('identity').name), 201),
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/keys/{id}',
      tags: ['Keys'],
      summary: 'Revoke an API key',
      security: bearer,
      middleware: [admin] as const,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 204: { description: 'Revoked' }, ...standardErrors },
    }),
    async (c) => {
      await revokeKey(db, c.req.valid('param').id, c.get('identity').name)
      keys.forget()
      return c.body(null, 204)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/settings',
      tags: ['Settings'],
      summary: 'Global settings (global holdout)',
      security: bearer,
      middleware: [read] as const,
      responses: { 200: json(Settings), ...standardErrors },
    }),
    async (c) => c.json(await getSettings(db), 200),
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/settings',
      tags: ['Settings'],
      summary: 'Change global settings (refused while experiments are active)',
      security: bearer,
      middleware: [admin] as const,
      request: { body: jsonBody(SettingsUpdate) },
      responses: { 200: json(Settings), ...standardErrors },
    }),
    async (c) => {
      const settings = await updateSettings(db, c.req.valid('json'), c.get('identity').name)
      await cache.refresh()
      return c.json(settings, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      tags: ['Audit'],
      summary: 'The audit log, newest first',
      security: bearer,
      middleware: [read] as const,
      request: {
        query: z.object({
          entityType: z.string().max(64).optional(),
          entityId: z.string().max(128).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          before: z.coerce.number().int().optional(),
        }),
      },
      responses: { 200: json(z.object({ entries: z.array(AuditLogEntry) })), ...standardErrors },
    }),
    async (c) => c.json({ entries: await listAudit(db, { ...c.req.valid('query'), withKeyPrefixes: can(c.get('identity').role, 'admin') }) }, 200),
  )
  return app
}
