/** The report's health section: is the test healthy and far enough along to decide? (docs/statistics.md → Health and power progress) */

export interface PowerProgress {
  metric: string
  /** Relative lift the sample is sized for: the success criteria's minimum worthwhile lift, else analysis.mde. */
  minimumLift: number
  nPerArmNeeded: number | null
  basis: 'planned' | 'computed' | null
  /** Customers with a complete window in the smallest compared arm. */
  nPerArmReached: number
  /** Customers enrolled (complete window or not) in the smallest compared arm. */
  nPerArmEnrolled: number
  progress: number | null
  reason: string | null
}

export interface Health {
  maturity: { windowDays: number; included: boolean; enrolled: number; immature: number; byArm: Array<{ arm: string; enrolled: number; immature: number }> }
  enrolment: Array<{ day: string; cumulative: Record<string, number>; srmPValue: number | null }>
  daysRunning: number | null
  plannedDays: number | null
  /** Customers per day entering the smallest compared arm, over the days enrolment ran. */
  enrolmentPerArmPerDay: number | null
  power: PowerProgress
  /** Days until the needed sample has a complete window, at the observed enrolment rate; 0 when reached. */
  daysNeeded: number | null
}
