import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, json, newRouter, standardErrors } from '../http/openapi.ts'
import { CustomerId } from '../http/ids.ts'
import { FEATURES, FEATURE_NAMES, type FeatureName } from '../segments/features.ts'
import { RFM_GROUPS, rfmScore, type RfmGroup } from '../segments/rfm.ts'
import { customerFeatures, RfmCutsCache } from '../segments/profile.ts'
import { segmentsOf } from '../segments/membership.ts'
import { activeSegments } from '../segments/store.ts'
import type { CustomerProfile as CustomerProfileWire } from '../contract/segments.ts'

/** The features object on the wire, one property per catalogue entry, typed from FEATURES. */
const Features = z
  .object(
    Object.fromEntries(
      FEATURE_NAMES.map((name) => {
        const f = FEATURES[name]
        const schema = f.kind === 'category' ? z.enum(f.values as [string, ...string[]]) : f.nullable ? z.number().nullable() : z.number()
        return [name, schema.describe(f.description)]
      }),
    ) as unknown as Record<FeatureName, z.ZodTypeAny>,
  )
  .openapi('CustomerFeatures')

const CustomerProfile = z
  .object({
    customerId: z.string(),
    asOf: z.string().describe('the instant the features are computed as of, from events strictly before it'),
    features: Features,
    rfm: z
      .object({ r: z.number().int(), f: z.number().int(), m: z.number().int(), group: z.string() })
      .nullable()
      .describe('RFM quintile scores (5 best) among customers who purchased; null for a customer who never did'),
    rfmGroup: z.enum(RFM_GROUPS).describe("the RFM group, or 'no_purchases'"),
    segments: z.array(z.object({ key: z.string(), name: z.string(), version: z.number().int() })).describe('live segments whose rule the customer matches'),
  })
  .openapi('CustomerProfile')

/**
 * A customer's profile (issue 20): features as of now from customer_timeline, RFM scores against cut points shared
 * by all callers (recomputed at most every ten minutes), and the live segments the customer belongs to.
 */
export function customerRoutes(deps: { db: Kysely<Database>; ch: ClickHouse; keys: KeyResolver; now?: () => number }) {
  const { db, ch, keys } = deps
  const now = deps.now ?? Date.now
  const cuts = new RfmCutsCache(ch, now)
  const app = newRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/profile',
      tags: ['Segments'],
      summary: "A customer's features, RFM scores and segments as of now",
      security: bearer,
      middleware: [requirePermission(keys, 'read')] as const,
      request: { params: z.object({ id: CustomerId.openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 200: json(CustomerProfile), ...standardErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const asOf = now()
      const [features, rfmCuts, segments] = await Promise.all([customerFeatures(ch, id, asOf), cuts.get(), activeSegments(db)])
      const rfm = rfmScore(features, rfmCuts)
      const rfmGroup: RfmGroup = rfm?.group ?? 'no_purchases'
      const body = {
        customerId: id,
        asOf: new Date(asOf).toISOString(),
        features,
        rfm,
        rfmGroup,
        segments: segmentsOf({ ...features, rfm_group: rfmGroup }, segments),
      } satisfies CustomerProfileWire
      return c.json(body, 200)
    },
  )
  return app
}
