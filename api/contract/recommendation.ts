/** What to do now, and why: the success criteria as evaluated and the report's one recommendation. */

export type CriterionStatus = 'met' | 'not_met' | 'unknown'

export interface CriterionResult {
  key: 'minimum_lift' | 'target_rate' | 'net_value' | 'cost_per_conversion' | 'sample_size' | 'planned_end'
  label: string
  status: CriterionStatus
  evidence: string
}

export interface ArmCriteria {
  arm: string
  criteria: CriterionResult[]
}

export type Action = 'ship' | 'keep_running' | 'stop' | 'roll_back' | 'investigate'

export interface Recommendation {
  action: Action
  /** The arm to ship, or the arm to roll back. */
  arm: string | null
  headline: string
  reasons: string[]
  daysNeeded: number | null
}
