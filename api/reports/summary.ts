import type { MetricDefinition } from './metric-definitions.ts'
import type { MetricComparison } from './arm-comparisons.ts'

const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`

/** An absolute difference in the metric's own unit: "+4.10" money, "+1.2 pp" rates, "+0.35" counts. */
function signed(x: number, format: MetricDefinition['format']): string {
  const sign = x >= 0 ? '+' : '−'
  if (format === 'percent') return `${sign}${Math.abs(x * 100).toFixed(1)} pp`
  if (format === 'currency') return `${sign}$${Math.abs(x).toFixed(2)}`
  return `${sign}${Math.abs(x).toFixed(2)}`
}

/**
 * One sentence an analyst can paste into a decision note: the clearest variant-vs-control result for the
 * metric, in words, with its interval and whether it survives the multiple-testing adjustment.
 */
export function summarizeMetric(def: MetricDefinition, comparisons: MetricComparison[], armNames: Map<string, string>, adjustment: string): string {
  const vsControl = comparisons.filter((c) => c.against === 'control')
  const estimable = vsControl.filter((c) => c.estimate !== null && c.ci !== null)
  const name = def.label.toLowerCase()
  if (!vsControl.length) return `${def.label}: no variant to compare with the control.`
  if (!estimable.length) {
    // A zero baseline (no incentive cost in control) has no relative lift, but the absolute difference is the story.
    const absolute = vsControl.find((c) => c.absolute.estimate !== null && c.absolute.ci !== null)
    if (absolute) {
      const arm = armNames.get(absolute.variant) ?? absolute.variant
      const [lo, hi] = absolute.absolute.ci!
      return `${arm}: ${signed(absolute.absolute.estimate!, def.format)} ${name} vs control (${Math.round((1 - absolute.alpha) * 100)}% CI ${signed(lo, def.format)} to ${signed(hi, def.format)}); no relative lift because control's is 0.`
    }
    return `${def.label}: not estimable yet (${vsControl[0].notEstimable?.message ?? 'not enough data'}).`
  }
  const p = (c: MetricComparison) => c.adjustedPValue ?? c.pValue ?? 1
  const best = [...estimable].sort((a, b) => p(a) - p(b))[0]
  const arm = armNames.get(best.variant) ?? best.variant
  const ci = `95% CI ${pct(best.ci![0])} to ${pct(best.ci![1])}`.replace('95%', `${Math.round((1 - best.alpha) * 100)}%`)
  const adjusted = adjustment === 'none' ? '' : ` after ${adjustment === 'holm' ? 'Holm' : 'Benjamini–Hochberg'} adjustment`
  if (!best.significant) return `${arm} shows no detectable change in ${name} vs control (${pct(best.estimate!)}, ${ci}; not significant${adjusted}).`
  const up = best.estimate! > 0
  const good = up === def.higherIsBetter
  return `${arm} ${up ? 'raised' : 'lowered'} ${name} by ${pct(best.estimate!)} vs control (${ci}), significant${adjusted} (p = ${p(best) < 0.001 ? '< 0.001' : p(best).toFixed(3)})${good ? '' : ' — a change in the wrong direction'}.`
}
