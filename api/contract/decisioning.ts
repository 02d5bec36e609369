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
 * budget) up to asOf, and the budget: spend (Σ redemption costs, each event once) and what the offers still open
 * hold reserved against it (docs/decisioning.md); `remaining` is what neither takes.
 */
export interface DecisioningSummary {
  trigger: string | null
  priority: number
  /** Customers suppressed, by reason. */
  suppressions: Record<string, number>
  budget:
    | (NonNullable<Experiment['budget']> & {
        spent: number
        /** Σ reservations of offers issued and neither redeemed nor expired. */
        reserved: number
        /** How many offers are open (each holds a reservation). */
        openOffers: number
        remaining: number
        exhaustedAt: string | null
      })
    | null
  spent: number
}
