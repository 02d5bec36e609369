/**
 * Outlier capping of per-customer values before the sums are taken. The cap is one percentile over all
 * arms together so that every arm is capped alike (ClickHouse: `quantileExact(0.99)(value)`, then
 * `least(value, cap)`). Reference: Kohavi, Tang, Xu (2020), Trustworthy Online Controlled Experiments, §22.
 */

/**
 * The percentile (a fraction, 0.99 for the 99th) of the values, by linear interpolation between order
 * statistics: h = (n − 1)·q, cap = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎) (Hyndman & Fan 1996 type 7, the
 * default of numpy and R). Null for an empty list.
 * @example winsorizeCap([1, 2, 3, 4, 100], 0.75) // 4
 */
export function winsorizeCap(values: number[], percentile: number): number | null {
  if (!(percentile >= 0 && percentile <= 1)) throw new RangeError(`percentile is a fraction in [0, 1] (0.99 for the 99th), got ${percentile}`)
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length === 0) return null
  const sorted = Float64Array.from(finite).sort()
  const h = (sorted.length - 1) * percentile
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo])
}

/**
 * Values capped from above: min(x, cap). Only the upper tail is capped (revenue outliers are large); Kohavi,
 * Tang, Xu (2020) §22 call this capping/winsorizing.
 * @example winsorize([1, 2, 300], 50) // [1, 2, 50]
 */
export function winsorize(values: number[], cap: number): number[] {
  return values.map((v) => Math.min(v, cap))
}
