/**
 * Which segments a customer belongs to: pure, so the profile route, reports and targeting all compute it the same
 * way from features they looked up themselves.
 */
import { evalCondition } from '../assignment/targeting.ts'
import type { CustomerFeatures } from './features.ts'
import type { StoredSegment } from './schema.ts'
import type { SegmentMembership } from '../contract/segments.ts'

/** What a rule reads: the customer's features and their RFM group (`no_purchases` for someone who never bought). */
export type SegmentAttributes = CustomerFeatures & { rfm_group: string }

export type { SegmentMembership }

/**
 * The live segments whose rule the customer matches, in the order given. Archived segments match nobody.
 * Rules follow GrowthBook's `evalCondition`: a null feature (`recency_days` of someone who never bought) compares
 * like 0 in `$lt`/`$lte`, so "recent buyers" should say `recency_days: { $exists: true, $lte: 30 }`.
 *
 * @example
 * segmentsOf({ ...features, lapse_stage: 'lapsed', rfm_group: 'at_risk' }, [lapsedSegment, championsSegment])
 * // [{ key: 'lapsed', name: 'Lapsed customers', version: 2 }]
 */
export function segmentsOf(attributes: SegmentAttributes, segments: StoredSegment[]): SegmentMembership[] {
  const out: SegmentMembership[] = []
  for (const s of segments) {
    if (s.archived) continue
    if (evalCondition(attributes, s.rule)) out.push({ key: s.key, name: s.name, version: s.version })
  }
  return out
}
