import type { IncomingMessage } from 'node:http'
import type { MiddlewareHandler } from 'hono'
import type { Config } from '../config.ts'
import { ApiError } from './errors.ts'

export type AdmissionLimits = Config['admission']

/**
 * Probes are never shed: a busy but healthy process that failed its liveness probe would be restarted, and
 * one that failed readiness would be taken out of rotation just when the others need it most.
 */
const NEVER_SHED = new Set(['/healthz', '/readyz'])
const RETRY_AFTER_SECONDS = 1

/** The body bytes one admitted request holds against the shared budget. */
export interface BodyAllowance {
  /** Counts `n` more bytes as they arrive; false when the budget cannot take them (answer 503). */
  take(n: number): boolean
}

const allowances = new WeakMap<IncomingMessage, BodyAllowance>()

/** The allowance of the request being read, for readers of the raw body (http/body.ts). */
export const bodyAllowance = (incoming: IncomingMessage) => allowances.get(incoming)

export const overloaded = (what: string) =>
  new ApiError(503, 'overloaded', `the server is at its limit of ${what}; retry after ${RETRY_AFTER_SECONDS} s`, undefined, {
    'Retry-After': String(RETRY_AFTER_SECONDS),
    // The client's next attempt opens a new connection: under overload a socket kept for it is a cost, and
    // the unread body would otherwise be drained or reset (http/early-close.ts).
    Connection: 'close',
  })

/**
 * Sheds load before a body is read: a request is answered 503 + Retry-After when `maxConcurrentRequests` are
 * in flight, or when its declared Content-Length would take the body bytes in flight past
 * `maxBodyBytesInFlight`. A body without Content-Length (chunked) is counted as it arrives by the raw-body
 * reader and refused the same way once it outgrows the budget. Memory under load then follows the budget rather
 * than the number of clients: the bodies are what a request holds longest (a 4.7 MB JSON body is parsed into
 * many times its size). A request is always admitted when no other holds bytes, so a budget below a route's
 * body limit cannot lock out a body that route accepts.
 */
export function admissionControl(limits: AdmissionLimits): MiddlewareHandler {
  let requests = 0
  let bytes = 0
  return async (c, next) => {
    if (NEVER_SHED.has(c.req.path)) return next()
    if (requests >= limits.maxConcurrentRequests) throw overloaded(`${limits.maxConcurrentRequests} concurrent requests`)
    const declared = Number(c.req.header('content-length') ?? 0) || 0
    if (declared > 0 && bytes > 0 && bytes + declared > limits.maxBodyBytesInFlight) throw overloaded(`${limits.maxBodyBytesInFlight} body bytes in flight`)
    let held = declared
    let arrived = 0
    requests++
    bytes += held
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
    if (incoming) {
      allowances.set(incoming, {
        take(n) {
          arrived += n
          if (arrived <= held) return true
          const more = arrived - held
          if (bytes > held && bytes + more > limits.maxBodyBytesInFlight) return false
          held += more
          bytes += more
          return true
        },
      })
    }
    try {
      await next()
    } finally {
      requests--
      bytes -= held
      if (incoming) allowances.delete(incoming)
    }
  }
}
