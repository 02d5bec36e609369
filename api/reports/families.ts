/**
 * Test families and the intervals that go with their verdicts (docs/statistics.md → Test families).
 *
 * Every comparison of a report belongs to one family: the *decision* family (primary metric, each variant vs
 * control), *guardrails* (vs control, also tested one-sided for harm against a margin), *secondary* metrics
 * (vs control), and *holdout* comparisons (every arm, every metric, vs the experiment holdout). Each family is
 * adjusted with its own method; each comparison's displayed interval is recomputed at the level its family
 * gives it, so "significant" holds exactly when that interval excludes 0. The raw interval is kept beside it.
 */
import { familyLevels, guardrailTest } from '../../stats/index.ts'
import type { Analysis, FamilyMethod } from '../experiments/schema.ts'
import type { Family, FamilyComparison, GuardrailResult, MetricComparison } from '../contract/comparisons.ts'
import type { ReportArm } from '../contract/report.ts'
import { armValue, compareMetric, metricN, rowOrEmpty, type ComparisonSettings } from './arm-comparisons.ts'
import type { ArmStatsRow } from './sql/arm-stats.ts'
import type { MetricDefinition } from './metric-definitions.ts'

/** A metric's family by its key: a catalogue metric is a guardrail when listed as one, else secondary. */
export function familyOf(metric: string, against: 'control' | 'holdout', analysis: Pick<Analysis, 'primaryMetric' | 'guardrails'>): Family {
  if (against === 'holdout') return 'holdout'
  if (metric === analysis.primaryMetric) return 'decision'
  if (analysis.guardrails.includes(metric)) return 'guardrail'
  return 'secondary'
}

export const familyMethodKey: Record<Family, keyof Analysis['families']> = {
  decision: 'decision',
  guardrail: 'guardrails',
  secondary: 'secondary',
  holdout: 'holdout',
}

export interface Member {
  comparison: MetricComparison
  def: MetricDefinition
  /** Recomputes the comparison with its interval at another two-sided level. */
  at(level: number): MetricComparison
}

/**
 * One comparison as a family member: computed at the experiment's α, and recomputable at a family's level
 * (a confidence sequence keeps its mixing parameter tuned at α). Null when the metric has no comparison.
 * `metric` names the comparison when it is not `def.key` (a catalogue metric read through a built-in's shape).
 */
export function familyMember(
  def: MetricDefinition,
  baseline: ArmStatsRow,
  variant: ArmStatsRow,
  against: 'control' | 'holdout',
  settings: ComparisonSettings,
  metric: string = def.key,
): Member | null {
  const compare = (alpha: number) => {
    const c = compareMetric(def, baseline, variant, against, { ...settings, alpha, designAlpha: settings.alpha })
    return c && { ...c, metric }
  }
  const comparison = compare(settings.alpha)
  return comparison ? { comparison, def, at: (level) => compare(level)! } : null
}

/**
 * Adjusts one family: adjusted p-values, the per-comparison level, the interval at that level and the verdict.
 * Returns the comparisons with their family fields (new objects).
 */
export function adjustFamily(members: Member[], family: Family, method: FamilyMethod, alpha: number): FamilyComparison[] {
  const { adjustedPValues, levels, significant } = familyLevels(
    members.map((m) => m.comparison.pValue),
    method,
    alpha,
  )
  return members.map((m, i) => {
    const level = levels[i] ?? alpha
    const shown = level === m.comparison.alpha ? m.comparison : m.at(level)
    return {
      ...shown,
      // The verdict and p-values of the α-level comparison; only the intervals move to the family's level.
      pValue: m.comparison.pValue,
      alpha,
      adjustedPValue: method === 'none' ? undefined : adjustedPValues[i],
      adjustment: method === 'none' ? undefined : method,
      significant: significant[i],
      family,
      level,
      rawCi: m.comparison.ci,
    } as FamilyComparison
  })
}

/**
 * The guardrail family: each guardrail comparison's absolute difference tested one-sided for harm beyond its
 * margin, the harm p-values adjusted together with the family's method.
 */
