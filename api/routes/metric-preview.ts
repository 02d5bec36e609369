import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { parseInstant } from '../http/params.ts'
import { bearer, json, jsonBody, newRouter, standardErrors } from '../http/openapi.ts'
import { ApiError } from '../http/errors.ts'
import { getExperiment } from '../experiments/store.ts'
import { MetricDefinitionInput } from '../metrics/schema.ts'
import type { CompilableMetric, MeanMetric, QuantileMetric } from '../metrics/compile.ts'
import { metricPreview } from '../metrics/arm-values.ts'
import { includeParam } from './reports.ts'

/** A JSON instant: ISO-8601 text or integer epoch ms, read like the reports' `asOf` (http/params.ts). */
const BodyInstant = z
  .union([z.string(), z.number().int()])
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined
    const parsed = parseInstant(String(v))
    if ('problem' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.problem })
      return z.NEVER
    }
    return parsed.ms
  })

/**
 * A draft metric to preview on an experiment. A ratio names its numerator and denominator by key; the preview
 * takes their definitions inline (`numerator`, `denominator`), so a draft can be tried before either is saved.
 */
const PreviewRequest = z
  .object({
    experimentId: z.string().min(1).max(64),
    definition: MetricDefinitionInput,
    numerator: MetricDefinitionInput.optional().describe("a ratio's numerator: the mean metric its `numerator` key names"),
    denominator: MetricDefinitionInput.optional().describe("a ratio's denominator: the mean metric its `denominator` key names"),
    asOf: BodyInstant.describe('as of this time (ISO-8601 or epoch ms; default now)'),
    include: includeParam,
  })
  .superRefine((body, ctx) => {
    const d = body.definition
    if (d.kind !== 'ratio') return
    for (const part of ['numerator', 'denominator'] as const) {
      const given = body[part]
      if (!given)
        ctx.addIssue({ code: 'custom', path: [part], message: `a ratio's preview needs the definition of its ${part} (the mean metric '${d[part]}')` })
      else if (given.kind !== 'mean')
        ctx.addIssue({ code: 'custom', path: [part, 'kind'], message: `a ratio's ${part} must be a mean metric, not a ${given.kind}` })
      else if (given.key !== d[part]) ctx.addIssue({ code: 'custom', path: [part, 'key'], message: `must be '${d[part]}', the key the ratio's ${part} names` })
    }
  })
  .openapi('MetricPreviewRequest')

/** The draft as the compiler takes it: a ratio with its parts resolved. */
function compilable(body: z.infer<typeof PreviewRequest>): CompilableMetric | QuantileMetric {
  const d = body.definition
  if (d.kind === 'ratio') return { ...d, parts: { numerator: body.numerator as MeanMetric, denominator: body.denominator as MeanMetric } }
  return d
}

/** POST /v1/metrics/preview: the per-arm values and comparisons of a draft definition, before it is saved. */
export function metricPreviewRoutes(deps: { db: Kysely<Database>; ch: ClickHouse; keys: KeyResolver; now?: () => number }) {
  const { db, ch, keys } = deps
  const now = deps.now ?? Date.now
  const app = newRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/preview',
      tags: ['Metrics'],
      summary: "A draft metric's per-arm values and comparisons with control on an experiment",
      security: bearer,
      middleware: [requirePermission(keys, 'read')] as const,
      request: { body: jsonBody(PreviewRequest) },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('MetricPreview')), ...standardErrors, 422: json(z.unknown(), 'Not supported yet') },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const def = compilable(body)
      const exp = await getExperiment(db, body.experimentId)
      if (exp.status === 'draft') throw new ApiError(409, 'not_started', `experiment '${exp.id}' is a draft: start it to collect data for a preview`)
      const preview = await metricPreview(ch, exp, def, { asOf: body.asOf, include: body.include }, now())
      // The OpenAPI document declares the answer loosely; its type is the contract's MetricPreview.
      return c.json(preview as unknown as Record<string, unknown>, 200)
    },
  )
  return app
}
