import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, json, jsonBody, newRouter, standardErrors } from '../http/openapi.ts'
import { validateCondition } from '../assignment/index.ts'
import { ApiError } from '../http/errors.ts'
import { Experiment, ExperimentCreate, ExperimentStatus, ExperimentUpdate, Note, NoteCreate } from '../experiments/schema.ts'
import { addNote, createExperiment, getExperiment, listExperiments, listNotes, transitionExperiment, updateExperiment } from '../experiments/store.ts'
import type { ExperimentCache } from '../experiments/cache.ts'
import type { Transition } from '../experiments/lifecycle.ts'
import { listSegments } from '../segments/store.ts'
import { serverNeeds, targetingProblem } from '../segments/targeting-refs.ts'

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
})

/** A 400 naming the path inside `targeting`, the form the experiment form maps onto its inputs. */
const targetingError = (problem: { path: string; message: string }) => {
  const field = `targeting${problem.path ? '.' + problem.path : ''}`
  return new ApiError(400, 'invalid_input', `${field}: ${problem.message}`, field)
}

/**
 * The targeting's operators, then the features and segments it names (read only when it names a segment): a
 * condition on `features.nope` or an archived segment would otherwise save and quietly match nobody.
 */
async function checkTargeting(db: Kysely<Database>, targeting: Record<string, unknown> | null | undefined) {
  if (!targeting) return
  const problem = validateCondition(targeting)
  if (problem) throw targetingError(problem)
  const needs = serverNeeds(targeting)
  if (!needs.features && !needs.segments) return
  const segments = needs.segments ? await listSegments(db, { includeArchived: true }) : []
  const server = targetingProblem(targeting, new Map(segments.map((s) => [s.key, { archived: s.archived }])))
  if (server) throw targetingError(server)
}

export function experimentRoutes(deps: { db: Kysely<Database>; keys: KeyResolver; cache: ExperimentCache; now?: () => number }) {
  const { db, keys, cache } = deps
  const clock = () => new Date((deps.now ?? Date.now)())
  const app = newRouter()
  const tags = ['Experiments']
  const read = requirePermission(keys, 'read')
  const edit = requirePermission(keys, 'edit')

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List experiments',
      security: bearer,
      middleware: [read] as const,
      request: { query: z.object({ status: ExperimentStatus.optional() }) },
      responses: { 200: json(z.object({ experiments: z.array(Experiment) })), ...standardErrors },
    }),
    async (c) => c.json({ experiments: await listExperiments(db, c.req.valid('query')) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create a draft experiment',
      security: bearer,
      middleware: [edit] as const,
      request: { body: jsonBody(ExperimentCreate) },
      responses: { 201: json(Experiment, 'Created'), ...standardErrors },
    }),
    async (c) => {
      const input = c.req.valid('json')
      await checkTargeting(db, input.targeting)
      const created = await createExperiment(db, input, c.get('identity').name, clock())
      await cache.refresh()
      return c.json(created, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get an experiment',
      security: bearer,
      middleware: [read] as const,
      request: { params: IdParam },
      responses: { 200: json(Experiment), ...standardErrors },
    }),
    async (c) => c.json(await getExperiment(db, c.req.valid('param').id), 200),
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags,
      summary: 'Update an experiment (design fields only while draft; coverage may grow)',
      security: bearer,
      middleware: [edit] as const,
      request: { params: IdParam, body: jsonBody(ExperimentUpdate) },
      responses: { 200: json(Experiment), ...standardErrors },
    }),
    async (c) => {
      const update = c.req.valid('json')
      await checkTargeting(db, update.targeting)
      const updated = await updateExperiment(db, c.req.valid('param').id, update, c.get('identity').name, clock())
      await cache.refresh()
      return c.json(updated, 200)
    },
  )

  for (const transition of ['start', 'pause', 'resume', 'stop'] as Transition[]) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/{id}/${transition}`,
        tags,
        summary: `${transition[0].toUpperCase()}${transition.slice(1)} an experiment`,
        security: bearer,
        middleware: [edit] as const,
        request: { params: IdParam },
        responses: { 200: json(Experiment), ...standardErrors },
      }),
      async (c) => {
        const updated = await transitionExperiment(db, c.req.valid('param').id, transition, c.get('identity').name, clock())
        await cache.refresh()
        return c.json(updated, 200)
      },
    )
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/notes',
      tags,
      summary: 'Hypothesis, notes and decisions, oldest first',
      security: bearer,
      middleware: [read] as const,
      request: { params: IdParam },
      responses: { 200: json(z.object({ notes: z.array(Note) })), ...standardErrors },
    }),
    async (c) => c.json({ notes: await listNotes(db, c.req.valid('param').id) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/notes',
      tags,
      summary: 'Add a note, hypothesis or decision (with the chosen arm)',
      security: bearer,
      middleware: [edit] as const,
      request: { params: IdParam, body: jsonBody(NoteCreate) },
      responses: { 201: json(Note, 'Created'), ...standardErrors },
    }),
    async (c) => {
      const note = await addNote(db, c.req.valid('param').id, c.req.valid('json'), c.get('identity').name, clock())
      await cache.refresh()
      return c.json(note, 201)
    },
  )

  return app
}
