import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { instantParam } from '../http/params.ts'
import { bearer, json, newRouter, standardErrors } from '../http/openapi.ts'
import { ApiError } from '../http/errors.ts'
import { getExperiment } from '../experiments/store.ts'
import { MetricKey } from '../experiments/schema.ts'
import { MetricKey as CatalogueKey } from '../metrics/schema.ts'
import { experimentReport } from '../reports/experiment-report.ts'
import { resolveCatalogueMetrics } from '../reports/catalogue-metrics.ts'
import { liftTimeseries } from '../reports/timeseries.ts'
import { ReportCache } from '../reports/cache.ts'
import { decisioningSummary } from '../reports/decisioning.ts'
import { experimentAttributes } from '../reports/attributes.ts'
import { resolveBreakdown } from '../reports/feature-breakdown.ts'
import type { ExperimentReport, LiftTimeseries } from '../contract/index.ts'

const IdParam = z.object({ id: z.string().min(1).max(64) })

/** Built-in metric keys, or the keys of the experiment's catalogue metrics (checked against the experiment). */
const reportMetricList = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return undefined
    const keys = s
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
    const bad = keys.find((k) => !MetricKey.safeParse(k).success && !CatalogueKey.safeParse(k).success)
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown metric '${bad}' (known: ${MetricKey.options.join(', ')} and the experiment's catalogue metrics)` })
      return z.NEVER
    }
    return keys
  })

/** A key the experiment does not report is refused by name, as an unknown built-in is. */
function checkReportMetrics(keys: string[] | undefined, catalogue: string[]) {
  const bad = keys?.find((k) => !MetricKey.safeParse(k).success && !catalogue.includes(k))
  if (bad !== undefined)
    throw new ApiError(
      400,
      'invalid_input',
      `unknown metric '${bad}' (known: ${[...MetricKey.options, ...catalogue].join(', ')}; catalogue metrics are reported when the experiment lists them in analysis.catalogueMetrics)`,
      'metrics',
    )
}

const asOfParam = instantParam
/** By default only customers whose window has ended count; `include=immature` counts the others too. */
export const includeParam = z.enum(['immature']).optional().describe("'immature': also count customers still inside their window (their outcomes so far)")

const ReportQuery = z.object({
  window: z.coerce.number().int().min(1).max(365).optional().describe('outcome window in days (default: the experiment’s attributionDays)'),
  metrics: reportMetricList.describe("comma-separated metric keys, built-in or of the experiment's catalogue metrics (default: all)"),
  dimension: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe(
      'what to break down by: an attribute captured at assignment, feature:lapse_stage, feature:last_offer_response, feature:rfm_group (as of first exposure) or segment:<key>',
    ),
  asOf: asOfParam.describe('report as of this time (ISO-8601 or epoch ms)'),
  include: includeParam,
})

/** Lift reports: the experiment report and cumulative lift over time, cached until new data arrives. */
export function reportRoutes(deps: { db: Kysely<Database>; ch: ClickHouse; keys: KeyResolver; cache: ReportCache; now?: () => number }) {
  const { db, ch, keys, cache } = deps
  const now = deps.now ?? Date.now
  const app = newRouter()
  const read = requirePermission(keys, 'read')
  const tags = ['Reports']

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/report',
      tags,
      summary: 'Lift report: every metric per arm, comparisons, SRM, economics, breakdown',
      security: bearer,
      middleware: [read] as const,
      request: { params: IdParam, query: ReportQuery },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('ExperimentReport')), ...standardErrors },
    }),
    async (c) => {
      const exp = await getExperiment(db, c.req.valid('param').id)
      const q = c.req.valid('query')
      if (exp.status === 'draft') throw new ApiError(409, 'not_started', `experiment '${exp.id}' is a draft: start it to collect data for a report`)
      checkReportMetrics(
        q.metrics,
        exp.analysis.catalogueMetrics.map((m) => m.key),
      )
      const breakdownBy = await resolveBreakdown(db, q.dimension)
      const at = now()
      // Catalogue versions are pinned in the experiment, so its updatedAt still keys the cache; a segment's version keys it too.
      // The budget's spend and reservations change in Postgres, which the cache's ClickHouse data version does not see: read them fresh.
      const [analysis, decisioning] = await Promise.all([
        cache.get<Omit<ExperimentReport, 'decisioning'>>(
          `report:${exp.id}:${exp.updatedAt}:${JSON.stringify(q)}:${breakdownBy?.kind === 'segment' ? breakdownBy.segment.version : ''}`,
          async () => experimentReport(ch, exp, q, at, { catalogue: await resolveCatalogueMetrics(db, exp.analysis.catalogueMetrics), breakdownBy }),
        ),
        decisioningSummary(ch, db, exp, q.asOf ?? at),
      ])
      const report: ExperimentReport = { ...analysis, decisioning }
      return c.json(report as unknown as Record<string, unknown>, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/timeseries',
      tags,
      summary: 'Cumulative lift and interval per day since start',
      security: bearer,
      middleware: [read] as const,
      request: {
        params: IdParam,
        query: z.object({
          metrics: reportMetricList,
          asOf: asOfParam,
          points: z.coerce.number().int().min(2).max(120).default(30),
          window: ReportQuery.shape.window,
          include: includeParam,
        }),
      },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('LiftTimeseries')), ...standardErrors },
    }),
    async (c) => {
      const exp = await getExperiment(db, c.req.valid('param').id)
      const q = c.req.valid('query')
      if (exp.status === 'draft') throw new ApiError(409, 'not_started', `experiment '${exp.id}' is a draft: start it to collect data for a report`)
      checkReportMetrics(
        q.metrics,
        exp.analysis.catalogueMetrics.map((m) => m.key),
      )
      const series = await cache.get<LiftTimeseries>(`timeseries:${exp.id}:${exp.updatedAt}:${JSON.stringify(q)}`, async () =>
        liftTimeseries(ch, exp, q, now(), { catalogue: await resolveCatalogueMetrics(db, exp.analysis.catalogueMetrics) }),
      )
      return c.json(series as unknown as Record<string, unknown>, 200)
    },
  )
  const AttributeList = z
    .object({ attributes: z.array(z.object({ key: z.string(), customers: z.number(), values: z.number() })) })
    .openapi('ExperimentAttributes')
  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/attributes',
      tags,
      summary: 'Attributes captured at first exposure (what a breakdown can split by), with customers and distinct values',
      security: bearer,
      middleware: [read] as const,
      request: { params: IdParam },
      responses: { 200: json(AttributeList), ...standardErrors },
    }),
    async (c) => {
      const exp = await getExperiment(db, c.req.valid('param').id)
      const attributes = await cache.get(`attributes:${exp.id}`, () => experimentAttributes(ch, exp.id))
      return c.json({ attributes }, 200)
    },
  )
  return app
}
