import type { MiddlewareHandler } from 'hono'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { ApiError } from '../http/errors.ts'
import { can, findKey, type KeyIdentity, type Permission } from './keys.ts'

export type AuthEnv = { Variables: { identity: KeyIdentity } }

/**
 * Resolves `Authorization: Bearer <key>` to an identity. Lookups are cached for a few seconds because
 * assignment and ingestion authenticate every request; a revoked key stops working within `ttlMs`.
 */
export function keyResolver(db: Kysely<Database>, ttlMs = 5000) {
  const cache = new Map<string, { identity: KeyIdentity | null; at: number }>()
  return {
    async resolve(key: string): Promise<KeyIdentity | null> {
      const hit = cache.get(key)
      if (hit && Date.now() - hit.at < ttlMs) return hit.identity
      const identity = await findKey(db, key)
      if (cache.size > 10_000) cache.clear()
      cache.set(key, { identity, at: Date.now() })
      return identity
    },
    forget: () => cache.clear(),
  }
}

export type KeyResolver = ReturnType<typeof keyResolver>

export function requirePermission(resolver: KeyResolver, permission: Permission): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const m = /^Bearer\s+(\S+)$/i.exec(header)
    if (!m) throw new ApiError(401, 'unauthorized', 'missing API key: send Authorization: Bearer <key>')
    const identity = await resolver.resolve(m[1])
    if (!identity) throw new ApiError(401, 'unauthorized', 'unknown or revoked API key')
    if (!can(identity.role, permission)) {
      throw new ApiError(403, 'forbidden', `the ${identity.role} role may not ${permission === 'read' ? 'read this resource' : `do this (needs ${permission} permission)`}`)
    }
    c.set('identity', identity)
    await next()
  }
}
