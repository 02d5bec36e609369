/**
 * Multiple-comparison adjustment across the (variants × metrics) of one report.
 * Holm (1979), "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6 — family-wise
 * error; Benjamini & Hochberg (1995), "Controlling the false discovery rate", JRSS B 57 — false discovery rate.
 */
import type { AdjustmentMethod, Comparison } from './types.ts'

/**
 * Adjusted p-values, in input order; nulls (not-estimable comparisons) pass through and do not count in m.
 * Holm (1979): sorted p₍₁₎ ≤ … ≤ p₍ₘ₎, p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) p₍ⱼ₎).
 * Benjamini–Hochberg (1995): p̃₍ᵢ₎ = min_{j ≥ i} min(1, m p₍ⱼ₎ / j) (the adjusted p-values of R's p.adjust).
 * @example adjustPValues([0.01, 0.04, null, 0.03], 'holm') // [0.03, 0.06, null, 0.06]
 */
export function adjustPValues(pValues: (number | null)[], method: AdjustmentMethod): (number | null)[] {
  const present = pValues.flatMap((p, index) => (p === null || p === undefined ? [] : [{ p, index }]))
  const m = present.length
  const sorted = [...present].sort((x, y) => x.p - y.p)
  const adjusted: (number | null)[] = pValues.map(() => null)
  if (method === 'holm') {
    let running = 0
    sorted.forEach(({ p, index }, i) => {
      running = Math.max(running, Math.min(1, (m - i) * p))
      adjusted[index] = running
    })
  } else if (method === 'bh') {
    let running = 1
    for (let i = m - 1; i >= 0; i--) {
      running = Math.min(running, (m * sorted[i].p) / (i + 1))
      adjusted[sorted[i].index] = Math.min(1, running)
    }
  } else {
    throw new RangeError(`unknown adjustment method ${String(method)}`)
  }
  return adjusted
}

/**
 * Adjust the p-values of one report's comparisons together (Holm 1979 or Benjamini–Hochberg 1995, see
 * adjustPValues) and set `adjustedPValue`, `adjustment` and `significant` (p̃ < each comparison's α). Intervals are left as they are (marginal, unadjusted);
 * the report states the method. Returns new objects; the inputs are not changed.
 */
export function applyAdjustment<T extends Comparison>(comparisons: T[], method: AdjustmentMethod): T[] {
  const adjusted = adjustPValues(comparisons.map((c) => c.pValue), method)
  return comparisons.map((c, i) => {
    const p = adjusted[i]
    return { ...c, adjustedPValue: p, adjustment: method, significant: p !== null && p < c.alpha }
  })
}
