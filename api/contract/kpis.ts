/** GET /v1/kpis: the retention program, treated vs the global holdout. */
import type { Comparison } from '../../stats/types.ts'
import type { MetricComparison } from './comparisons.ts'
import type { CatalogueMetricKind, MetricArmValue } from './metrics.ts'

/** One group's outcomes per customer (treated or global holdout). */
export interface KpiGroup {
  n: number
  reactivationRate: number | null
  revenuePerCustomer: number | null
  netValuePerCustomer: number | null
  incentiveSpend: number
}

/** An estimate with its 95% interval; `ci` is null when it cannot be computed (a group without customers). */
export interface KpiEstimate {
  estimate: number | null
  ci: [number, number] | null
}

/**
 * The answer in one sentence, built from this report's own numbers (api/reports/kpi-headline.ts):
 * `earned` when the interval of the incremental net value lies above zero, `lost` when below, `unclear` when it
 * spans zero, `no_data` when either group has no customer with a completed window.
 */
export interface KpiHeadline {
  outcome: 'earned' | 'lost' | 'unclear' | 'no_data'
  text: string
}

/** Where the value comes from: one experiment's treated customers against its globally held-out ones. */
export interface KpiProgram {
  experimentId: string
  name: string
  trigger: string | null
  status: 'draft' | 'running' | 'paused' | 'stopped'
  treated: KpiGroup
  globalHoldout: KpiGroup
  /** Per-customer net value difference × this experiment's treated customers. */
  incrementalNetValue: KpiEstimate
  reactivationLift: KpiEstimate
  incentiveSpend: number
  /** Incremental net value per unit of incentive spend, interval included (spend is the observed amount). */
  roi: KpiEstimate
}

export interface KpiWeek {
  /** Monday of the week of first exposure (YYYY-MM-DD). */
  week: string
  treated: KpiGroup
  globalHoldout: KpiGroup
  /** Relative lift of the reactivation rate vs the global holdout. */
  reactivationLift: KpiEstimate
  /** Relative lift of revenue per customer vs the global holdout. */
  revenueLift: KpiEstimate
  /** Per-customer net value difference × the week's treated customers. */
  incrementalNetValue: KpiEstimate
}

/** A running or paused experiment's budget: spend, and what its open offers hold reserved (docs/decisioning.md). */
export interface KpiBudget {
  experimentId: string
  name: string
  currency: string
  amount: number
  spent: number
  reserved: number
  openOffers: number
}

/** One catalogue metric's treated and globally held-out customers in one scope, and the lift between them. */
export interface KpiMetricScope {
  /** `arm` is 'treated' or 'global_holdout'; n counts the customers whose window for this metric has ended. */
  treated: MetricArmValue
  globalHoldout: MetricArmValue
  /** Treated vs global holdout at 95% (relative lift, the absolute difference beside it); null when a group is empty. */
  lift: MetricComparison | null
}

/**
 * A catalogue metric asked for with `?metrics=` (docs/kpis.md): the program as a whole and each experiment, as
 * the reactivation and revenue KPIs are. `unavailable` says why a metric has no numbers (a quantile).
 */
export interface KpiMetric extends KpiMetricScope {
  key: string
  version: number
  name: string
  kind: CatalogueMetricKind
  format: 'percent' | 'currency' | 'number' | 'days'
  direction: 'higher' | 'lower'
  unavailable: string | null
  programs: Array<KpiMetricScope & { experimentId: string; name: string }>
}

export interface KpiReport {
  from: string
  to: string
  /** The segment the KPIs are restricted to (customers who met its rule when their window started), or null for everyone. */
  segment?: { key: string; name: string; version: number } | null
  /** The period in words for sentences and titles: "the last 90 days" or "1 Sep 2026 to 30 Nov 2026". */
  periodLabel: string
  windowDays: number
  /** The share of all customers kept out of every offer (Settings), as a fraction. */
  globalHoldoutPct: number
  /** Customers inside their window at asOf: counted only when includeImmature is set. */
  maturity: { immature: number; included: boolean }
  headline: KpiHeadline
  treated: KpiGroup
  globalHoldout: KpiGroup
  lift: { reactivation: Comparison; revenuePerCustomer: Comparison }
  /** Per-customer difference × treated customers. */
  incrementalRevenue: KpiEstimate
  incrementalNetValue: KpiEstimate
  incentiveSpend: number
  /** Budgets now (not for the period): spent and reserved per running or paused experiment with one. */
  budgets?: KpiBudget[]
  /** Incremental net value per unit of incentive spend; null without spend or without an estimate. */
  roi: number | null
  /** The interval of `roi`: the net value's interval over the observed spend (excludes zero exactly when it does). */
  roiCi: [number, number] | null
  /**
   * A year at the current run rate: the per-customer incremental net value × treated customers per year, where
   * the rate of newly treated customers is measured over the last `basisDays` days of the period.
   */
  projectedAnnual: { netValue: KpiEstimate; treatedPerYear: number | null; basisDays: number }
  weekly: KpiWeek[]
  /** One row per experiment with treated or globally held-out customers whose window has closed, largest value first. */
  programs: KpiProgram[]
  /** The catalogue metrics asked for with `?metrics=`, in that order (empty without). */
  metrics: KpiMetric[]
  experiments: {
    running: number
    paused: number
    stopped: number
    draft: number
    decisions: Array<{ experimentId: string; name: string; chosenArm: string | null; rationale: string; decidedAt: string }>
  }
}
