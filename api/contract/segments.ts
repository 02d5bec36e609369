/**
 * Segments on the wire: what /v1/segments answers and what its form sends, and the customer profile
 * (`GET /v1/customers/:id/profile`) that shows a customer's features, RFM scores and segments.
 */
import type { z } from 'zod'
import type { SegmentDefinitionInput, StoredSegment } from '../segments/schema.ts'
import type { CustomerFeatures, FeatureName, LapseStage, OfferResponse } from '../segments/features.ts'
import type { RfmGroup } from '../segments/rfm.ts'
import type { SegmentField } from '../segments/rule.ts'
import type { SegmentMembership } from '../segments/membership.ts'

export type { CustomerFeatures, FeatureName, LapseStage, OfferResponse, RfmGroup, SegmentField, SegmentMembership }

/** A saved version of a segment: the definition plus its version, archive flag, author and time. */
export type SegmentDefinition = StoredSegment
/** The definition as the API reads it (defaults filled in). */
export type SegmentInput = SegmentDefinitionInput
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

/** RFM quintile scores (5 best) and the group they name; null for a customer who never purchased. */
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
  rfm: RfmScores | null
  rfmGroup: string
  segments: SegmentMembership[]
}
