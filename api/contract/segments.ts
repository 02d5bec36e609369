/**
 * Segments on the wire: what /v1/segments answers and what its form sends, and the customer profile
 * (`GET /v1/customers/:id/profile`) that shows a customer's features, RFM scores and segments. The feature types
 * are written out here (the contract imports no server module but schemas); test/unit/segments/membership.test.ts
 * checks they are the server's own (api/segments/features.ts).
 */
import type { z } from 'zod'
import type { SegmentDefinitionInput, StoredSegment } from '../segments/schema.ts'

/** A saved version of a segment: the definition plus its version, archive flag, author and time. */
export type SegmentDefinition = StoredSegment
/** What a form sends to POST /v1/segments and POST /v1/segments/:key/versions: defaults may be omitted. */
export type SegmentDraft = z.input<typeof SegmentDefinitionInput>

/** GET /v1/segments: the latest version of each key, by key. */
export interface SegmentList {
  segments: SegmentDefinition[]
}

/** GET /v1/segments/:key/versions: every version of one key, newest first. */
export interface SegmentVersionHistory {
  key: string
  versions: SegmentDefinition[]
}

/** A segment a customer belongs to, by the version that matched. */
export interface SegmentMembership {
  key: string
  name: string
  version: number
}

export type CustomerLapseStage = 'active' | 'slipping' | 'lapsed' | 'dormant' | 'none'
export type CustomerOfferResponse = 'redeemed' | 'ignored' | 'none'

/** A customer's features as of an instant (docs/segments.md defines each one); null: not defined for them yet. */
export interface CustomerFeatures {
  recency_days: number | null
  orders_90d: number
  orders_365d: number
  monetary_365d: number
  aov_365d: number | null
  tenure_days: number | null
  inter_purchase_days: number | null
  discount_affinity: number | null
  last_offer_response: CustomerOfferResponse
  lapse_stage: CustomerLapseStage
}

/** What a segment rule may compare: a feature, or the customer's RFM group. */
export type SegmentField = keyof CustomerFeatures | 'rfm_group'

/** RFM quintile scores (5 best) and the group they name. */
export interface RfmScores {
  r: number
  f: number
  m: number
  group: string
}

/** GET /v1/customers/:id/profile. */
export interface CustomerProfile {
  customerId: string
  /** ISO instant the features are computed as of (from events strictly before it). */
  asOf: string
  features: CustomerFeatures
  /** Null for a customer who never purchased. */
  rfm: RfmScores | null
  rfmGroup: string
  segments: SegmentMembership[]
}
