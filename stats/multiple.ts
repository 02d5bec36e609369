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

export type FamilyMethod = 'holm' | 'bonferroni' | 'bh' | 'none'

/**
 * A test family's adjusted p-values and, for each comparison, the two-sided level at which its displayed
 * interval must be computed so that the interval and the verdict agree:
 * significant[i] ⇔ adjustedPValues[i] < α ⇔ pValues[i] < levels[i]. Nulls pass through and do not count in m.
 * - none: α. bonferroni: α/m (p̃ = min(1, m·p)).
 * - holm: a hypothesis rejected at sorted step j gets α/(m − j + 1), the level it was tested at; every other
 *   gets α/(m − r), r = the number rejected (the first non-rejected fails exactly that level, and later ones
 *   have larger p). Intervals at the step levels (cf. Strassburger & Bretz 2008, who give simultaneous ones).
 * - bh: the Benjamini–Yekutieli (2005) false-coverage-rate level R·α/m for every comparison, R = the number of
 *   BH rejections (α/m when R = 0): rejected ones have p ≤ Rα/m, the others p > Rα/m.
 * docs/statistics.md → Test families.
 * @example familyLevels([0.01, 0.04, 0.03], 'holm', 0.05).levels // [0.0166…, 0.05/2, 0.05/2]
 */
export function familyLevels(pValues: (number | null)[], method: FamilyMethod, alpha: number): { adjustedPValues: (number | null)[]; levels: (number | null)[]; significant: boolean[] } {
  const present = pValues.flatMap((p, index) => (p === null || p === undefined || Number.isNaN(p) ? [] : [{ p, index }]))
  const m = present.length
  const adjusted: (number | null)[] =
    method === 'none' ? pValues.map((p) => (p === null || p === undefined ? null : p))
    : method === 'bonferroni' ? pValues.map((p) => (p === null || p === undefined ? null : Math.min(1, m * p)))
    : method === 'holm' || method === 'bh' ? adjustPValues(pValues, method)
    : (() => { throw new RangeError(`unknown family method ${String(method)}`) })()
  const significant = adjusted.map((p) => p !== null && p < alpha)
  const sorted = [...present].sort((x, y) => x.p - y.p)
  const rejected = sorted.filter(({ index }) => significant[index]).length
  const nominal = new Map<number, number>()
  sorted.forEach(({ index }, j) => {
    if (method === 'none') nominal.set(index, alpha)
    else if (method === 'bonferroni') nominal.set(index, alpha / m)
    else if (method === 'holm') nominal.set(index, j < rejected ? alpha / (m - j) : alpha / (m - rejected))
    else nominal.set(index, Math.min(alpha, alpha * (Math.max(1, rejected) / m)))
  })
  // The verdict comes from the adjusted p-value; the level is the textbook one, moved by at most a rounding
  // step where floating point would put p on the other side of it, so the two can never disagree.
  const levels: (number | null)[] = pValues.map((p, i) => {
    if (p === null || p === undefined || Number.isNaN(p)) return null
    const level = nominal.get(i)!
    if (significant[i]) return p < level ? level : Math.min(alpha, p * (1 + 2 ** -52) + Number.MIN_VALUE)
    return p >= level ? level : p
  })
  return { adjustedPValues: adjusted, levels, significant }
}
