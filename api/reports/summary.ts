import type { MetricDefinition } from './metric-definitions.ts'
import type { FamilyComparison } from '../contract/comparisons.ts'

const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`

/** An absolute difference in the metric's own unit: "+4.10" money, "+1.2 pp" rates, "+0.35" counts. */
function signed(x: number, format: MetricDefinition['format']): string {
  const sign = x >= 0 ? '+' : '−'
  if (format === 'percent') return `${sign}${Math.abs(x * 100).toFixed(1)} pp`
  if (format === 'currency') return `${sign}$${Math.abs(x).toFixed(2)}`
  return `${sign}${Math.abs(x).toFixed(2)}`
}

const methodName: Record<string, string> = { holm: 'Holm', bonferroni: 'Bonferroni', bh: 'Benjamini–Hochberg' }
const pText = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`)

/**
 * One sentence an analyst can paste into a decision note: the clearest variant-vs-control result for the
 * metric, in words, with the interval shown beside its verdict (the family-adjusted one) — so the sentence,
 * the badge and the interval always say the same thing.
 */
export function summarizeMetric(def: MetricDefinition, comparisons: FamilyComparison[], armNames: Map<string, string>): string {
  const vsControl = comparisons.filter((c) => c.against === 'control')
  const name = def.label.toLowerCase()
  if (!vsControl.length) return `${def.label}: no variant to compare with the control.`
  const estimable = vsControl.filter((c) => c.estimate !== null && c.pValue !== null)
  if (!estimable.length) return `${def.label}: not estimable yet (${vsControl[0].notEstimable?.message ?? 'not enough data'}).`
  const p = (c: FamilyComparison) => c.adjustedPValue ?? c.pValue ?? 1
  const best = [...estimable].sort((a, b) => p(a) - p(b))[0]
  const arm = armNames.get(best.variant) ?? best.variant
  const relative = best.kind === 'relative'
  const fmt = (x: number) => (relative ? pct(x) : signed(x, def.format))
  const magnitude = (x: number) => (relative ? `${Math.abs(x * 100).toFixed(1)}%` : signed(Math.abs(x), def.format).slice(1))
  const level = `${+((1 - best.level) * 100).toFixed(2)}%`
  const ci = best.ci ? `${level} CI ${fmt(best.ci[0])} to ${fmt(best.ci[1])}` : 'interval unbounded: the control’s value is too close to 0'
  const adjusted = best.adjustedPValue != null && best.adjustment ? `, ${methodName[best.adjustment] ?? best.adjustment}-adjusted` : ''
  const zero = best.fallback === 'absolute' ? ' (no relative lift: control’s value is 0)' : ''
  if (!best.significant) return `${arm} shows no detectable change in ${name} vs control (${fmt(best.estimate!)}, ${ci}; not significant${adjusted})${zero}.`
  const up = best.estimate! > 0
  const good = up === def.higherIsBetter
  return `${arm} ${up ? 'raised' : 'lowered'} ${name} by ${magnitude(best.estimate!)} vs control (${ci}), significant (${pText(p(best))}${adjusted})${zero}${good ? '' : ' — a change in the wrong direction'}.`
}
