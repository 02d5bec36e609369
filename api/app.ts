import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { HTTPException } from 'hono/http-exception'
import { bodyLimit } from 'hono/body-limit'
import { serveStatic } from '@hono/node-server/serve-static'
import type { Kysely } from 'kysely'
import type { Database } from './stores/schema.ts'
import type { ClickHouse } from './stores/clickhouse.ts'
import { ApiError, domainErrorToApi, errorBody } from './http/errors.ts'
import { DomainError } from './domain-errors.ts'
import { StoreError, clickhouseFailureToApi, storeErrorToApi } from './http/store-errors.ts'
import { newRouter } from './http/openapi.ts'
import { docsPage } from './http/docs-page.ts'
import { closeAfterEarlyReject } from './http/early-close.ts'
import { admissionControl, type AdmissionLimits } from './http/admission.ts'
import { securityHeaders } from './http/security-headers.ts'
import { keyResolver, type AuthLimits } from './auth/middleware.ts'
import { ExperimentCache, type CachedExperiment } from './experiments/cache.ts'
import { exposureWriter } from './exposures/writer.ts'
import { healthRoutes } from './routes/health.ts'
import { experimentRoutes } from './routes/experiments.ts'
import { assignRoutes } from './routes/assign.ts'
import { adminRoutes } from './routes/admin.ts'
import { eventRoutes } from './routes/events.ts'
import { countIngested } from './ingest/ingest-counts.ts'
import { reportRoutes } from './routes/reports.ts'
import { programRoutes } from './routes/program.ts'
import { metricPreviewRoutes } from './routes/metric-preview.ts'
import { metricRoutes } from './routes/metrics.ts'
import { segmentRoutes } from './routes/segments.ts'
import { customerRoutes } from './routes/customers.ts'
import { decisioningRoutes } from './routes/decisioning.ts'
import { Decider } from './decisioning/decider.ts'
import { ServerAttributes } from './segments/server-attributes.ts'
import type { FeatureRefreshOptions } from './segments/feature-refresh.ts'
import { coalescedRefresh, listenForConfigChanges } from './stores/config-changes.ts'
import { ReportCache } from './reports/cache.ts'
import { EventWriter, type EventWriterOptions } from './ingest/event-writer.ts'
import { Notifications } from './notifications/service.ts'
import type { NotificationOptions } from './notifications/options.ts'
import { notificationRoutes } from './routes/notifications.ts'
import { createMetrics, type Metrics } from './observability/metrics.ts'
import { observeRequests, requestLog } from './observability/requests.ts'
import { setResponseHeader } from './http/response-headers.ts'
import { prometheusRoutes } from './routes/prometheus.ts'
import { DEFAULT_MAX_PROPERTY_COLUMNS } from './stores/property-columns.ts'

export interface AppDeps {
  db: Kysely<Database>
  ch: ClickHouse
  /** Injectable clock (ms since epoch) for tests. */
  now?: () => number
  /** Directory of the built UI; defaults to ui/dist. */
  uiDir?: string
  /** Event buffer limits (tests force backpressure with a small one). */
  events?: EventWriterOptions
  /** Load shedding and auth throttles (bin/server.ts passes the configured ones; without them, none). */
  admission?: AdmissionLimits
  auth?: AuthLimits
  /** Destinations' secret key, SMTP, retries, private addresses (bin/server.ts passes the configured ones). */
  notifications?: NotificationOptions
  /** Prometheus metrics (bin/server.ts passes one with process metrics); without it the app makes its own. */
  metrics?: Metrics
  /** The bearer key of GET /metrics; without it the endpoint is off. */
  metricsScrapeKey?: string | null
  /** One JSON log line per request (the server's; in-process tests leave it off). */
  accessLog?: boolean
  /** Preloading and polling of targeting's features (bin/server.ts passes the configured ones; without them, off). */
  featureRefresh?: Partial<FeatureRefreshOptions>
  /** At most this many property keys get an events column of their own (0: none); DEFAULT_MAX_PROPERTY_COLUMNS without. */
  maxPropertyColumns?: number
}

const MB = 1024 * 1024
/**
 * Per-route body limits. The hot routes (assign, decide, events) enforce theirs while reading the raw body
 * (http/body.ts) — Hono's bodyLimit would build the web Request they avoid — so they are listed with null.
 */
