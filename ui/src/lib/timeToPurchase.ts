import { DASH, percent } from './format.ts'
import { confidence, pText } from './effects.ts'
import type { Baseline, MetricComparison, MetricResult, Survival } from './reports.ts'

/**
 * Time to first purchase as people read it. The comparison is the difference in restricted mean days without
 * a purchase within the window (variant − baseline): negative means the first purchase comes sooner, which is
 * the good direction. Days are written with one decimal and a real minus sign, the way the API's summary does.
 */

const MINUS = '\u2212'
const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)
const oneDecimal = (x: number) => {
  const r = Number(x.toFixed(1))
  return r === 0 ? 0 : r
}

/** A signed number of days: `signedDays(-1.94)` → "−1.9", `signedDays(0.4)` → "+0.4". */
export function signedDays(x: number | null | undefined): string {
  if (!isNumber(x)) return DASH
  const r = oneDecimal(x)
  return `${r > 0 ? '+' : r < 0 ? MINUS : ''}${Math.abs(r).toFixed(1)}`
}

/** The difference in words: `daysSooner(-1.5)` → "1.5 days sooner", `daysSooner(0.4)` → "0.4 days later". */
export function daysSooner(x: number | null | undefined): string {
  if (!isNumber(x)) return DASH
  const r = oneDecimal(x)
  if (r === 0) return 'no sooner, no later (0.0 days)'
  return `${Math.abs(r).toFixed(1)} ${Math.abs(r) === 1 ? 'day' : 'days'} ${r < 0 ? 'sooner' : 'later'}`
}

/** An interval of day differences: `daysInterval([-1.94, -1.02])` → "[−1.9, −1.0] days". */
export function daysInterval(ci: readonly [number, number] | null | undefined): string {
  if (!ci || !isNumber(ci[0]) || !isNumber(ci[1])) return DASH
  return `[${signedDays(ci[0])}, ${signedDays(ci[1])}] days`
}

/** Days on their own (a restricted mean or a median): `plainDays(23.46)` → "23.5 days". */
export function plainDays(x: number | null | undefined): string {
  return isNumber(x) ? `${x.toFixed(1)} days` : DASH
}

/** An interval of days (not a difference): `daysRange([22.14, 23.4])` → "[22.1, 23.4] days". */
export function daysRange(ci: readonly [number, number] | null | undefined): string {
  if (!ci || !isNumber(ci[0]) || !isNumber(ci[1])) return DASH
  return `[${ci[0].toFixed(1)}, ${ci[1].toFixed(1)}] days`
}

/** A share who purchased by a day: `purchaseShare(0.1234)` → "12.3%". */
export const purchaseShare = (p: number | null | undefined): string => percent(p, 1)

/** Its interval: `purchaseInterval([0.11, 0.135])` → "[11.0%, 13.5%]". */
export function purchaseInterval(ci: readonly [number, number] | null | undefined): string {
  if (!ci || !isNumber(ci[0]) || !isNumber(ci[1])) return DASH
  return `[${purchaseShare(ci[0])}, ${purchaseShare(ci[1])}]`
}

/** The median where it is reached, "not reached" in words otherwise (fewer than half have purchased). */
export function medianText(km: Pick<Survival, 'median' | 'medianCi'> | null | undefined): { reached: boolean; text: string; interval: string | null } {
  if (!km || !isNumber(km.median)) return { reached: false, text: 'not reached', interval: null }
  const [lo, hi] = km.medianCi ?? [null, null]
  const interval = isNumber(lo) || isNumber(hi) ? `[${isNumber(lo) ? lo.toFixed(1) : DASH}, ${isNumber(hi) ? hi.toFixed(1) : 'not reached'}] days` : null
  return { reached: true, text: plainDays(km.median), interval }
}

/** The days the purchase-by table shows: the union of every arm's `purchaseBy` days, in order. */
export function purchaseByDays(survival: ReadonlyArray<Pick<Survival, 'purchaseBy'>> | null | undefined): number[] {
  return [...new Set((survival ?? []).flatMap((s) => (s.purchaseBy ?? []).map((p) => p.day)))].sort((a, b) => a - b)
}

/**
 * One sentence for the chosen baseline: the comparison with the smallest (adjusted) p-value in days sooner or
 * later, with the interval the verdict used and whether it is significant.
 * `timeToPurchaseHeadline(m, 'control', names)` → "15% off brings the first purchase 1.5 days sooner vs control
 * within 30 days (95% CI −1.9 to −1.0 days, p < 0.001)."
 */
export function timeToPurchaseHeadline(m: Pick<MetricResult, 'comparisons'>, against: Baseline, names: (key: string) => string): string {
  const vs = `vs ${against}`
  const mine = m.comparisons.filter((c) => c.against === against)
  if (!mine.length) return `Time to first purchase: no arm to compare ${vs}.`
  const estimable = mine.filter((c) => isNumber(c.estimate) && !c.notEstimable)
  if (!estimable.length) return `Time to first purchase: not estimable ${vs} yet (${mine[0].notEstimable?.message ?? 'not enough data'}).`
  const p = (c: MetricComparison) => c.adjustedPValue ?? c.pValue ?? 1
  const best = [...estimable].sort((a, b) => p(a) - p(b))[0]
  const within = isNumber(best.horizonDays) ? ` within ${best.horizonDays} days` : ''
  const ci = best.ci ? `${confidence(best.level, best.alpha)} CI ${signedDays(best.ci[0])} to ${signedDays(best.ci[1])} days` : 'interval unbounded'
  if (!best.significant)
    return `${names(best.variant)} shows no detectable change in days to first purchase ${vs}${within} (${signedDays(best.estimate)} days, ${ci}; not significant).`
  return `${names(best.variant)} brings the first purchase ${daysSooner(best.estimate)} ${vs}${within} (${ci}, ${pText(p(best))})${best.estimate! > 0 ? ' — a change in the wrong direction' : ''}.`
}
