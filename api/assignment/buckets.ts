/**
 * GrowthBook-compatible bucketing: a hash in [0, 1) falls into one variation's range or into none.
 * Semantics follow GrowthBook's SDK spec (`getBucketRanges`, `chooseVariation`, `inNamespace`) and are
 * checked against its published `cases.json`.
 */
import { hash } from './hash.ts'

/** A half-open interval `[start, end)` of the hash space. */
export type BucketRange = readonly [start: number, end: number]

/** Mutual-exclusion namespace: customers whose namespace hash falls in `[start, end)` are in it. */
export interface Namespace {
  name: string
  range: readonly [start: number, end: number]
}

/** `n` equal weights summing to 1; none for `n <= 0`. */
export function getEqualWeights(numVariations: number): number[] {
  if (numVariations <= 0) return []
  return new Array<number>(numVariations).fill(1 / numVariations)
}

/**
 * Bucket ranges for `numVariations` variations, as GrowthBook computes them.
 *
 * Weights are laid end to end over [0, 1); each range starts where its weight starts and covers
 * `coverage × weight` of it. Raising coverage therefore only extends ranges, never moves them.
 * Like GrowthBook: coverage is clamped to [0, 1]; weights that are missing, of the wrong length, or whose
 * sum is outside [0.99, 1.01] are replaced by equal weights.
 *
 * @example
 * getBucketRanges(2, 0.5, [0.5, 0.5]) // [[0, 0.25], [0.5, 0.75]]
 * getBucketRanges(2, 1, [0.7, 0.6])   // [[0, 0.5], [0.5, 1]] — weights sum above 1, so equal weights
 */
export function getBucketRanges(numVariations: number, coverage = 1, weights?: readonly number[] | null): BucketRange[] {
  const clamped = coverage < 0 ? 0 : coverage > 1 ? 1 : coverage
  let used: readonly number[] = weights ?? getEqualWeights(numVariations)
  if (used.length !== numVariations) used = getEqualWeights(numVariations)
  let total = 0
  for (const w of used) total += w
  if (total < 0.99 || total > 1.01) used = getEqualWeights(numVariations)

  let cumulative = 0
  return used.map((w) => {
    const start = cumulative
    cumulative += w
    return [start, start + clamped * w] as const
  })
}

/**
 * Index of the range containing `n` (start inclusive, end exclusive), or -1 when `n` is in none of them
 * (the customer is outside coverage).
 *
 * @example
 * chooseVariation(0.6, [[0, 0.25], [0.5, 0.75]]) // 1
 * chooseVariation(0.4, [[0, 0.25], [0.5, 0.75]]) // -1
 */
export function chooseVariation(n: number, ranges: readonly BucketRange[]): number {
  for (let i = 0; i < ranges.length; i++) {
    const range = ranges[i]
    if (n >= range[0] && n < range[1]) return i
  }
  return -1
}

/**
 * Whether a customer falls inside a namespace's range. GrowthBook hashes namespaces separately from
 * experiments — `hash('__' + name, customerId, 1)` — so experiments sharing a namespace with disjoint
 * ranges never share a customer, whatever their own seeds.
 *
 * @example
 * inNamespace('1', { name: 'namespace1', range: [0.4, 1] }) // true
 */
export function inNamespace(customerId: string, namespace: Namespace): boolean {
  const n = hash(`__${namespace.name}`, customerId, 1)
  if (n === null) return false
  return n >= namespace.range[0] && n < namespace.range[1]
}
