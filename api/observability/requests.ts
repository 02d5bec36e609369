import { randomUUID } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { log as processLog, type Logger } from './log.ts'
import { setResponseHeader } from '../http/response-headers.ts'
import type { Metrics } from './metrics.ts'

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string
    requestLog: Logger
  }
}

/**
 * A client's X-Request-Id is kept when it is a plausible id (a UUID, a trace id, a proxy's $request_id): up to 128
 * characters of letters, digits and `-_.:`. Anything else — empty, longer, spaces, quotes, control characters that
 * could forge a log line — is replaced by a generated UUID.
 */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && SANE_ID.test(header) ? header : randomUUID()
}

/** Probes and scrapes come every few seconds: their lines are debug, not info. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * The request's own logger: every line it writes carries the request's `reqId`. Made on first use, so that the
 * hot routes that log nothing pay nothing for it.
 *
 * @example
 * requestLog(c).error(errorFields(error), 'report failed')
 */
export function requestLog(c: Context): Logger {
  let child = c.get('requestLog')
  if (!child) {
    child = processLog.child({ reqId: c.get('requestId') })
    c.set('requestLog', child)
  }
  return child
}

/**
 * The access lines' logger: the process's without redaction. A line holds only the fields below, none of them a
 * secret, and redaction's walk over every logged object was two thirds of a line's cost (12.3 → 4.0 µs measured),
 * ~3% of the server's CPU under `/v1/decide`. Made again when the process's level changes (bin/server.ts sets it).
 */
let accessLogger: Logger | null = null
function accessLog(): Logger {
  if (!accessLogger || accessLogger.level !== processLog.level) accessLogger = processLog.child({}, { redact: [], level: processLog.level })
  return accessLogger
}

/**
 * First middleware of the app: gives each request an id (X-Request-Id honoured or generated, echoed in the
 * response), counts and times it under its route pattern for /metrics, and — with `accessLog` — writes one
 * JSON line per request (`reqId`, method, route, path, status, ms). The query string is left out of the line:
 * it is the client's text, and the route and path say what was asked.
 */
export function observeRequests(deps: { metrics: Metrics; accessLog: boolean }): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now()
    const id = requestIdFrom(c.req.header('x-request-id'))
    c.set('requestId', id)
    try {
      await next()
    } finally {
      const seconds = (performance.now() - started) / 1000
      const status = c.res.status
      const route = routePattern(c)
      setResponseHeader(c, 'X-Request-Id', id)
      deps.metrics.request(c.req.method, route, status, seconds)
      if (deps.accessLog) {
        const line = { reqId: id, method: c.req.method, route, path: c.req.path, status, ms: Math.round(seconds * 10_000) / 10 }
        if (QUIET_PATHS.has(c.req.path)) accessLog().debug(line, 'request')
        else accessLog().info(line, 'request')
      }
    }
  }
}

/**
 * The pattern of the handler that answered (`/v1/experiments/:id`), so that a series per customer or experiment
 * id never appears. A request answered by a middleware (admission, a body limit) or by no route at all gets that
 * middleware's pattern (`*`, `/v1/*`), a fixed set.
 */
function routePattern(c: Context): string {
  const routes = matchedRoutes(c)
  return routes[c.req.routeIndex]?.path ?? routes.at(-1)?.path ?? 'unmatched'
}
