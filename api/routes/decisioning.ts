import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, json, jsonBody, newRouter, standardErrors } from '../http/openapi.ts'
import { DecideRequest, Decision, Policy, PolicyCreate, PolicyUpdate, Trigger, TriggerRecord, TriggerUpdate } from '../decisioning/schema.ts'
import { createPolicy, createTrigger, deletePolicy, getTrigger, listPolicies, listTriggers, updatePolicy, updateTrigger } from '../decisioning/store.ts'
import type { Decider } from '../decisioning/decider.ts'
import { readJson } from '../http/body.ts'

const KeyParam = z.object({ key: z.string().min(1).max(64) })
const IdParam = z.object({ id: z.string().min(1).max(64) })

/** Triggers, pacing policies (editor, audited) and POST /v1/decide (ingest). */
export function decisioningRoutes(deps: { db: Kysely<Database>; keys: KeyResolver; decider: Decider; now?: () => number }) {
  const { db, keys, decider } = deps
  const now = deps.now ?? Date.now
  const app = newRouter()
  const read = requirePermission(keys, 'read')
  const edit = requirePermission(keys, 'edit')
  const ingest = requirePermission(keys, 'ingest')
  const actor = (c: { get(k: 'identity'): { name: string } }) => c.get('identity').name
  const tags = ['Decisioning']

  app.openapi(
    createRoute({
      method: 'get',
      path: '/triggers',
      tags,
      summary: 'List triggers',
      security: bearer,
      middleware: [read] as const,
      responses: { 200: json(z.object({ triggers: z.array(TriggerRecord) })), ...standardErrors },
    }),
    async (c) => c.json({ triggers: await listTriggers(db) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/triggers',
      tags,
      summary: 'Create a trigger with ordered intent tiers',
      security: bearer,
      middleware: [edit] as const,
      request: { body: jsonBody(Trigger) },
      responses: { 201: json(TriggerRecord, 'Created'), ...standardErrors },
    }),
    async (c) => {
      const created = await createTrigger(db, c.req.valid('json'), actor(c), new Date(now()))
      await decider.refresh()
      return c.json(created, 201)
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/triggers/{key}',
      tags,
      summary: 'Get a trigger',
      security: bearer,
      middleware: [read] as const,
      request: { params: KeyParam },
      responses: { 200: json(TriggerRecord), ...standardErrors },
    }),
    async (c) => c.json(await getTrigger(db, c.req.valid('param').key), 200),
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/triggers/{key}',
      tags,
      summary: 'Update a trigger (tiers in use cannot be removed)',
      security: bearer,
      middleware: [edit] as const,
      request: { params: KeyParam, body: jsonBody(TriggerUpdate) },
      responses: { 200: json(TriggerRecord), ...standardErrors },
    }),
    async (c) => {
      const updated = await updateTrigger(db, c.req.valid('param').key, c.req.valid('json'), actor(c), new Date(now()))
      await decider.refresh()
      return c.json(updated, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/policies',
      tags,
      summary: 'List pacing and fatigue policies',
      security: bearer,
      middleware: [read] as const,
      responses: { 200: json(z.object({ policies: z.array(Policy) })), ...standardErrors },
    }),
    async (c) => c.json({ policies: await listPolicies(db) }, 200),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/policies',
      tags,
      summary: 'Create a policy',
      security: bearer,
      middleware: [edit] as const,
      request: { body: jsonBody(PolicyCreate) },
      responses: { 201: json(Policy, 'Created'), ...standardErrors },
    }),
    async (c) => {
      const created = await createPolicy(db, c.req.valid('json'), actor(c), new Date(now()))
      await decider.refresh()
      return c.json(created, 201)
    },
  )
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/policies/{id}',
      tags,
      summary: 'Update a policy',
      security: bearer,
      middleware: [edit] as const,
      request: { params: IdParam, body: jsonBody(PolicyUpdate) },
      responses: { 200: json(Policy), ...standardErrors },
    }),
    async (c) => {
      const updated = await updatePolicy(db, c.req.valid('param').id, c.req.valid('json'), actor(c), new Date(now()))
      await decider.refresh()
      return c.json(updated, 200)
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/policies/{id}',
      tags,
      summary: 'Delete a policy',
      security: bearer,
      middleware: [edit] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...standardErrors },
    }),
    async (c) => {
      await deletePolicy(db, c.req.valid('param').id, actor(c), new Date(now()))
      await decider.refresh()
      return c.body(null, 204)
    },
  )

  // Hot route: the body is read without a web Request per call (http/body.ts); documented from the same schema.
  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'post',
      path: '/decide',
      tags,
      summary: 'Which offer, if any, this customer gets now (durable before the answer)',
      security: bearer,
      request: { body: jsonBody(DecideRequest) },
      responses: { 200: json(Decision), ...standardErrors },
    }),
  )
  app.post('/decide', ingest, async (c) => c.json(await decider.decide(await readJson(c, DecideRequest, 1024 * 1024), now()), 200))
  return app
}
