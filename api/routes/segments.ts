import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, json, jsonBody, newRouter, standardErrors } from '../http/openapi.ts'
import { SegmentDefinitionInput, SegmentVersion as Segment } from '../segments/schema.ts'
import { archiveSegment, createSegment, getSegment, listSegments, listSegmentVersions, newSegmentVersion } from '../segments/store.ts'

const KeyParam = z.object({
  key: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'key', in: 'path' } }),
})

/** Segment definitions (issue 20, item 2): viewers read them, editors define, version and archive them. */
export function segmentRoutes(deps: {
  db: Kysely<Database>
  keys: KeyResolver
  now?: () => number
  /** Told after a segment is created, versioned or archived (targeting re-reads the live segments). */
  onChange?: () => void
}) {
  const { db, keys } = deps
  const changed = <T>(result: T): T => {
    deps.onChange?.()
    return result
  }
  const clock = () => new Date((deps.now ?? Date.now)())
  const app = newRouter()
  const tags = ['Segments']
  const read = requirePermission(keys, 'read')
  const edit = requirePermission(keys, 'edit')

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List segments: the latest version of each, by key',
      security: bearer,
      middleware: [read] as const,
      request: {
        query: z.object({
          search: z.string().max(200).optional().describe('text in the key, name, description, owner or a tag (any case)'),
          archived: z.enum(['include']).optional().describe("'include': also list archived segments"),
        }),
      },
      responses: { 200: json(z.object({ segments: z.array(Segment) })), ...standardErrors },
    }),
    async (c) => {
      const q = c.req.valid('query')
      return c.json({ segments: await listSegments(db, { search: q.search, includeArchived: q.archived === 'include' }) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Define a segment (version 1)',
      security: bearer,
      middleware: [edit] as const,
      request: { body: jsonBody(SegmentDefinitionInput) },
      responses: { 201: json(Segment, 'Created'), ...standardErrors },
    }),
    async (c) => c.json(changed(await createSegment(db, c.req.valid('json'), c.get('identity').name, clock())), 201),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{key}',
      tags,
      summary: 'Get a segment: its latest version, or the one asked for',
      security: bearer,
      middleware: [read] as const,
      request: { params: KeyParam, query: z.object({ version: z.coerce.number().int().min(1).max(2_147_483_647).optional() }) },
      responses: { 200: json(Segment), ...standardErrors },
    }),
    async (c) => c.json(await getSegment(db, c.req.valid('param').key, c.req.valid('query').version), 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{key}/versions',
      tags,
      summary: 'Every version of a segment, newest first',
      security: bearer,
      middleware: [read] as const,
      request: { params: KeyParam },
      responses: { 200: json(z.object({ key: z.string(), versions: z.array(Segment) })), ...standardErrors },
    }),
    async (c) => {
      const { key } = c.req.valid('param')
      return c.json({ key, versions: await listSegmentVersions(db, key) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{key}/versions',
      tags,
      summary: 'Save a new version of a segment (the body is the whole definition, with the same key)',
      security: bearer,
      middleware: [edit] as const,
      request: { params: KeyParam, body: jsonBody(SegmentDefinitionInput) },
      responses: { 201: json(Segment, 'Created'), ...standardErrors },
    }),
    async (c) => c.json(changed(await newSegmentVersion(db, c.req.valid('param').key, c.req.valid('json'), c.get('identity').name, clock())), 201),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{key}/archive',
      tags,
      summary: 'Archive a segment: it leaves the list, matches nobody and takes no new versions; its versions stay readable',
      security: bearer,
      middleware: [edit] as const,
      request: { params: KeyParam },
      responses: { 200: json(Segment), ...standardErrors },
    }),
    async (c) => c.json(changed(await archiveSegment(db, c.req.valid('param').key, c.get('identity').name, clock())), 200),
  )

  return app
}
