import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { instantParam } from '../http/params.ts'
import { bearer, json, newRouter, standardErrors } from '../http/openapi.ts'
import { ApiError } from '../http/errors.ts'
import { SegmentKey } from '../segments/schema.ts'
import { activeSegments, segmentNamedBy } from '../segments/store.ts'
import { listExperiments } from '../experiments/store.ts'
import { getSettings } from '../settings/store.ts'
import { programKpis } from '../reports/kpis.ts'
import { budgetStatus } from '../reports/budget-status.ts'
import { offerLibrary } from '../reports/library.ts'
import { learningLibrary, matchesSegment } from '../reports/learning-library.ts'
import { resolveCatalogueMetrics, type ReportCatalogueMetric } from '../reports/catalogue-metrics.ts'
import { MetricKey as CatalogueKey } from '../metrics/schema.ts'
import { getMetric } from '../metrics/store.ts'
import { DomainError } from '../domain-errors.ts'
import { KPI_METRICS_MAX, METRIC_REF } from '../contract/limits.ts'
import type { ReportCache } from '../reports/cache.ts'
import type { KpiReport, LibraryReport } from '../contract/index.ts'

const DAY = 86_400_000
const time = instantParam

/** "the last 90 days" when the period ends now, else its dates: "1 Sep 2026 to 30 Nov 2026". */
export function periodLabel(from: number, to: number, endsNow: boolean): string {
  const days = Math.round((to - from) / DAY)
  if (endsNow) return days === 1 ? 'the last day' : `the last ${days} days`
  const day = (t: number) => new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })
  return `${day(from)} to ${day(to - 1)}`
}

export interface KpiRequest {
  from?: number
  days?: number
  to?: number
  window: number
  include?: 'immature'
  /** A segment key: only customers who met its rule when their window started. */
  segment?: string
  /** Catalogue metrics (`key` for the latest version, `key@version` for one), treated vs global holdout. */
  metrics?: Array<{ key: string; version?: number }>
}

/** `?metrics=a,b@2`: catalogue keys, each optionally at a version. */
const kpiMetricList = z
  .string()
  .max(1000)
  .optional()
  .transform((s, ctx) => {
    if (s === undefined || s.trim() === '') return undefined
    const refs: Array<{ key: string; version?: number }> = []
    for (const part of s.split(',').map((x) => x.trim())) {
      const m = METRIC_REF.exec(part)
      if (!m || !CatalogueKey.safeParse(m[1]).success) {
        ctx.addIssue({ code: 'custom', message: `'${part.slice(0, 80)}' is not a metric key (lowercase letters, digits and underscores, optionally @version)` })
        return z.NEVER
      }
      const ref = { key: m[1], ...(m[2] ? { version: Number(m[2]) } : {}) }
      if (!refs.some((r) => r.key === ref.key && r.version === ref.version)) refs.push(ref)
    }
    if (refs.length > KPI_METRICS_MAX) {
      ctx.addIssue({ code: 'custom', message: `at most ${KPI_METRICS_MAX} metrics per request (got ${refs.length})` })
      return z.NEVER
    }
    return refs
  })

/**
 * The catalogue definitions `?metrics=` names, each at its version (the latest live one by default). Built-in
 * metrics are refused: reactivation, revenue and net value are the KPIs themselves.
 */
async function kpiMetrics(db: Kysely<Database>, refs: NonNullable<KpiRequest['metrics']>): Promise<ReportCatalogueMetric[]> {
  const invalid = (message: string) => new ApiError(400, 'invalid_input', message, 'metrics')
  const pinned: Array<{ key: string; version: number }> = []
  for (const r of refs) {
    const stored = await getMetric(db, r.key, r.version).catch((e: unknown) => {
      if (e instanceof DomainError && e.problem === 'not_found') throw invalid(e.message)
      throw e
    })
    if (stored.builtIn)
      throw invalid(`'${r.key}' is a built-in metric: the KPIs report reactivation, revenue and net value already; name catalogue metrics here`)
    if (stored.archived && r.version === undefined) throw invalid(`metric '${r.key}' is archived: name a version (e.g. ${r.key}@${stored.version}) to read it`)
    pinned.push({ key: r.key, version: stored.version })
  }
  return resolveCatalogueMetrics(db, pinned)
}

/**
 * GET /v1/kpis's answer for a query at instant `at`; the weekly digest (api/notifications/digest.ts) calls it too,
 * so its numbers are the API's for the same period.
 */
export async function programKpiReport(deps: { db: Kysely<Database>; ch: ClickHouse; cache: ReportCache }, q: KpiRequest, at: number): Promise<KpiReport> {
  const { db, ch, cache } = deps
  // "Now" is rounded to the minute so that repeated dashboard loads share a cache entry.
  const asOf = Math.floor(at / 60_000) * 60_000
  const to = q.to ?? asOf
  const from = q.from ?? to - (q.days ?? 90) * DAY
  if (from >= to) throw new ApiError(400, 'invalid_input', '`from` must be before `to`', 'from')
  const [experiments, settings, segment, metrics] = await Promise.all([
    listExperiments(db),
    getSettings(db),
    q.segment === undefined ? undefined : segmentNamedBy(db, q.segment, 'segment'),
    q.metrics?.length ? kpiMetrics(db, q.metrics) : [],
  ])
  const version =
    experiments
      .map((e) => e.updatedAt)
      .sort()
      .at(-1) ?? ''
  const key = `kpis:${from}:${to}:${q.window}:${q.include ?? ''}:${version}:${settings.globalHoldoutPct}:${asOf}:${segment ? `${segment.key}@${segment.version}` : ''}:${metrics.map((m) => `${m.ref.key}@${m.ref.version}`).join(',')}`
  const report = cache.get<KpiReport>(key, () =>
    programKpis(ch, experiments, {
      from,
      to,
      windowDays: q.window,
      asOf,
      marginRate: 0.3,
      alpha: 0.05,
      includeImmature: q.include === 'immature',
      globalHoldoutPct: settings.globalHoldoutPct,
      periodLabel: periodLabel(from, to, q.to === undefined),
      segment,
      metrics,
    }),
  )
  const [kpis, budgets] = await Promise.all([report, budgetStatus(db, experiments)])
  return { ...kpis, budgets }
}

