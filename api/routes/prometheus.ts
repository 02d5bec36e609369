import { createHash, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import { errorBody } from '../http/errors.ts'
import type { Metrics } from '../observability/metrics.ts'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * Whether `given` is the scrape key. Both sides are hashed first so that the comparison takes the same time
 * whatever the length and content of the guess.
 */
export function isScrapeKey(given: string, scrapeKey: string): boolean {
  return timingSafeEqual(digest(given), digest(scrapeKey))
}

/**
 * `GET /metrics` in Prometheus' text format, for a scraper sending `Authorization: Bearer <METRICS_SCRAPE_KEY>`.
 * Without a scrape key configured the endpoint is off (404). The dashboard also has a page at /metrics (the metric
 * catalogue): a browser asking for HTML without credentials gets that page, anyone else the scrape endpoint.
 */
export function prometheusRoutes(deps: { metrics: Metrics; scrapeKey: string | null }) {
  const app = new Hono()
  app.get('/metrics', async (c, next) => {
    const authorization = c.req.header('authorization')
    if (authorization === undefined && (c.req.header('accept') ?? '').includes('text/html')) return next()
    if (!deps.scrapeKey) return c.json(errorBody('not_found', 'the metrics endpoint is off: set METRICS_SCRAPE_KEY to enable it'), 404)
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1]
    if (!token || !isScrapeKey(token, deps.scrapeKey)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"')
      return c.json(errorBody('unauthorized', 'send the scrape key as Authorization: Bearer <METRICS_SCRAPE_KEY>'), 401)
    }
    c.header('Cache-Control', 'no-store')
    return c.body(await deps.metrics.registry.metrics(), 200, { 'Content-Type': deps.metrics.registry.contentType })
  })
  return app
}
