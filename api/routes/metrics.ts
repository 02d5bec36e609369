import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, json, jsonBody, newRouter, standardErrors } from '../http/openapi.ts'
import { MetricDefinitionInput } from '../metrics/schema.ts'
import { archiveMetric, createMetric, getMetric, listMetrics, listVersions, newVersion } from '../metrics/store.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { addPropertyColumns, logPropertyColumns, propertyKeysOf } from '../stores/property-columns.ts'
import { errorFields, log } from '../observability/log.ts'

const KeyParam = z.object({
  key: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'key', in: 'path' } }),
})

const stored = {
  version: z.number().int(),
  archived: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string(),
}

const CustomMetric = z
  .intersection(MetricDefinitionInput, z.object({ ...stored, builtIn: z.literal(false) }))
  .openapi('CustomMetric', { description: 'A definition an analyst saved: one immutable version' })

const BuiltInMetric = z
  .object({
    key: z.string(),
    name: z.string(),
    description: z.string(),
    owner: z.string(),
    tags: z.array(z.string()),
    kind: z.enum(['proportion', 'mean', 'ratio', 'time_to_event']),
    format: z.enum(['percent', 'currency', 'number', 'days']),
    direction: z.enum(['higher', 'lower']),
    builtIn: z.literal(true),
    ...stored,
  })
  .openapi('BuiltInMetric', { description: 'A metric the report code computes: read-only, version 1' })

const CatalogueMetric = z.union([CustomMetric, BuiltInMetric]).openapi('CatalogueMetric')

/** The metric catalogue (issue 17): viewers read it, editors add metrics, versions and archive them. */
export function metricRoutes(deps: { db: Kysely<Database>; ch: ClickHouse; keys: KeyResolver; now?: () => number; maxPropertyColumns: number }) {
  const { db, keys } = deps
  /**
   * A saved definition's property keys get columns of their own (stores/property-columns.ts) before the answer, so
   * its first report reads them. The definition is saved either way: a key without a column is read from the map.
   */
  const withColumns = async <T extends { key: string }>(input: MetricDefinitionInput, saved: T) => {
    const keys = propertyKeysOf(input)
    if (!keys.length || deps.maxPropertyColumns === 0) return saved
    try {
      logPropertyColumns(await addPropertyColumns(deps.ch, keys, deps.maxPropertyColumns), deps.maxPropertyColumns, { metric: saved.key })
    } catch (e) {
      log.warn({ metric: saved.key, ...errorFields(e) }, 'could not add property columns; the keys are read from the map')
    }
    return saved
  }
  const clock = () => new Date((deps.now ?? Date.now)())
  const app = newRouter()
  const tags = ['Metrics']
  const read = requirePermission(keys, 'read')
  const edit = requirePermission(keys, 'edit')

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List the catalogue: the latest version of each metric, built-ins first',
      security: bearer,
      middleware: [read] as const,
      request: {
        query: z.object({
          search: z.string().max(200).optional().describe('text in the key, name, description, owner or a tag (any case)'),
          tag: z.string().max(40).optional().describe('only metrics with this tag'),
          archived: z.enum(['include']).optional().describe("'include': also list archived metrics"),
        }),
      },
      responses: { 200: json(z.object({ metrics: z.array(CatalogueMetric) })), ...standardErrors },
    }),
    async (c) => {
      const q = c.req.valid('query')
      return c.json({ metrics: await listMetrics(db, { search: q.search, tag: q.tag, includeArchived: q.archived === 'include' }) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Define a metric (version 1)',
      security: bearer,
      middleware: [edit] as const,
      request: { body: jsonBody(MetricDefinitionInput) },
      responses: { 201: json(CatalogueMetric, 'Created'), ...standardErrors },
    }),
    async (c) => {
      const input = c.req.valid('json')
      return c.json(await withColumns(input, await createMetric(db, input, c.get('identity').name, clock())), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{key}',
      tags,
      summary: 'Get a metric: its latest version, or the one asked for',
      security: bearer,
      middleware: [read] as const,
      request: { params: KeyParam, query: z.object({ version: z.coerce.number().int().min(1).max(2_147_483_647).optional() }) },
      responses: { 200: json(CatalogueMetric), ...standardErrors },
    }),
    async (c) => c.json(await getMetric(db, c.req.valid('param').key, c.req.valid('query').version), 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{key}/versions',
      tags,
      summary: 'Every version of a metric, newest first',
      security: bearer,
      middleware: [read] as const,
      request: { params: KeyParam },
      responses: { 200: json(z.object({ key: z.string(), versions: z.array(CatalogueMetric) })), ...standardErrors },
    }),
    async (c) => {
      const { key } = c.req.valid('param')
      return c.json({ key, versions: await listVersions(db, key) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{key}/versions',
      tags,
      summary: 'Save a new version of a metric (the body is the whole definition, with the same key)',
      security: bearer,
      middleware: [edit] as const,
      request: { params: KeyParam, body: jsonBody(MetricDefinitionInput) },
      responses: { 201: json(CatalogueMetric, 'Created'), ...standardErrors },
    }),
    async (c) => {
      const input = c.req.valid('json')
      return c.json(await withColumns(input, await newVersion(db, c.req.valid('param').key, input, c.get('identity').name, clock())), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{key}/archive',
      tags,
      summary: 'Archive a metric: it leaves the list and takes no new versions; its versions stay readable',
      security: bearer,
      middleware: [edit] as const,
      request: { params: KeyParam },
      responses: { 200: json(CatalogueMetric), ...standardErrors },
    }),
    async (c) => c.json(await archiveMetric(db, c.req.valid('param').key, c.get('identity').name, clock()), 200),
  )

  return app
}
