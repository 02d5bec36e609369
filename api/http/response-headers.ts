import type { Context } from 'hono'

/**
 * Sets a header on the response a handler already returned, in place. Hono's `c.header` copies a finalized
 * response on every call (in case its headers are immutable, as a fetched response's are), and on
 * @hono/node-server each copy turns the adapter's lightweight response into a full web Response whose body is
 * then read back through a stream: the six headers the middlewares add after the handler were about a tenth of
 * the event loop's samples in a CPU profile under `/v1/decide`. The responses this server builds have mutable
 * headers; one that refuses goes through `c.header` as before.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  if (c.finalized) {
    try {
      c.res.headers.set(name, value)
      return
    } catch {
      // Immutable headers: let Hono copy the response.
    }
  }
  c.header(name, value)
}
