import { describe, expect, expectTypeOf, it } from 'vitest'
import { segmentsOf, type SegmentAttributes } from '../../../api/segments/membership.ts'
import { ruleProblems } from '../../../api/segments/rule.ts'
import type { StoredSegment } from '../../../api/segments/schema.ts'
import type { CustomerFeatures } from '../../../api/segments/features.ts'
import { FEATURES } from '../../../api/segments/features.ts'
import { RFM_GROUPS } from '../../../api/segments/rfm.ts'
import { SEGMENT_FIELDS } from '../../../api/segments/rule.ts'
import type { CustomerFeatures as WireFeatures, SegmentField } from '../../../api/contract/index.ts'
import { FEATURE_OPTIONS, RFM_GROUP_OPTIONS } from '../../../ui/src/lib/segments.ts'

const lapsedBuyer: SegmentAttributes = {
  recency_days: 130,
  orders_90d: 0,
  orders_365d: 3,
  monetary_365d: 240,
  aov_365d: 80,
  tenure_days: 400,
  inter_purchase_days: 40,
  discount_affinity: 0.67,
  last_offer_response: 'ignored',
  lapse_stage: 'lapsed',
  rfm_group: 'at_risk',
}
const neverBought: SegmentAttributes = {
  recency_days: null,
  orders_90d: 0,
  orders_365d: 0,
  monetary_365d: 0,
  aov_365d: null,
  tenure_days: null,
  inter_purchase_days: null,
  discount_affinity: null,
  last_offer_response: 'none',
  lapse_stage: 'none',
  rfm_group: 'no_purchases',
}

let version = 0
function segment(key: string, rule: Record<string, unknown>, extra: Partial<StoredSegment> = {}): StoredSegment {
  // Every rule here is one the API would save.
  expect(ruleProblems(rule)).toEqual([])
  return {
    key,
    name: `Segment ${key}`,
    description: '',
    owner: '',
    tags: [],
    rule,
    version: ++version,
    archived: false,
    createdAt: '',
    createdBy: 'test',
    ...extra,
  }
}

describe('segmentsOf', () => {
  const dealSeekers = segment('deal_seekers', { $and: [{ lapse_stage: { $in: ['lapsed', 'dormant'] } }, { discount_affinity: { $gte: 0.5 } }] })
  const champions = segment('champions', { rfm_group: 'champions' })
  const atRiskOrSlipping = segment('at_risk_or_slipping', { $or: [{ rfm_group: 'at_risk' }, { lapse_stage: 'slipping' }] })
  const notRedeemers = segment('not_redeemers', { $not: { last_offer_response: 'redeemed' } })
  const bigSpenders = segment('big_spenders', { monetary_365d: { $gt: 1000 } })
  const all = [dealSeekers, champions, atRiskOrSlipping, notRedeemers, bigSpenders]

  it('returns the key, name and version of each segment whose rule matches, in the order given', () => {
    expect(segmentsOf(lapsedBuyer, all)).toEqual([
      { key: 'deal_seekers', name: 'Segment deal_seekers', version: dealSeekers.version },
      { key: 'at_risk_or_slipping', name: 'Segment at_risk_or_slipping', version: atRiskOrSlipping.version },
      { key: 'not_redeemers', name: 'Segment not_redeemers', version: notRedeemers.version },
    ])
    expect(segmentsOf(lapsedBuyer, [...all].reverse()).map((s) => s.key)).toEqual(['not_redeemers', 'at_risk_or_slipping', 'deal_seekers'])
  })

  it('moves a customer in and out as a single feature crosses the rule', () => {
    expect(segmentsOf({ ...lapsedBuyer, discount_affinity: 0.49 }, [dealSeekers])).toEqual([])
    expect(segmentsOf({ ...lapsedBuyer, discount_affinity: 0.5 }, [dealSeekers])).toHaveLength(1)
    expect(segmentsOf({ ...lapsedBuyer, lapse_stage: 'active' }, [dealSeekers])).toEqual([])
    expect(segmentsOf({ ...lapsedBuyer, monetary_365d: 1000.01 }, [bigSpenders])).toHaveLength(1)
    expect(segmentsOf({ ...lapsedBuyer, rfm_group: 'champions' }, [champions, atRiskOrSlipping]).map((s) => s.key)).toEqual(['champions'])
  })

  it('never counts an archived segment', () => {
    expect(segmentsOf(lapsedBuyer, [{ ...dealSeekers, archived: true }, notRedeemers]).map((s) => s.key)).toEqual(['not_redeemers'])
  })

  it('reads null features as GrowthBook does: missing for $exists, 0 for comparisons', () => {
    const recent = segment('recent', { recency_days: { $lte: 30 } })
    const recentBuyers = segment('recent_buyers', { recency_days: { $exists: true, $lte: 30 } })
    const noAffinity = segment('no_affinity', { discount_affinity: null })
    expect(segmentsOf(neverBought, [recent, recentBuyers, noAffinity]).map((s) => s.key)).toEqual(['recent', 'no_affinity'])
    expect(segmentsOf({ ...lapsedBuyer, recency_days: 12 }, [recent, recentBuyers, noAffinity]).map((s) => s.key)).toEqual(['recent', 'recent_buyers'])
  })

  it('is empty with no segments', () => {
    expect(segmentsOf(lapsedBuyer, [])).toEqual([])
  })
})

describe("the wire contract and the dashboard mirror the server's features", () => {
  it('has the same feature types in api/contract as in api/segments/features.ts', () => {
    expectTypeOf<WireFeatures>().toEqualTypeOf<CustomerFeatures>()
    expectTypeOf<SegmentField>().toEqualTypeOf<keyof typeof SEGMENT_FIELDS>()
  })

  it("lists every feature in the builder with the server's kind, unit, nullability and values, and every RFM group", () => {
    const server = Object.entries(FEATURES).map(([name, f]) =>
      f.kind === 'number'
        ? { name, label: f.label, kind: f.kind, unit: f.unit, nullable: f.nullable }
        : { name, label: f.label, kind: f.kind, values: [...f.values] },
    )
    expect(FEATURE_OPTIONS.filter((f) => f.name !== 'rfm_group')).toEqual(server)
    expect(FEATURE_OPTIONS.find((f) => f.name === 'rfm_group')).toMatchObject({ kind: 'category', values: [...RFM_GROUPS] })
    expect(RFM_GROUP_OPTIONS).toEqual([...RFM_GROUPS])
  })
})
