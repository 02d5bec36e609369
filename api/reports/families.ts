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
import type { Analysis, FamilyMethod, MetricKey } from '../experiments/schema.ts'
import type { Family, FamilyComparison, GuardrailResult, MetricComparison } from '../contract/comparisons.ts'
import { compareMetric, type ComparisonSettings } from './arm-comparisons.ts'
import type { ArmStatsRow } from './sql/arm-stats.ts'
import type { MetricDefinition } from './metric-definitions.ts'

export function familyOf(metric: MetricKey, against: 'control' | 'holdout', analysis: Pick<Analysis, 'primaryMetric' | 'guardrails'>): Family {
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
 */
export function familyMember(
  def: MetricDefinition,
  baseline: ArmStatsRow,
  variant: ArmStatsRow,
  against: 'control' | 'holdout',
  settings: ComparisonSettings,
): Member | null {
  const compare = (alpha: number) => compareMetric(def, baseline, variant, against, { ...settings, alpha, designAlpha: settings.alpha })
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
  margins: Partial<Record<MetricKey, number>>,
  method: FamilyMethod,
  alpha: number,
): Array<GuardrailResult | null> {
  const inputs = members.map((m) => {
    const abs = m.comparison.absolute
    if (abs.estimate === null || abs.standardError === null || !(abs.standardError > 0)) return null
    const margin = margins[m.def.key] ?? 0
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