export function guardrailResults(
  members: Member[],
  margins: Partial<Record<string, number>>,
  method: FamilyMethod,
  alpha: number,
): Array<GuardrailResult | null> {
  const inputs = members.map((m) => {
    const abs = m.comparison.absolute
    if (abs.estimate === null || abs.standardError === null || !(abs.standardError > 0)) return null
    // By the comparison's metric: a catalogue metric is read through a built-in's shape (def.key is that built-in's).
    const margin = margins[m.comparison.metric] ?? 0
    const harmDirection = m.def.higherIsBetter ? ('decrease' as const) : ('increase' as const)
    return { input: { estimate: abs.estimate, standardError: abs.standardError, df: abs.df }, margin, harmDirection }
  })
  const first = inputs.map((x) => (x ? guardrailTest(x.input, x.margin, alpha, x.harmDirection) : null))
  const { adjustedPValues, levels } = familyLevels(
    first.map((g) => (g ? g.harmPValue : null)),
    method,
    alpha,
  )
  return inputs.map((x, i) => {
    if (!x) return null
    const level = levels[i] ?? alpha
    const g = guardrailTest(x.input, x.margin, level, x.harmDirection)
    return {
      margin: x.margin,
      harmDirection: x.harmDirection,
      status: g.status,
      estimate: x.input.estimate,
      ci: g.ci,
      harmPValue: first[i]!.harmPValue,
      adjustedHarmPValue: method === 'none' ? null : adjustedPValues[i],
      level,
    }
  })
}

/** The report's comparisons: each variant vs control, and every arm (control included) vs the experiment holdout. */
export function comparePairs(arms: ReportArm[]): Array<[string, string, 'control' | 'holdout']> {
  const control = arms.find((a) => a.isControl)!
  const pairs: Array<[string, string, 'control' | 'holdout']> = []
  for (const a of arms) if (!a.isControl && !a.isHoldout) pairs.push([control.key, a.key, 'control'])
  if (arms.some((a) => a.isHoldout)) for (const a of arms) if (!a.isHoldout) pairs.push(['holdout', a.key, 'holdout'])
  return pairs
}

/**
 * One metric as the families take it: its key, the definition the comparison code reads (a catalogue metric is
 * read through a built-in's shape, api/metrics/arm-values.ts), each arm's statistics row, settings and values.
 */
export interface MetricSlot {
  key: string
  def: MetricDefinition
  rows: Map<string, ArmStatsRow>
  settings: ComparisonSettings
  values: Array<{ arm: string; n: number; value: number | null }>
  /** A metric the comparison code cannot read from rows (a quantile) brings its own family members. */
  member?: (baseline: string, variant: string, against: 'control' | 'holdout') => Member | null
}

/** Built-in metrics as slots over the report's arm rows. */
export function builtInSlots(defs: MetricDefinition[], rows: Map<string, ArmStatsRow>, arms: ReportArm[], settings: ComparisonSettings): MetricSlot[] {
  return defs.map((def) => ({
    key: def.key,
    def,
    rows,
    settings,
    values: arms.map((a) => ({ arm: a.key, n: metricN(def, rowOrEmpty(rows, a.key)), value: armValue(def, rowOrEmpty(rows, a.key)) })),
  }))
}

export interface Computed {
  slot: MetricSlot
  comparisons: FamilyComparison[]
}

/**
 * Every comparison of the given metrics, adjusted family by family: the decision, guardrail, secondary and holdout
 * families each get their own method over all their members (catalogue metrics join the secondary and holdout
 * families with the built-in ones), and each comparison's interval its family's level.
 */
export function metricResults(slots: MetricSlot[], arms: ReportArm[], analysis: Analysis): Computed[] {
  const pairs = comparePairs(arms)
  const withMembers = slots.map((slot) => ({
    slot,
    members: pairs.flatMap(
      ([b, v, against]) =>
        (slot.member
          ? slot.member(b, v, against)
          : familyMember(slot.def, rowOrEmpty(slot.rows, b), rowOrEmpty(slot.rows, v), against, slot.settings, slot.key)) ?? [],
    ),
  }))
  const adjusted = new Map<MetricComparison, FamilyComparison>()
  for (const family of ['decision', 'guardrail', 'secondary', 'holdout'] as Family[]) {
    const members = withMembers.flatMap((s) => s.members.filter((m) => familyOf(s.slot.key, m.comparison.against, analysis) === family))
    if (!members.length) continue
    const method = analysis.families[familyMethodKey[family]]
    const out = adjustFamily(members, family, method, analysis.alpha)
    const guardrails = family === 'guardrail' ? guardrailResults(members, analysis.guardrailMargins, method, analysis.alpha) : null
    members.forEach((m, i) => adjusted.set(m.comparison, guardrails?.[i] ? { ...out[i], guardrail: guardrails[i]! } : out[i]))
  }
  return withMembers.map((s) => ({ slot: s.slot, comparisons: s.members.map((m) => adjusted.get(m.comparison)!) }))
}
