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

/** p-values are Benjamini–Hochberg adjusted across the segments of each experiment: the library is for finding leads. */
export interface LibraryReport {
  rows: LibraryRow[]
  adjustment: 'bh'
}
