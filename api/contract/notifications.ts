/** Notifications on the wire (issue 21): destinations, alert rules, alerts, the delivery log and the executive digest. */
import type { z } from 'zod'
import type { Comparison } from '../../stats/types.ts'
import type { KpiEstimate, KpiGroup, KpiHeadline } from './kpis.ts'
import type {
  AlertRecord,
  AlertRule,
  AlertRuleInput,
  CreatedDestination,
  Delivery,
  Destination,
  DestinationInput,
  DigestSchedule,
  DigestScheduleInput,
} from '../notifications/schema.ts'

export type DestinationView = z.infer<typeof Destination>
export type CreatedDestinationView = z.infer<typeof CreatedDestination>
export type DestinationDraft = z.input<typeof DestinationInput>
export type AlertRuleView = z.infer<typeof AlertRule>
export type AlertRuleDraft = z.input<typeof AlertRuleInput>
export type AlertView = z.infer<typeof AlertRecord>
export type DeliveryView = z.infer<typeof Delivery>
export type DigestScheduleView = z.infer<typeof DigestSchedule>
export type DigestScheduleDraft = z.input<typeof DigestScheduleInput>
/** POST /v1/destinations/{id}/test: the one attempt's outcome. */
export interface DestinationTestResult {
  deliveryId: number
  delivered: boolean
  statusCode: number | null
  error: string | null
}

/**
 * The weekly executive digest: the program's KPIs against the global holdout over a period (the numbers of
 * GET /v1/kpis?from=&to= for the same period, from the same code), the decisions recorded in the last seven days,
 * every running experiment with its report's recommendation, and the budgets.
 */
export interface Digest {
  title: string
  periodLabel: string
  from: string
  to: string
  generatedAt: string
  /** The digest page in the dashboard. */
  link: string
  kpis: {
    headline: KpiHeadline
    treated: KpiGroup
    globalHoldout: KpiGroup
    reactivationLift: Pick<Comparison, 'estimate' | 'ci' | 'significant'>
    revenueLift: Pick<Comparison, 'estimate' | 'ci' | 'significant'>
    incrementalRevenue: KpiEstimate
    incrementalNetValue: KpiEstimate
    incentiveSpend: number
    roi: number | null
    roiCi: [number, number] | null
    windowDays: number
  }
  decisions: Array<{ experimentId: string; name: string; chosenArm: string | null; rationale: string; decidedAt: string; link: string }>
  running: Array<{ experimentId: string; name: string; action: string | null; arm: string | null; headline: string; link: string }>
  /** `share` is (spent + reserved) / amount: open offers hold their reservation against the budget until they resolve. */
  budgets: Array<{ experimentId: string; name: string; amount: number; currency: string; spent: number; reserved: number; share: number }>
}
