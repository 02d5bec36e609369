import type { IncomingMessage } from 'node:http'
import type { Context, MiddlewareHandler } from 'hono'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { Config } from '../config.ts'
import { ApiError } from '../http/errors.ts'
import { can, findKey, type KeyIdentity, type Permission } from './keys.ts'
import { TokenBuckets } from './token-buckets.ts'

export type AuthEnv = { Variables: { identity: KeyIdentity } }
export type AuthLimits = Config['auth']

/** Unknown keys remembered at most; past this the oldest are forgotten (and cost a lookup again). */
const MAX_UNKNOWN_KEYS = 10_000

/**
 * Resolves `Authorization: Bearer <key>` to an identity. Lookups are cached for a few seconds because
 * assignment and ingestion authenticate every request; a revoked key stops working within `ttlMs`.
 * With `limits` (the server passes them; in-process tests do not), failed authentications are throttled per
 * client address and each key's requests per second are capped (see `resolve` and `rateLimit`).
 */
export function keyResolver(db: Kysely<Database>, opts: { ttlMs?: number; limits?: AuthLimits } = {}) {
  const ttlMs = opts.ttlMs ?? 5000
  const limits = opts.limits
  const known = new Map<string, { identity: KeyIdentity; at: number }>()
  // Kept apart from the valid keys so that a flood of made-up keys cannot push out the keys in use.
  const unknown = new Map<string, number>()
  const failures = limits && limits.failuresPerMinute > 0 ? new TokenBuckets(limits.failuresPerMinute / 60, limits.failureBurst) : null
  const perKey = limits && limits.requestsPerSecondPerKey > 0 ? new TokenBuckets(limits.requestsPerSecondPerKey, limits.keyBurst) : null
  return {
    /**
     * The identity behind `key`, or null when no active key has it. Each failure spends a token of `client`'s
     * failed-authentication budget; once it is spent, keys this process has not seen succeed are refused with
     * 429 without a lookup (each made-up key would otherwise be a Postgres query), while keys it has seen are
     * still checked, so a valid key keeps working from a throttled address.
     */
    async resolve(key: string, client?: string): Promise<KeyIdentity | null> {
      const now = Date.now()
      const hit = known.get(key)
      if (hit && now - hit.at < ttlMs) return hit.identity
      if (!hit && client !== undefined && failures) {
        const wait = failures.waitSeconds(client)
        if (wait > 0)
          throw new ApiError(429, 'auth_throttled', `too many failed authentications from this address; retry after ${wait} s`, undefined, {
            'Retry-After': String(wait),
          })
      }
      const seenUnknown = unknown.get(key)
      const identity = seenUnknown !== undefined && now - seenUnknown < ttlMs ? null : await findKey(db, key)
      if (identity) {
        known.set(key, { identity, at: now })
        unknown.delete(key)
        return identity
      }
      known.delete(key)
      if (seenUnknown === undefined || now - seenUnknown >= ttlMs) {
        unknown.delete(key)
        if (unknown.size >= MAX_UNKNOWN_KEYS) unknown.delete(unknown.keys().next().value!)
        unknown.set(key, now)
      }
      if (client !== undefined) failures?.take(client)
      return null
    },
    /** Seconds the key must wait under RATE_LIMIT_PER_KEY (0: go ahead, and one request is spent). */
    rateLimit: (identity: KeyIdentity) => perKey?.take(identity.id) ?? 0,
    /** After a revocation: every key is looked up again (known keys stay exempt from the failure throttle). */
    forget() {
      for (const entry of known.values()) entry.at = 0
      unknown.clear()
    },
  }
}

export type KeyResolver = ReturnType<typeof keyResolver>

/** The peer's address; behind a proxy that is the proxy (forwarded headers are not trusted). */
const clientAddress = (c: Context) => (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress

export function requirePermission(resolver: KeyResolver, permission: Permission): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const m = /^Bearer\s+(\S+)$/i.exec(header)
    if (!m) throw new ApiError(401, 'unauthorized', 'missing API key: send Authorization: Bearer <key>')
    const identity = await resolver.resolve(m[1], clientAddress(c))
    if (!identity) throw new ApiError(401, 'unauthorized', 'unknown or revoked API key')
    const wait = resolver.rateLimit(identity)
    if (wait > 0)
      throw new ApiError(429, 'rate_limited', `API key ${identity.id} is over its rate limit (RATE_LIMIT_PER_KEY); retry after ${wait} s`, undefined, {
        'Retry-After': String(wait),
      })
    if (!can(identity.role, permission)) {
      throw new ApiError(
        403,
        'forbidden',
        `the ${identity.role} role may not ${permission === 'read' ? 'read this resource' : `do this (needs ${permission} permission)`}`,
      )
    }
    c.set('identity', identity)
    await next()
  }
}
