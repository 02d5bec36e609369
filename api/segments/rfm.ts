/**
 * The default RFM segmentation: recency, frequency (orders in 365 days) and monetary value (net revenue in 365
 * days) each scored 1–5 by quintile among the customers who have ever purchased, then named by the usual RFM
 * grid. Pure: the quintile cut points are computed elsewhere (over all customers now for a profile, over an
 * experiment's customers at their first exposure for a report) and passed in.
 */
import type { CustomerFeatures } from './features.ts'

export const RFM_GROUPS = [
  'champions',
  'loyal',
  'new_customers',
  'potential_loyalists',
  'cant_lose_them',
  'at_risk',
  'hibernating',
  'needs_attention',
  'no_purchases',
] as const
export type RfmGroup = (typeof RFM_GROUPS)[number]

/** Four ascending cut points per dimension (the 20th, 40th, 60th and 80th percentiles). */
export interface RfmCuts {
  recency: number[]
  frequency: number[]
  monetary: number[]
}

export interface RfmScore {
  r: number
  f: number
  m: number
  group: RfmGroup
}

/** 1 + the number of cut points strictly below x: 1 (lowest fifth) to 5 (highest). */
export const quintile = (x: number, cuts: number[]) => 1 + cuts.filter((c) => c < x).length

/**
 * The RFM score and group of one customer. Recency scores the other way round: the most recent fifth is 5.
 *
 * @example
 * rfmScore({ recency_days: 3, orders_365d: 12, monetary_365d: 900, ...rest }, cuts) // { r: 5, f: 5, m: 5, group: 'champions' }
 */
export function rfmScore(f: Pick<CustomerFeatures, 'recency_days' | 'orders_365d' | 'monetary_365d'>, cuts: RfmCuts): RfmScore | null {
  if (f.recency_days === null) return null
  const r = 6 - quintile(f.recency_days, cuts.recency)
  const fr = quintile(f.orders_365d, cuts.frequency)
  const m = quintile(f.monetary_365d, cuts.monetary)
  return { r, f: fr, m, group: rfmGroup(r, fr, m) }
}

/** The grid, first match wins; it is documented in docs/segments.md. */
export function rfmGroup(r: number, f: number, m: number): RfmGroup {
  if (r >= 4 && f >= 4 && m >= 4) return 'champions'
  if (r >= 3 && f >= 4) return 'loyal'
  if (r >= 4 && f <= 1) return 'new_customers'
  if (r >= 4) return 'potential_loyalists'
  if (r <= 2 && f >= 4) return 'cant_lose_them'
  if (r <= 2 && (f >= 3 || m >= 3)) return 'at_risk'
  if (r <= 2) return 'hibernating'
  return 'needs_attention'
}
