/**
 * Segment heterogeneity of a breakdown (issue 20, item 5; docs/statistics.md → Segment heterogeneity): for the
 * primary metric, each variant's relative lift vs control in every segment (the scale the breakdown shows and the
 * offers act on: a multiplier on the segment's own baseline), Cochran's Q across the
 * segments, and each segment's deviation from the pooled effect of the others, corrected across every segment ×
 * variant of the breakdown as one Benjamini–Hochberg family with Benjamini–Yekutieli intervals.
 */
import { adjustDeviations, homogeneityTest, type HomogeneityTest, type SegmentEffect } from '../../stats/heterogeneity.ts'
import type { BreakdownHeterogeneity, SegmentDeviationResult, VariantHeterogeneity } from '../contract/heterogeneity.ts'
import type { MetricFormat, ReportArm } from '../contract/report.ts'
import { metricN, rowOrEmpty } from './arm-comparisons.ts'
import { familyMember, type MetricSlot } from './families.ts'

/** Customers each arm of a segment needs before the segment's effect is tested: the normal approximation needs them. */
export const MIN_ARM_N = 30

export interface HeterogeneityInput {
  /** Each segment's value and the primary metric as a slot over that segment's arm rows (null when not broken down). */
  segments: Array<{ value: string; slot: MetricSlot | null }>
  arms: ReportArm[]
  alpha: number
  metric: { key: string; label: string; format: MetricFormat; higherIsBetter: boolean }
  armName: (key: string) => string
}

interface Measured {
  variant: string
  effects: Array<SegmentEffect & { n: number }>
  skipped: Array<{ value: string; reason: string }>
}

/** The effect of `variant` vs `control` in one segment, or why it is left out. */
function segmentEffect(slot: MetricSlot, value: string, control: string, variant: string): (SegmentEffect & { n: number }) | { reason: string } {
  const nControl = metricN(slot.def, rowOrEmpty(slot.rows, control))
  const nVariant = metricN(slot.def, rowOrEmpty(slot.rows, variant))
  if (nControl < MIN_ARM_N || nVariant < MIN_ARM_N) return { reason: `fewer than ${MIN_ARM_N} customers in an arm` }
  const member = slot.member
    ? slot.member(control, variant, 'control')
    : familyMember(slot.def, rowOrEmpty(slot.rows, control), rowOrEmpty(slot.rows, variant), 'control', slot.settings, slot.key)
  const c = member?.comparison
  if (!c || c.estimate === null || c.standardError === null || !(c.standardError > 0))
    return { reason: c?.notEstimable?.message ?? 'no variation in the metric' }
  // The relative lift is the scale: a segment whose control is 0 (absolute fallback) or not distinguishable from 0 (an
  // unbounded Fieller interval) has no lift to compare.
  if (c.kind !== 'relative' || c.fallback === 'absolute') return { reason: 'no relative lift: the control’s value is 0' }
  if (c.ciUnbounded) return { reason: 'no relative lift: the control’s value is not distinguishable from 0' }
  return { segment: value, estimate: c.estimate, standardError: c.standardError, n: nControl + nVariant }
}

/** A relative lift or a difference of lifts, signed: "+12.5%", "−3.0%". */
export function signedLift(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`
}

/**
 * The breakdown's heterogeneity for the primary metric; null without a control and a variant, or when the primary
 * metric is not broken down (times to event and quantiles are not).
 */
export function breakdownHeterogeneity(input: HeterogeneityInput): BreakdownHeterogeneity | null {
  const control = input.arms.find((a) => a.isControl && !a.isHoldout)
  const variants = input.arms.filter((a) => !a.isControl && !a.isHoldout)
  if (!control || !variants.length || input.segments.every((s) => s.slot === null)) return null
  const measured: Measured[] = variants.map((v) => {
    const effects: Measured['effects'] = []
    const skipped: Measured['skipped'] = []
    for (const s of input.segments) {
      const e = s.slot ? segmentEffect(s.slot, s.value, control.key, v.key) : { reason: 'metric not broken down' }
      if ('reason' in e) skipped.push({ value: s.value, reason: e.reason })
      else effects.push(e)
    }
    return { variant: v.key, effects, skipped }
  })
  const testable = measured.filter((m) => m.effects.length >= 2)
  const tests = new Map<string, HomogeneityTest>(testable.map((m) => [m.variant, homogeneityTest(m.effects)]))
  const adjusted = tests.size ? adjustDeviations([...tests.values()], input.alpha) : []
  const byVariant = new Map([...tests.keys()].map((k, i) => [k, adjusted[i]]))
  const out: VariantHeterogeneity[] = measured.map((m) => {
    const t = tests.get(m.variant)
    const n = new Map(m.effects.map((e) => [e.segment, e.n]))
    const segments: SegmentDeviationResult[] = (byVariant.get(m.variant) ?? []).map((d) => ({
      value: d.segment,
      n: n.get(d.segment) ?? 0,
      estimate: d.estimate,
      standardError: d.standardError,
      rest: d.rest,
      deviation: d.deviation,
      deviationStandardError: d.deviationStandardError,
      pValue: d.pValue,
      adjustedPValue: d.adjustedPValue,
      level: d.level,
      ci: d.ci,
      differs: d.differs,
      direction: d.direction,
    }))
    const skipped = t ? m.skipped : [...m.skipped, ...m.effects.map((e) => ({ value: e.segment, reason: 'the only segment that could be tested' }))]
    return {
      variant: m.variant,
      baseline: control.key,
      k: t?.k ?? 0,
      pooled: t?.pooled ?? null,
      q: t?.q ?? null,
      df: t?.df ?? null,
      pValue: t?.pValue ?? null,
      iSquared: t?.iSquared ?? null,
      tauSquared: t?.tauSquared ?? null,
      segments,
      skipped,
    }
  })
  const count = out.reduce((s, v) => s + v.segments.length, 0)
  return {
    metric: input.metric.key,
    label: input.metric.label,
    format: input.metric.format,
    higherIsBetter: input.metric.higherIsBetter,
    scale: 'relative',
    alpha: input.alpha,
    adjustment: 'bh',
    tests: count,
    minArmN: MIN_ARM_N,
    variants: out,
    summary: summarize(out, count, input),
  }
}

function summarize(variants: VariantHeterogeneity[], tests: number, input: HeterogeneityInput): string {
  const metric = input.metric.label.toLowerCase()
  if (tests === 0) return `Too few customers per segment to test whether any segment responds differently on ${metric}.`
  const what = variants.length > 1 ? `segment × variant comparison${tests === 1 ? '' : 's'}` : `segment${tests === 1 ? '' : 's'}`
  const across = `after correction across ${tests} ${what} (Benjamini–Hochberg)`
  const differing = variants.flatMap((v) => v.segments.filter((s) => s.differs).map((s) => ({ v, s })))
  if (!differing.length) return `No segment responds differently from the average on ${metric} ${across}.`
  const level = `${+((1 - differing[0].s.level) * 100).toFixed(2)}%`
  const named = differing.map(
    ({ v, s }) =>
      `${s.value} to ${input.armName(v.variant)} (lift ${signedLift(s.estimate)} vs ${signedLift(s.rest.estimate)} in the other segments, difference ${level} CI ${signedLift(s.ci[0])} to ${signedLift(s.ci[1])})`,
  )
  return `Responds differently on ${metric} ${across}: ${named.join('; ')}.`
}
