/**
 * Multiple-comparison adjustment within one test family (docs/statistics.md → Test families).
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
 * adjustPValues) and set `adjustedPValue`, `adjustment` and `significant` (p̃ < each comparison's α). Intervals are
 * left as they are (marginal, unadjusted); to show intervals that agree with the adjusted verdicts, recompute
 * each comparison at its level from familyLevels. Returns new objects; the inputs are not changed.
 */
export function applyAdjustment<T extends Comparison>(comparisons: T[], method: AdjustmentMethod): T[] {
  const adjusted = adjustPValues(
    comparisons.map((c) => c.pValue),
    method,
  )
  return comparisons.map((c, i) => {
    const p = adjusted[i]
    return { ...c, adjustedPValue: p, adjustment: method, significant: p !== null && p < c.alpha }
  })
}

export type FamilyMethod = 'holm' | 'bonferroni' | 'bh' | 'none'

export interface FamilyLevels {
  /** Adjusted p-values in input order (null where the p-value was null): none p, bonferroni min(1, m·p), Holm, BH. */
  adjustedPValues: (number | null)[]
  /** Two-sided level at which each comparison's displayed interval is computed (null where p was null). */
  levels: (number | null)[]
  /** adjustedPValues[i] < α; false where p was null. */
  significant: boolean[]
}

/** The smallest double above a non-negative x. */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE
  const box = new Float64Array([x])
  const bits = new BigInt64Array(box.buffer)
  bits[0] += 1n
  return box[0]
}

/**
 * A test family's verdicts and, for each comparison, the two-sided level its displayed interval must use so
 * that verdict and interval never disagree: for every i, significant[i] ⇔ adjustedPValues[i] < α ⇔
 * pValues[i] < levels[i] (and the interval at level L excludes 0 exactly when p < L). Nulls (not-estimable
 * comparisons) pass through and do not count in m. With p₍₁₎ ≤ … ≤ p₍ₘ₎:
 * - none: α for every comparison.
 * - bonferroni: α/m (p̃ = min(1, m·p)).
 * - holm (Holm 1979): a hypothesis rejected at sorted step j gets the level it was tested at, α/(m − j + 1);
 *   every other gets α/(m − r), r = number rejected: the first non-rejected failed exactly that level and the
 *   later ones have larger p. (Strassburger & Bretz 2008 give simultaneous Holm-compatible intervals; these are
 *   the per-step ones, which agree with every verdict.)
 * - bh (Benjamini & Hochberg 1995): the Benjamini–Yekutieli (2005) false-coverage-statement level R·α/m for
 *   every comparison, R = number of BH rejections (α/m when R = 0): rejected ones have p ≤ p₍R₎ < Rα/m, the
 *   others p₍ⱼ₎ ≥ jα/m > Rα/m for j > R.
 * The verdict is the adjusted p-value's; where floating point puts p on the wrong side of its textbook level
 * (p̃ = m·p rounding to α while p < α/m, say) the level moves to p, or to the next double above it, so the
 * equivalence is exact. Throws a RangeError for α outside (0, 1) or an unknown method.
 * docs/statistics.md → Test families.
 * @example familyLevels([0.01, 0.04, 0.03], 'holm', 0.05).levels // [0.05 / 3, 0.025, 0.025]
 */
export function familyLevels(pValues: (number | null)[], method: FamilyMethod, alpha: number): FamilyLevels {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie strictly between 0 and 1, got ${alpha}`)
  const clean = pValues.map((p) => (p === null || p === undefined || Number.isNaN(p) ? null : p))
  const present = clean.flatMap((p, index) => (p === null ? [] : [{ p, index }]))
  const m = present.length
  let adjustedPValues: (number | null)[]
  if (method === 'none') adjustedPValues = clean
  else if (method === 'bonferroni') adjustedPValues = clean.map((p) => (p === null ? null : Math.min(1, m * p)))
  else if (method === 'holm' || method === 'bh') adjustedPValues = adjustPValues(clean, method)
  else throw new RangeError(`unknown family method ${String(method)}`)
  const significant = adjustedPValues.map((p) => p !== null && p < alpha)
  // Holm and BH adjusted p-values never decrease along the sorted order, so the rejections are its first r.
  const sorted = [...present].sort((x, y) => x.p - y.p || x.index - y.index)
  const rejected = present.filter(({ index }) => significant[index]).length
  const textbook = new Map<number, number>()
  sorted.forEach(({ index }, j) => {
    if (method === 'none') textbook.set(index, alpha)
    else if (method === 'bonferroni') textbook.set(index, alpha / m)
    else if (method === 'holm') textbook.set(index, significant[index] ? alpha / (m - j) : alpha / (m - rejected))
    else textbook.set(index, rejected === 0 ? alpha / m : Math.min(alpha, (rejected * alpha) / m))
  })
  const levels = clean.map((p, i) => {
    if (p === null) return null
    const level = textbook.get(i) as number
    if (significant[i]) return p < level ? level : nextUp(p)
    return p < level ? p : level
  })
  return { adjustedPValues, levels, significant }
}
