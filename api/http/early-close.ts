import type { IncomingMessage } from 'node:http'
import type { MiddlewareHandler } from 'hono'
import { setResponseHeader } from './response-headers.ts'

/**
 * Answers `Connection: close` when the response goes out before the request body was read (a 413 on
 * Content-Length, a 401, a 404 …). The Node adapter then drains the unread body for at most 500 ms / 64 MB and
 * drops the socket; had the answer promised keep-alive, the client's next request on that socket would be reset.
 * With close, Node ends the connection after the answer and the client opens a new one.
 */
export function closeAfterEarlyReject(): MiddlewareHandler {
  return async (c, next) => {
    await next()
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
    if (incoming && !incoming.complete && !incoming.readableEnded) setResponseHeader(c, 'Connection', 'close')
  }
}