/** Executive KPIs (treated vs global holdout) and the segment–offer library. */
export function programRoutes(deps: { db: Kysely<Database>; ch: ClickHouse; keys: KeyResolver; cache: ReportCache; now?: () => number }) {
  const { db, ch, keys, cache } = deps
  const now = deps.now ?? Date.now
  const app = newRouter()
  const read = requirePermission(keys, 'read')

  app.openapi(
    createRoute({
      method: 'get',
      path: '/kpis',
      tags: ['Program'],
      summary: 'Program KPIs: treated vs global holdout, incremental revenue, spend, ROI, weekly trend',
      security: bearer,
      middleware: [read] as const,
      request: {
        query: z.object({
          from: time.describe('first exposures from (default: 90 days ago)'),
          days: z.coerce
            .number()
            .int()
            .min(1)
            .max(730)
            .optional()
            .describe('first exposures in the last N days (instead of `from`); repeated calls within a minute share one result'),
          to: time.describe('until (default: now)'),
          window: z.coerce.number().int().min(1).max(365).default(30),
          include: z.enum(['immature']).optional().describe("'immature': also count customers still inside their window"),
          segment: SegmentKey.optional().describe('only customers in this segment (by its rule over their features) when their window started'),
          metrics: kpiMetricList.describe(
            `catalogue metrics to compare treated vs global holdout, comma-separated: \`key\` (latest version) or \`key@version\`; at most ${KPI_METRICS_MAX}`,
          ),
        }),
      },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('ProgramKpis')), ...standardErrors },
    }),
    async (c) => {
      const q = c.req.valid('query')
      if (q.days !== undefined && q.from !== undefined) throw new ApiError(400, 'invalid_input', 'give either `from` or `days`, not both', 'days')
      const kpis = await programKpiReport({ db, ch, cache }, q, now())
      return c.json(kpis as unknown as Record<string, unknown>, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/library',
      tags: ['Program'],
      summary: 'Segment–offer library: which offer won in which segment, and which segment × offer pairs are proven across experiments',
      description:
        '`rows`: per concluded experiment with a decision, the best offer per segment. `pairs`: the learning library — every segment × trigger/tier × offer tested in stopped or running experiments, pooled across experiments (random effects) on reactivation, durable re-engagement and net value, adjusted across pairs (Benjamini–Hochberg); `proven` only when the adjusted interval on reactivation lies above 0 (docs/learning-library.md).',
      security: bearer,
      middleware: [read] as const,
      request: {
        query: z.object({
          segment: z
            .string()
            .min(1)
            .max(200)
            .optional()
            .describe(
              'only this segment: `dimension=value` (e.g. `valueTier=low`), a bare value in any dimension (`low`), or `all` for all customers; adjustment is across every pair either way',
            ),
        }),
      },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('OfferLibrary')), ...standardErrors },
    }),
    async (c) => {
      const { segment } = c.req.valid('query')
      const experiments = await listExperiments(db)
      const stopped = experiments.filter((e) => e.status === 'stopped')
      const pooledFrom = experiments.filter((e) => e.status === 'stopped' || e.status === 'running')
      const version = stopped.map((e) => `${e.id}@${e.updatedAt}`).join(',')
      // A catalogue primary metric is read at the version the experiment pinned (part of its updatedAt).
      const cataloguePrimary = async (exp: (typeof experiments)[number]) => {
        const ref = exp.analysis.catalogueMetrics.find((m) => m.key === exp.analysis.primaryMetric)
        return ref ? (await resolveCatalogueMetrics(db, [ref]))[0] : undefined
      }
      const library = await cache.get(`library:${version}`, () => offerLibrary(ch, stopped, { cataloguePrimary }))
      // Running experiments are read as of now, rounded to the minute so that repeated loads share a cache entry.
      const asOf = Math.floor(now() / 60_000) * 60_000
      const learningVersion = pooledFrom.map((e) => `${e.id}@${e.updatedAt}`).join(',')
      // Saved segments are pooled too: their versions key the cache.
      const segments = await activeSegments(db)
      const segmentVersion = segments.map((s) => `${s.key}@${s.version}`).join(',')
      const pairs = await cache.get(`learning:${learningVersion}:${segmentVersion}:${asOf}`, () => learningLibrary(ch, pooledFrom, { now: asOf, segments }))
      const filter = segment ?? null
      const keep = <T extends { dimension: string; segment: string }>(xs: T[]) => (filter === null ? xs : xs.filter((x) => matchesSegment(x, filter)))
      const report: LibraryReport = { ...library, rows: keep(library.rows), pairs: keep(pairs), segmentFilter: filter, totalPairs: pairs.length }
      return c.json(report as unknown as Record<string, unknown>, 200)
    },
  )
  return app
}