const bodyLimits: Array<[RegExp, number | null]> = [
  [/^\/v1\/(assign|decide|events)(\/|$)/, null],
  [/^\/v1\//, 1 * MB],
]

/**
 * Builds the whole HTTP application over the given stores. Tests call `app.request()` on it without a
 * socket; server.ts wraps it in a Node server. Call `close()` to flush pending writes before the stores close.
 */
export async function createApp(deps: AppDeps) {
  const { db, ch } = deps
  const keys = keyResolver(db, { limits: deps.auth })
  const cache = new ExperimentCache(db)
  await cache.refresh()
  const exposures = exposureWriter(ch)
  const events = new EventWriter(ch, deps.events)
  // Features and segments for targeting that names them, cached in-process (api/segments/server-attributes.ts).
  const serverAttributes = new ServerAttributes(db, ch, deps.now, { refresh: { intervalMs: 0, ...deps.featureRefresh } })
  // Targeting's features are preloaded before traffic needs them, not at the first decision: at start when a draft or
  // running experiment's targeting names features or segments, else as soon as one does (created, edited, started).
  const needsFeatures = (e: CachedExperiment) => {
    const needs = serverAttributes.needsOf(e.compiled.targeting)
    return (e.experiment.status === 'running' || e.experiment.status === 'draft') && (needs.features || needs.segments)
  }
  const preloadWhenNeeded = (all: CachedExperiment[]) => {
    if (all.some(needsFeatures)) serverAttributes.refresher.start()
  }
  preloadWhenNeeded(cache.all())
  cache.onLoad = preloadWhenNeeded
  const decider = new Decider(db, ch, cache, exposures, deps.now, serverAttributes)
  await decider.init()
  // Another process's change to experiments, policies, triggers or settings reaches this one at once (the poll is the fallback).
  const configChanges = await listenForConfigChanges(
    db,
    coalescedRefresh(() => Promise.all([cache.refresh(), decider.refresh()]).then(() => undefined)),
  )
  const metrics = deps.metrics ?? createMetrics({ processMetrics: false })
  metrics.watchWriter('exposures', exposures)
  metrics.watchWriter('events', events.batcher)
  metrics.watchWriter('suppressions', decider.suppressions)
  decider.onDecision = (decision) => metrics.decision(decision.reason)
  // Spend and open reservations as Postgres holds them when scraped: every process reports the same totals.
  metrics.watchBudgets(async () => {
    await decider.budgets.refreshTotals()
    return cache.all().flatMap(({ experiment: e }) =>
      e.budget
        ? [
            {
              experiment: e.id,
              currency: e.budget.currency,
              amount: e.budget.amount,
              spent: decider.budgets.spent(e.id),
              reserved: decider.budgets.reserved(e.id),
            },
          ]
        : [],
    )
  })

  const app = newRouter()
  app.onError((error, c) => {
    const err = error instanceof StoreError ? storeErrorToApi(error) : error instanceof DomainError ? domainErrorToApi(error) : error
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v)
      return c.json(errorBody(err.code, err.message, err.field, err.fields), err.status)
    }
    if (err instanceof HTTPException && err.status === 400) return c.json(errorBody('invalid_json', 'the request body is not valid JSON'), 400)
    if (err instanceof HTTPException && err.status === 415)
      return c.json(errorBody('unsupported_media_type', 'send the body as JSON with Content-Type: application/json'), 415)
    if (err instanceof HTTPException) return c.json(errorBody('http_error', err.message), err.status)
    const chFailure = clickhouseFailureToApi(err)
    if (chFailure) {
      requestLog(c).error({ err: { type: err.name, message: err.message.slice(0, 2000) } }, 'ClickHouse failed the request')
      return c.json(errorBody(chFailure.code, chFailure.message), chFailure.status, chFailure.headers)
    }
    requestLog(c).error({ err: { type: err.name, message: err.message, stack: err.stack } }, 'internal error')
    return c.json(errorBody('internal', 'internal error; the request may be retried'), 500)
  })
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404))

  app.use('*', observeRequests({ metrics, accessLog: deps.accessLog ?? false }))
  app.use('*', securityHeaders())
  app.use('*', closeAfterEarlyReject())
  if (deps.admission) app.use('*', admissionControl(deps.admission))

  // The first matching limit applies (the generic /v1 one must not also cap the batch routes).
  const limiters = bodyLimits.map(([pattern, maxSize]) => ({
    pattern,
    limit:
      maxSize === null
        ? null
        : bodyLimit({
            maxSize,
            onError: () => {
              throw new ApiError(413, 'payload_too_large', `the request body exceeds ${maxSize / MB} MB`)
            },
          }),
  }))
  // One middleware for every /v1 request (it runs on the hot paths): the body limit, then no-store.
  app.use('/v1/*', async (c, next) => {
    // A NUL (%00) or an encoded lone surrogate (%ED%A0-%ED%BF) in a path or query would reach Postgres.
    if (/%00|%ed%[ab]/i.test(c.req.url)) throw new ApiError(400, 'invalid_input', 'the URL contains a NUL character or a lone surrogate; remove it')
    const limit = limiters.find((l) => l.pattern.test(c.req.path))!.limit
    await (limit ? limit(c, next) : next())
    setResponseHeader(c, 'Cache-Control', 'no-store')
  })

  app.route('/', healthRoutes({ db, ch }))
  app.route('/', prometheusRoutes({ metrics, scrapeKey: deps.metricsScrapeKey ?? null }))
  const reports = new ReportCache(ch)
  const notifications = new Notifications({ db, ch, reports, now: deps.now }, deps.notifications)
  app.route('/v1/experiments', experimentRoutes({ db, keys, cache, now: deps.now }))
  app.route('/v1/experiments', reportRoutes({ db, ch, keys, cache: reports, now: deps.now }))
  app.route('/v1/assign', assignRoutes({ keys, cache, exposures, serverAttributes, now: deps.now }))
  app.route(
    '/v1/events',
    eventRoutes({
      keys,
      events,
      onStored: (rows) => decider.onEvents(rows),
      onIngested: (outcome) => metrics.ingested(outcome),
      countIngested: (counts) => countIngested(db, counts, new Date((deps.now ?? Date.now)())),
    }),
  )
  app.route('/v1', decisioningRoutes({ db, keys, decider, now: deps.now }))
  app.route('/v1', programRoutes({ db, ch, keys, cache: reports, now: deps.now }))
  app.route('/v1/metrics', metricPreviewRoutes({ db, ch, keys, now: deps.now }))
  app.route('/v1/metrics', metricRoutes({ db, ch, keys, now: deps.now, maxPropertyColumns: deps.maxPropertyColumns ?? DEFAULT_MAX_PROPERTY_COLUMNS }))
  app.route('/v1/segments', segmentRoutes({ db, keys, now: deps.now, onChange: () => serverAttributes.segmentsChanged() }))
  app.route('/v1/customers', customerRoutes({ db, ch, keys, now: deps.now }))
  app.route('/v1', notificationRoutes({ db, keys, notifications }))
  app.route('/v1', adminRoutes({ db, keys, cache }))

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', { type: 'http', scheme: 'bearer', description: 'An API key created with POST /v1/keys' })
  const info = { title: 'Retention Lab', version: '0.1.0', description: 'Experiments, assignment, events and lift reports for retention offers' }
  app.doc31('/v1/openapi.json', { openapi: '3.1.0', info })
  app.get('/docs', (c) => c.html(docsPage(app.getOpenAPI31Document({ openapi: '3.1.0', info }) as Parameters<typeof docsPage>[0])))

  const uiDir = deps.uiDir ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../ui/dist')
  if (fs.existsSync(path.join(uiDir, 'index.html'))) {
    const root = path.relative(process.cwd(), uiDir) || '.'
    app.use('/assets/*', serveStatic({ root }))
    app.get('*', serveStatic({ root }))
    // Client-side routes (/experiments/x …) all load the single page.
    const index = fs.readFileSync(path.join(uiDir, 'index.html'), 'utf8')
    app.get('*', (c) => (c.req.path.startsWith('/v1/') ? c.notFound() : c.html(index)))
  } else {
    app.get('/', (c) => c.html('<p>The dashboard is not built yet: run <code>npm run build</code>. The API is at <a href="/docs">/docs</a>.</p>'))
  }

  return {
    app,
    cache,
    exposures,
    events,
    decider,
    serverAttributes,
    keys,
    notifications,
    metrics,
    async close() {
      cache.stop()
      await Promise.all([exposures.close(), events.close(), decider.close(), notifications.close(), configChanges?.close(), serverAttributes.close()])
    },
  }
}
export type RetentionApp = Awaited<ReturnType<typeof createApp>>
