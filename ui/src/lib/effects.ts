import { DASH, pValue } from './format.ts'
import { interval, metricDelta } from './metricFormat.ts'
import type { Baseline, MetricComparison, MetricFormat, MetricResult } from './reports.ts'

/**
 * A comparison's effect in the units it was computed in: a relative lift as a percentage, or — when control's
 * value is 0 (redemption) and the report fell back to the absolute difference — in the metric's own units
 * ("+12.9 pp"). The interval shown is always the family-adjusted `ci` the verdict was made with.
 */

type Effect = Pick<MetricComparison, 'kind' | 'fallback' | 'estimate' | 'ci'> & { rawCi?: [number, number] | null; level?: number }

/** True when the comparison's estimate and interval are an absolute difference, not a relative lift. */
export const isAbsolute = (c: Pick<Effect, 'kind' | 'fallback'>): boolean => c.fallback === 'absolute' || c.kind === 'absolute'

const relative = (x: number) => {
  const r = Number((x * 100).toFixed(1))
  return `${r > 0 ? '+' : r < 0 ? '\u2212' : ''}${Math.abs(r === 0 ? 0 : r).toFixed(1)}%`
}

/** `effectText(c, 'percent')` → "+29.8%" for a lift, "+12.9 pp" for an absolute fallback on a rate. */
export function effectText(c: Effect, format: MetricFormat, currency = 'USD', x: number | null = c.estimate): string {
  if (x === null || !Number.isFinite(x)) return DASH
  return isAbsolute(c) ? metricDelta(format, x, currency) : relative(x)
}

/** The displayed (adjusted) interval: "[+1.2%, +8.0%]", or "[+3.1 pp, +9.0 pp]" for an absolute fallback. */
export function effectInterval(c: Effect, format: MetricFormat, currency = 'USD', ci = c.ci): string {
  return interval(ci, (x) => effectText(c, format, currency, x))
}

const sameInterval = (a: [number, number] | null | undefined, b: [number, number] | null | undefined) =>
  !!a && !!b && Math.abs(a[0] - b[0]) < 1e-9 && Math.abs(a[1] - b[1]) < 1e-9

/** "unadjusted [a, b]" when the family adjustment widened the interval; null when they are the same. */
export function unadjustedNote(c: Effect, format: MetricFormat, currency = 'USD'): string | null {
  if (!c.rawCi || sameInterval(c.ci, c.rawCi)) return null
  return `unadjusted ${effectInterval(c, format, currency, c.rawCi)}`
}

/** The confidence of the displayed interval: level 0.05 → "95%", 0.0125 → "98.75%". */
export const confidence = (level: number | undefined, fallbackAlpha = 0.05) => `${+((1 - (level ?? fallbackAlpha)) * 100).toFixed(2)}%`

/** "p < 0.001" or "p = 0.042" — never "p = < 0.001". */
export const pText = (p: number | null | undefined): string => {
  const text = pValue(p)
  return text.startsWith('<') ? `p ${text}` : `p = ${text}`
}

/** The magnitude of an effect without its sign, for "raised … by 29.8%" and "lowered … by 29.8%". */
function magnitude(c: Effect, format: MetricFormat, currency: string): string {
  return effectText(c, format, currency, Math.abs(c.estimate ?? 0)).replace(/^[+\u2212-]/, '')
}

/**
 * One sentence for a metric against the chosen baseline (control or holdout): the comparison with the smallest
 * (adjusted) p-value, its direction in words, the displayed interval and the verdict the API decided.
 */
export function metricHeadline(
  m: Pick<MetricResult, 'label' | 'format' | 'higherIsBetter' | 'comparisons'>,
  against: Baseline,
  names: (key: string) => string,
  currency = 'USD',
): string {
  const vs = `vs ${against}`
  const mine = m.comparisons.filter((c) => c.against === against)
  if (!mine.length) return `${m.label}: no arm to compare ${vs}.`
  const estimable = mine.filter((c) => c.estimate !== null && Number.isFinite(c.estimate) && !c.notEstimable)
  if (!estimable.length) return `${m.label}: not estimable ${vs} yet (${mine[0].notEstimable?.message ?? 'not enough data'}).`
  const p = (c: MetricComparison) => c.adjustedPValue ?? c.pValue ?? 1
  const best = [...estimable].sort((a, b) => p(a) - p(b))[0] as MetricComparison & Effect
  const arm = names(best.variant)
  const name = m.label.charAt(0).toLowerCase() + m.label.slice(1)
  const ci = best.ci
    ? `${confidence(best.level, best.alpha)} CI ${effectInterval(best, m.format, currency).slice(1, -1).replace(', ', ' to ')}`
    : 'interval unbounded: the baseline is too close to 0'
  const zero = isAbsolute(best) && best.fallback === 'absolute' ? '; an absolute difference, the baseline’s value is 0' : ''
  if (!best.significant) return `${arm} shows no detectable change in ${name} ${vs} (${effectText(best, m.format, currency)}, ${ci}; not significant${zero}).`
  const up = best.estimate! > 0
  const good = up === m.higherIsBetter
  return `${arm} ${up ? 'raised' : 'lowered'} ${name} by ${magnitude(best, m.format, currency)} ${vs} (${ci}, ${pText(p(best))}${zero})${good ? '' : ' — a change in the wrong direction'}.`
}

type Guarded = Effect & { guardrail?: { ci: [number, number]; estimate: number; margin: number; harmDirection: 'increase' | 'decrease' } }

/**
 * What a row's interval bar draws. A guardrail row draws its harm test — the absolute difference, its interval
 * and the margin on the harm side (+margin when an increase harms, −margin when a decrease does); any other row
 * draws the displayed interval of its verdict.
 */
export function barInputs(c: Guarded): { ci: [number, number] | null; estimate: number | null; margin: number | null; absolute: boolean } {
  const g = c.guardrail
  if (g && g.ci && Number.isFinite(g.ci[0]) && Number.isFinite(g.ci[1])) {
    return { ci: g.ci, estimate: g.estimate, margin: g.harmDirection === 'increase' ? g.margin : -g.margin, absolute: true }
  }
  return { ci: c.ci, estimate: c.estimate, margin: null, absolute: isAbsolute(c) }
}
