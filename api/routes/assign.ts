import { createRoute, z } from '@hono/zod-openapi'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, json, jsonBody, newRouter, standardErrors } from '../http/openapi.ts'
import { notFound } from '../http/errors.ts'
import { CustomerId } from '../http/ids.ts'
import { readJson } from '../http/body.ts'

const MB = 1024 * 1024
import { assignCompiled, type Assignment } from '../assignment/index.ts'
import type { ExperimentCache, CachedExperiment } from '../experiments/cache.ts'
import { flattenAttributes, type ExposureRow, type ExposureWriter } from '../exposures/writer.ts'
import type { ServerAttributes } from '../segments/server-attributes.ts'
import type { ServerNeeds } from '../segments/targeting-refs.ts'

export const Attributes = z
  .record(z.string().max(128), z.unknown())
  .refine((a) => Object.keys(a).length <= 100, 'at most 100 attributes')
  .refine((a) => JSON.stringify(a).length <= 16_384, 'attributes must serialise to at most 16 KB')
  .optional()
  .openapi('Attributes', { description: 'customer attributes for targeting, captured with the exposure for segment breakdowns' })

const AssignRequest = z.object({ experimentId: z.string().min(1).max(64), customerId: CustomerId, attributes: Attributes }).openapi('AssignRequest')

const AssignResult = z
  .object({
    experimentId: z.string(),
    customerId: z.string(),
    arm: z.string().nullable().describe("arm key, 'holdout' for the experiment holdout, null when excluded"),
    offer: z.unknown().nullable(),
    inExperiment: z.boolean(),
    holdout: z.boolean().describe('true for the experiment holdout and the global holdout'),
    reason: z.enum(['not_running', 'not_eligible', 'global_holdout', 'namespace', 'coverage']).nullable(),
  })
  .openapi('Assignment')

const BatchRequest = z
  .object({
    experimentId: z.string().min(1).max(64),
    customers: z
      .array(z.object({ customerId: CustomerId, attributes: Attributes }))
      .min(1)
      .max(10_000, 'at most 10,000 customers per batch'),
  })
  .openapi('AssignBatchRequest')

const BatchResult = z
  .object({ experimentId: z.string(), assignments: z.array(AssignResult), counts: z.record(z.string(), z.number()) })
  .openapi('AssignBatchResult')

function present(a: Assignment) {
  return {
    experimentId: a.experimentId,
    customerId: a.customerId,
    arm: a.arm,
    offer: a.offer ?? null,
    inExperiment: a.inExperiment,
    holdout: a.arm === 'holdout' || a.reason === 'global_holdout',
    reason: a.reason,
  }
}

export function assignRoutes(deps: {
  keys: KeyResolver
  cache: ExperimentCache
  exposures: ExposureWriter
  /** Looks up `features` and `segments` for experiments targeting them; without it they read as missing. */
  serverAttributes?: ServerAttributes
  now?: () => number
}) {
  const { keys, cache, exposures, serverAttributes } = deps
  const now = deps.now ?? Date.now
  const app = newRouter()
  const ingest = requirePermission(keys, 'ingest')
  const tags = ['Assignment']

  async function experiment(id: string): Promise<CachedExperiment> {
    let entry = cache.get(id)
    if (!entry) {
      // Created by another API process since our last poll?
      await cache.refresh()
      entry = cache.get(id)
    }
    if (!entry) throw notFound('experiment', id)
    return entry
  }

  /** What the experiment's targeting needs looked up server-side; null for nothing (most experiments). */
  const lookups = (entry: CachedExperiment): ServerNeeds | null => {
    if (!serverAttributes || !entry.compiled.running) return null
    const needs = serverAttributes.needsOf(entry.compiled.targeting)
    return needs.features || needs.segments ? needs : null
  }

  const exposureRow = (a: Assignment, attributes: Record<string, unknown> | undefined, ts: number, source: string): ExposureRow => ({
    experiment_id: a.experimentId,
    customer_id: a.customerId,
    arm: a.exposure!.arm,
    ts,
    attributes: flattenAttributes(attributes),
    source,
  })

  // The hot routes read their bodies with readJson (no web Request per call); the OpenAPI entries are
  // registered from the same zod schemas.
  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Assign one customer (answered after the exposure is durable)',
      security: bearer,
      request: { body: jsonBody(AssignRequest) },
      responses: { 200: json(AssignResult), ...standardErrors, 503: json(z.unknown(), 'Write buffer full or store unavailable: retry after Retry-After') },
    }),
  )
  app.post('/', ingest, async (c) => {
    const { experimentId, customerId, attributes } = await readJson(c, AssignRequest, MB)
    const entry = await experiment(experimentId)
    const needs = lookups(entry)
    // The exposure keeps the attributes as sent: reports compute features as of exposure themselves.
    const targeted = needs ? await serverAttributes!.withServerAttributes(customerId, attributes ?? {}, needs) : (attributes ?? {})
    const a = assignCompiled(entry.compiled, customerId, targeted, cache.globalHoldout)
    if (a.exposure) await exposures.add([exposureRow(a, attributes, now(), 'assign')])
    return c.json(present(a), 200)
  })

  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'post',
      path: '/batch',
      tags,
      summary: 'Assign up to 10,000 customers of one experiment',
      security: bearer,
      request: { body: jsonBody(BatchRequest) },
      responses: { 200: json(BatchResult), ...standardErrors },
    }),
  )
  app.post('/batch', ingest, async (c) => {
    const { experimentId, customers } = await readJson(c, BatchRequest, 8 * MB)
    const entry = await experiment(experimentId)
    const needs = lookups(entry)
    const targeted = needs
      ? await Promise.all(customers.map((cust) => serverAttributes!.withServerAttributes(cust.customerId, cust.attributes ?? {}, needs)))
      : customers.map((cust) => cust.attributes ?? {})
    const ts = now()
    const holdout = cache.globalHoldout
    const rows: ExposureRow[] = []
    const counts: Record<string, number> = {}
    const assignments = customers.map((cust, i) => {
      const a = assignCompiled(entry.compiled, cust.customerId, targeted[i], holdout)
      if (a.exposure) rows.push(exposureRow(a, cust.attributes, ts, 'batch'))
      const bucket = a.arm ?? a.reason ?? 'excluded'
      counts[bucket] = (counts[bucket] ?? 0) + 1
      return present(a)
    })
    await exposures.add(rows)
    return c.json({ experimentId, assignments, counts }, 200)
  })
  return app
}
