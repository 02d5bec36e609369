import type { MiddlewareHandler } from 'hono'
import { setResponseHeader } from './response-headers.ts'

const policy = (styleSrc: string) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    `style-src ${styleSrc}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')

/**
 * The Content-Security-Policy for everything the server answers. The dashboard is one module script and one
 * stylesheet from /assets plus an inline SVG favicon (data:), sets styles only through the CSSOM (which CSP
 * does not restrict), and talks only to this origin.
 */
export const contentSecurityPolicy = policy("'self'")
/** /docs has no script at all and one inline stylesheet (http/docs-page.ts), which it may apply. */
export const docsContentSecurityPolicy = policy("'self' 'unsafe-inline'")

const headers: Array<[string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  // frame-ancestors for current browsers, X-Frame-Options for the ones before CSP level 2.
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
]

/** Sets the security headers on every response (dashboard, /docs, the API and its errors). */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next()
    setResponseHeader(c, 'Content-Security-Policy', c.req.path === '/docs' ? docsContentSecurityPolicy : contentSecurityPolicy)
    for (const [name, value] of headers) setResponseHeader(c, name, value)
  }
}
