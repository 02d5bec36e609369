/**
 * The learning library's pairs as the Offer library page shows them: which segments there are to filter by, the
 * filter itself, and each pooled outcome in its own units (percentage points for rates, money per customer).
 */
import { DASH, integer, percent } from './format.ts'
import { interval, metricDelta } from './metricFormat.ts'
import type { LearningMetric, LearningOutcome, LibraryPair } from './reports.ts'
import type { Tone } from './significance.ts'

/** The outcomes in the order the table shows them, with a header short enough for a column. */
export const PAIR_OUTCOMES: ReadonlyArray<{ metric: LearningMetric; heading: string }> = [
  { metric: 'reactivation', heading: 'Reactivation' },
  { metric: 'durable_reengagement', heading: 'Durable re-engagement' },
  { metric: 'net_value', heading: 'Net value per customer' },
]

/** The API's own `?segment=` spelling: `segmentKey({ dimension: 'valueTier', segment: 'low' })` → "valueTier=low". */
export const segmentKey = (p: Pick<LibraryPair, 'dimension' | 'segment'>) => `${p.dimension}=${p.segment}`

/** "All customers", or "valueTier = low". */
export const segmentLabel = (p: Pick<LibraryPair, 'dimension' | 'segment'>) => (p.dimension === '(all)' ? 'All customers' : `${p.dimension} = ${p.segment}`)

/** Every segment the pairs cover, all customers first, then by attribute and value. */
export function pairSegments(pairs: LibraryPair[]): Array<{ key: string; label: string }> {
  const seen = new Map<string, LibraryPair>()
  for (const p of pairs) if (!seen.has(segmentKey(p))) seen.set(segmentKey(p), p)
  return [...seen.values()]
    .sort(
      (a, b) =>
        Number(b.dimension === '(all)') - Number(a.dimension === '(all)') || a.dimension.localeCompare(b.dimension) || a.segment.localeCompare(b.segment),
    )
    .map((p) => ({ key: segmentKey(p), label: segmentLabel(p) }))
}

/**
 * The pairs one segment (`dimension=value`, '' for every segment) and, when asked, only the proven ones; the API's
 * order (proven first, strongest evidence first) is kept.
 */
export function filterPairs(pairs: LibraryPair[], filter: { segment: string; provenOnly: boolean }): LibraryPair[] {
  return pairs.filter((p) => (!filter.segment || segmentKey(p) === filter.segment) && (!filter.provenOnly || p.proven))
}

export function outcomeOf(pair: LibraryPair, metric: LearningMetric): LearningOutcome | undefined {
  return pair.outcomes.find((o) => o.metric === metric)
}

/** A difference in the outcome's units: `outcomeDelta('rate', 0.032)` → "+3.2 pp"; `('currency', 1.2)` → "+$1.20". */
export function outcomeDelta(unit: LearningOutcome['unit'], x: number | null | undefined, code = 'USD'): string {
  return metricDelta(unit === 'rate' ? 'percent' : 'currency', x, code)
}

/** An interval in the outcome's units: "[+1.0 pp, +5.4 pp]". */
export function outcomeInterval(unit: LearningOutcome['unit'], ci: [number, number] | null | undefined, code = 'USD'): string {
  return interval(ci, (x) => outcomeDelta(unit, x, code))
}

/** The colour of a pooled outcome: the API's verdict, which follows its adjusted interval. */
export function outcomeTone(o: Pick<LearningOutcome, 'verdict'> | undefined): Tone {
  return o?.verdict === 'proven' ? 'positive' : o?.verdict === 'harmful' ? 'negative' : 'neutral'
}

/** I² means something only between two or more experiments: "21%", else a dash. */
export function heterogeneity(o: Pick<LearningOutcome, 'k' | 'iSquared'> | undefined): string {
  return o && o.k >= 2 ? percent(o.iSquared, 0) : DASH
}

/** The adjusted interval's coverage: a `level` of 0.0194 → "98.1%". */
export function coverage(level: number | null | undefined): string {
  return typeof level === 'number' && Number.isFinite(level) ? percent(1 - level, 1) : DASH
}

/** `counted(1, 'experiment')` → "1 experiment"; `counted(3, 'pair')` → "3 pairs". */
export const counted = (n: number, noun: string) => `${integer(n)} ${noun}${n === 1 ? '' : 's'}`
