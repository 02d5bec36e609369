/** GET /v1/kpis: the retention program, treated vs the global holdout. */
import type { Comparison } from '../../stats/types.ts'

/** One group's outcomes per customer (treated or global holdout). */
export interface KpiGroup {
  n: number
  reactivationRate: number | null
  revenuePerCustomer: number | null
  netValuePerCustomer: number | null
  incentiveSpend: number
}

export interface KpiEstimate {
  estimate: number | null
  ci: [number, number] | null
}

export interface KpiReport {
  from: string
  to: string
  windowDays: number
  /** Customers inside their window at asOf: counted only when includeImmature is set. */
  maturity: { immature: number; included: boolean }
  treated: KpiGroup
  globalHoldout: KpiGroup
  lift: { reactivation: Comparison; revenuePerCustomer: Comparison }
  /** Per-customer difference × treated customers. */
  incrementalRevenue: KpiEstimate
  incrementalNetValue: KpiEstimate
  incentiveSpend: number
  /** Incremental net value per unit of incentive spend; null without spend or without an estimate. */
  roi: number | null
  weekly: Array<{ week: string; treated: KpiGroup; globalHoldout: KpiGroup; reactivationLift: KpiEstimate; revenueLift: KpiEstimate }>
  experiments: {
    running: number
    paused: number
    stopped: number
    draft: number
    decisions: Array<{ experimentId: string; name: string; chosenArm: string | null; rationale: string; decidedAt: string }>
  }
}
