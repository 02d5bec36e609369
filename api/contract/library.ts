/** GET /v1/library: which offer won in which segment, from concluded experiments. */
import type { MetricComparison } from './comparisons.ts'

export interface LibraryRow {
  experimentId: string
  experimentName: string
  decidedAt: string
  chosenArm: string | null
  metric: string
  /** The primary metric's name (a catalogue metric's own name). */
  metricLabel: string
  dimension: string
  segment: string
  n: number
  /** The variant with the best significant improvement over control in this segment, if any. */
  winner: { arm: string; name: string; offer: unknown; lift: number; ci: [number, number]; adjustedPValue: number | null } | null
  comparisons: Array<
    Pick<MetricComparison, 'variant' | 'estimate' | 'ci' | 'pValue' | 'adjustedPValue' | 'significant' | 'kind'> & {
      rawCi: [number, number] | null
      level: number
    }
  >
}

/** The outcomes the learning library pools (docs/learning-library.md); `reactivation` decides `proven`. */
export type LearningMetric = 'reactivation' | 'durable_reengagement' | 'net_value'

/** One experiment's estimate of an offer arm's effect vs that experiment's control, in one segment. */
export interface LearningEvidence {
  experimentId: string
  experimentName: string
  status: 'running' | 'stopped'
  arm: string
  armName: string
  /** Customers counted for this outcome in control and in the offer arm. */
  n: { control: number; variant: number }
  /** Control's and the offer arm's mean (a rate, or dollars per customer). */
  control: number
  variant: number
  /** Absolute difference variant − control, its standard error and unadjusted 95% interval. */
  estimate: number
  standardError: number
  ci: [number, number]
  /** This experiment's share of the random-effects weight. */
  weight: number
}

/** One outcome of a pair, pooled across experiments and adjusted across pairs. */
export interface LearningOutcome {
  metric: LearningMetric
  label: string
  unit: 'rate' | 'currency'
  /** Experiments pooled (0: no experiment had customers followed long enough; the fields below are then null). */
  k: number
  experiments: LearningEvidence[]
  /** DerSimonian–Laird random-effects pooled difference (absolute, variant − control). */
  estimate: number | null
  standardError: number | null
  /** The pooled interval at `level` (Benjamini–Yekutieli, across pairs): excludes 0 exactly when `significant`. */
  ci: [number, number] | null
  /** Two-sided error rate of `ci`. */
  level: number | null
  /** The unadjusted 95% random-effects interval. */
  rawCi: [number, number] | null
  pValue: number | null
  /** Benjamini–Hochberg across every pair with this outcome. */
  adjustedPValue: number | null
  significant: boolean
  /** Fixed-effect (inverse-variance) pooled difference, for comparison. */
  fixed: { estimate: number; standardError: number } | null
  /** Cochran's Q, its χ² p-value (null for one experiment), I² and τ². */
  q: number | null
  qPValue: number | null
  iSquared: number | null
  tauSquared: number | null
  /** proven: `ci` lies above 0; harmful: below 0; unproven otherwise. */
  verdict: 'proven' | 'harmful' | 'unproven'
}

/** A segment × trigger/tier × offer pair with the pooled evidence of every experiment that tested it. */
export interface LibraryPair {
  /** `dimension=value|trigger|tier|offerType:value`: stable across calls. */
  key: string
  /** `(all)` for all customers, else the attribute captured at first exposure. */
  dimension: string
  segment: string
  /** The experiment's trigger, when it has one; the intent tier when the segment is a tier of it. */
  trigger: string | null
  tier: string | null
  offer: { type: string; value: number }
  /** Proven on reactivation (the headline): its adjusted pooled interval lies above 0. */
  proven: boolean
  outcomes: LearningOutcome[]
}

/** p-values are Benjamini–Hochberg adjusted across the segments of each experiment: the library is for finding leads. */
export interface LibraryReport {
  rows: LibraryRow[]
  adjustment: 'bh'
  /**
   * The learning library: pairs pooled across stopped and running experiments (random effects), each outcome
   * adjusted across all pairs (Benjamini–Hochberg, Benjamini–Yekutieli intervals) before any `segment` filter.
   */
  pairs: LibraryPair[]
  /** The `segment` filter applied (null: none), and how many pairs there are without it. */
  segmentFilter: string | null
  totalPairs: number
}
