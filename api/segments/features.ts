/**
 * Customer features computed from the event stream (issue 20): what a customer's behaviour says about them as of
 * an instant, from their events strictly before it — never from an event at or after it, so a feature taken at
 * first exposure cannot leak the outcome. docs/segments.md defines each one; the SQL is in features-sql.ts and a
 * brute-force reference over raw events in test/helpers/features-reference.ts.
 *
 * Money is net of refunds where it says so; days are whole days (floor) except the inter-purchase interval.
 */

/** The lapse stages, from the customer's own cadence (`lapseStage`). `none`: never purchased. */
export const LAPSE_STAGES = ['active', 'slipping', 'lapsed', 'dormant', 'none'] as const
export type LapseStage = (typeof LAPSE_STAGES)[number]

/** The answer to the last offer sent: redeemed after it, not redeemed, or no offer ever sent. */
export const OFFER_RESPONSES = ['redeemed', 'ignored', 'none'] as const
export type OfferResponse = (typeof OFFER_RESPONSES)[number]

export interface CustomerFeatures {
  /** Whole days since the last purchase; null: never purchased. */
  recency_days: number | null
  orders_90d: number
  orders_365d: number
  /** Purchase revenue less refunds in the last 365 days. */
  monetary_365d: number
  /** Purchase revenue over purchases in the last 365 days (before refunds); null without a purchase. */
  aov_365d: number | null
  /** Whole days since the first purchase; null: never purchased. */
  tenure_days: number | null
  /** Mean days between purchases, (last − first) / (purchases − 1); null with fewer than two. */
  inter_purchase_days: number | null
  /** Redemptions over purchases in the last 365 days, at most 1; null without a purchase. */
  discount_affinity: number | null
  last_offer_response: OfferResponse
  lapse_stage: LapseStage
}

export type FeatureName = keyof CustomerFeatures

/** What a segment rule may compare a feature with. */
export type FeatureType =
  { kind: 'number'; nullable: boolean; unit: 'days' | 'orders' | 'currency' | 'share' } | { kind: 'category'; values: readonly string[] }

/** Every feature with its type and a one-line meaning, in the order a profile shows them. */
export const FEATURES: Record<FeatureName, FeatureType & { label: string; description: string }> = {
  recency_days: { kind: 'number', nullable: true, unit: 'days', label: 'Recency', description: 'whole days since the last purchase' },
  orders_90d: { kind: 'number', nullable: false, unit: 'orders', label: 'Orders (90 days)', description: 'purchases in the last 90 days' },
  orders_365d: { kind: 'number', nullable: false, unit: 'orders', label: 'Orders (365 days)', description: 'purchases in the last 365 days' },
  monetary_365d: {
    kind: 'number',
    nullable: false,
    unit: 'currency',
    label: 'Net revenue (365 days)',
    description: 'purchase revenue less refunds in the last 365 days',
  },
  aov_365d: { kind: 'number', nullable: true, unit: 'currency', label: 'Average order value', description: 'mean purchase value in the last 365 days' },
  tenure_days: { kind: 'number', nullable: true, unit: 'days', label: 'Tenure', description: 'whole days since the first purchase' },
  inter_purchase_days: {
    kind: 'number',
    nullable: true,
    unit: 'days',
    label: 'Inter-purchase interval',
    description: 'mean days between purchases (needs two)',
  },
  discount_affinity: {
    kind: 'number',
    nullable: true,
    unit: 'share',
    label: 'Discount affinity',
    description: 'redemptions per purchase in the last 365 days (at most 1)',
  },
  last_offer_response: { kind: 'category', values: OFFER_RESPONSES, label: 'Last offer response', description: 'redeemed, ignored or none sent' },
  lapse_stage: { kind: 'category', values: LAPSE_STAGES, label: 'Lapse stage', description: "recency relative to the customer's own cadence" },
}

export const FEATURE_NAMES = Object.keys(FEATURES) as FeatureName[]

/** Cadence assumed for a customer with fewer than two purchases, and the floor of anyone's cadence. */
export const DEFAULT_CADENCE_DAYS = 45
export const MIN_CADENCE_DAYS = 7
/** Recency as a multiple of the cadence: up to 1.5 active, 3 slipping, 6 lapsed, beyond that dormant. */
export const LAPSE_MULTIPLES = { active: 1.5, slipping: 3, lapsed: 6 } as const

/**
 * The lapse stage of a customer whose last purchase was `recencyDays` ago and who buys every `intervalDays`.
 *
 * @example
 * lapseStage(20, 30) // 'active'  (20 ≤ 1.5 × 30)
 * lapseStage(100, null) // 'slipping' (default cadence 45: 100 ≤ 3 × 45)
 */
export function lapseStage(recencyDays: number | null, intervalDays: number | null): LapseStage {
  if (recencyDays === null) return 'none'
  const cadence = Math.max(MIN_CADENCE_DAYS, intervalDays ?? DEFAULT_CADENCE_DAYS)
  if (recencyDays <= LAPSE_MULTIPLES.active * cadence) return 'active'
  if (recencyDays <= LAPSE_MULTIPLES.slipping * cadence) return 'slipping'
  if (recencyDays <= LAPSE_MULTIPLES.lapsed * cadence) return 'lapsed'
  return 'dormant'
}
