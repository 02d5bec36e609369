/** The decision layer on the wire: triggers and policies (zod schemas in decisioning/schema.ts) and its report summary. */
import type { z } from 'zod'
import type { PolicyCreate, PolicyUpdate, Trigger } from '../decisioning/schema.ts'
import type { Experiment } from '../experiments/schema.ts'

export type { Policy, TriggerRecord } from '../decisioning/schema.ts'
export type TriggerInput = z.input<typeof Trigger>
export type PolicyInput = z.input<typeof PolicyCreate>
export type PolicyChange = z.input<typeof PolicyUpdate>

/**
 * The decision layer's side of an experiment report: customers suppressed by reason (pacing, cooldown,
 * budget) up to asOf, and incentive spend against the budget (Σ redemption costs, each event once).
 */
export interface DecisioningSummary {
  trigger: string | null
  priority: number
  /** Customers suppressed, by reason. */
  suppressions: Record<string, number>
  budget: (NonNullable<Experiment['budget']> & { spent: number; remaining: number; exhaustedAt: string | null }) | null
  spent: number
}
