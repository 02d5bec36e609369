/**
 * What to do now, and why: the pre-registered success criteria evaluated against the report, then one
 * recommendation — ship an arm, keep running (with the days still needed), stop, roll back a harmful arm,
 * or investigate a broken split first. Pure: it reads only the report's own numbers, so a recommendation never
 * says more than the intervals beside it (docs/statistics.md → Success criteria and the recommendation).
 */
import type { Experiment } from '../experiments/schema.ts'
import type { FamilyComparison } from '../contract/comparisons.ts'
import type { Health } from '../contract/health.ts'
import type { Action, ArmCriteria, CriterionResult, Recommendation } from '../contract/recommendation.ts'
import type { Economics } from '../contract/report.ts'
import type { MetricDefinition } from './metric-definitions.ts'

export interface RecommendationInput {
  exp: Experiment
  primary: MetricDefinition
  /** Primary metric, each variant vs control (the decision family). */
  decision: FamilyComparison[]
  /** Guardrail comparisons vs control. */
  guardrails: Array<{ def: MetricDefinition; comparison: FamilyComparison }>
  /** Each variant's primary-metric value. */
  values: Map<string, number | null>
  economics: Economics[]
  health: Health
  srmFlagged: boolean
  armName(key: string): string
  asOf: number
}

const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`
const money = (x: number) => `${x < 0 ? '−' : ''}$${Math.abs(x).toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 })}`
const improves = (c: FamilyComparison, def: MetricDefinition) => c.significant && c.estimate !== null && (def.higherIsBetter ? c.estimate > 0 : c.estimate < 0)

function sampleReached(health: Health): boolean {
  return health.power.nPerArmNeeded !== null && health.power.nPerArmReached >= health.power.nPerArmNeeded
}

function endPassed(exp: Experiment, asOf: number): boolean {
  const end = exp.analysis.successCriteria?.plannedEndDate
  return end !== undefined && Date.parse(`${end}T00:00:00Z`) <= asOf
}

/** Each criterion for one variant: met, not met, or not yet known, with the numbers that decide it. */
export function evaluateCriteria(input: RecommendationInput, c: FamilyComparison): CriterionResult[] {
  const { exp, primary, health } = input
  const sc = exp.analysis.successCriteria
  const out: CriterionResult[] = []
  const done = sampleReached(health) || endPassed(exp, input.asOf) || exp.status === 'stopped'
  const mwl = sc?.minimumLift ?? exp.analysis.mde
  const sign = primary.higherIsBetter ? 1 : -1
  if (c.kind !== 'relative' || c.estimate === null) {
    out.push({
      key: 'minimum_lift',
      label: `Lift of at least ${pct(mwl)}`,
      status: 'unknown',
      evidence: c.notEstimable?.message ?? 'the relative lift is not estimable (the control’s value is 0 or too close to it)',
    })
  } else {
    const good = sign * c.estimate
    const upper = c.ci ? Math.max(sign * c.ci[0], sign * c.ci[1]) : null
    const shown = `${pct(c.estimate)}${c.ci ? ` [${pct(c.ci[0])}, ${pct(c.ci[1])}]` : ''}`
    if (improves(c, primary) && good >= mwl)
      out.push({
        key: 'minimum_lift',
        label: `Lift of at least ${pct(mwl)}`,
        status: 'met',
        evidence: `${shown}: significant and at least the minimum worthwhile lift`,
      })
    else if (upper !== null && upper < mwl)
      out.push({
        key: 'minimum_lift',
        label: `Lift of at least ${pct(mwl)}`,
        status: 'not_met',
        evidence: `${shown}: the interval rules out a lift of ${pct(mwl)}`,
      })
    else if (improves(c, primary) && done)
      out.push({
        key: 'minimum_lift',
        label: `Lift of at least ${pct(mwl)}`,
        status: 'not_met',
        evidence: `${shown}: significant, but below the minimum worthwhile lift with the planned sample`,
      })
    else if (done)
      out.push({ key: 'minimum_lift', label: `Lift of at least ${pct(mwl)}`, status: 'not_met', evidence: `${shown}: not significant with the planned sample` })
    else out.push({ key: 'minimum_lift', label: `Lift of at least ${pct(mwl)}`, status: 'unknown', evidence: `${shown}: not decided yet` })
  }
  if (sc?.targetRate !== undefined) {
    const v = input.values.get(c.variant) ?? null
    const label = `${primary.label} of at least ${primary.format === 'percent' ? `${(sc.targetRate * 100).toFixed(1)}%` : sc.targetRate}`
    const shown = v === null ? 'no value yet' : primary.format === 'percent' ? `${(v * 100).toFixed(1)}%` : v.toFixed(2)
    const hit = v !== null && (primary.higherIsBetter ? v >= sc.targetRate : v <= sc.targetRate)
    out.push({ key: 'target_rate', label, status: hit ? 'met' : done ? 'not_met' : 'unknown', evidence: `observed ${shown}` })
  }
  const econ = input.economics.find((e) => e.arm === c.variant && e.against === 'control')
  if (sc?.netValueObjective && econ) {
    const { amount, per } = sc.netValueObjective
    const scale = per === 'per_1000' ? 1000 : econ.n
    const ci = econ.incrementalNetValuePerCustomer.ci
    const label = `Incremental net value of at least ${money(amount)} ${per === 'per_1000' ? 'per 1,000 customers' : 'in total'}`
    if (!ci) out.push({ key: 'net_value', label, status: 'unknown', evidence: 'not estimable yet' })
    else {
      const [lo, hi] = [ci[0] * scale, ci[1] * scale]
      const evidence = `${money((econ.incrementalNetValuePerCustomer.estimate ?? 0) * scale)} [${money(lo)}, ${money(hi)}]`
      out.push({ key: 'net_value', label, status: lo >= amount ? 'met' : hi < amount ? 'not_met' : done ? 'not_met' : 'unknown', evidence })
    }
  }
  if (sc?.maxCostPerIncrementalConversion !== undefined && econ) {
    const label = `Cost per incremental conversion at most ${money(sc.maxCostPerIncrementalConversion)}`
    const cost = econ.costPerIncrementalReactivation
    if (cost === null)
      out.push({ key: 'cost_per_conversion', label, status: done ? 'not_met' : 'unknown', evidence: 'no incremental conversions to spread the cost over' })
    else
      out.push({
        key: 'cost_per_conversion',
        label,
        status: cost <= sc.maxCostPerIncrementalConversion ? 'met' : 'not_met',
        evidence: `${money(cost)} per incremental reactivation`,
      })
  }
  return out
}

/** The criteria that concern the whole test rather than an arm: sample size and planned end. */
export function testCriteria(input: RecommendationInput): CriterionResult[] {
  const { health, exp } = input
  const out: CriterionResult[] = []
  const p = health.power
  out.push({
    key: 'sample_size',
    label:
      p.nPerArmNeeded === null
        ? 'Sample size'
        : `${p.nPerArmNeeded.toLocaleString('en-US')} customers per arm with a complete window (${p.basis === 'planned' ? 'planned' : `to detect ${pct(p.minimumLift)} with 80% power`})`,
    status: p.nPerArmNeeded === null ? 'unknown' : p.nPerArmReached >= p.nPerArmNeeded ? 'met' : 'unknown',
    evidence:
      p.nPerArmNeeded === null
        ? (p.reason ?? 'cannot be planned yet')
        : `${p.nPerArmReached.toLocaleString('en-US')} reached (${Math.round((p.progress ?? 0) * 100)}%)`,
  })
  const end = exp.analysis.successCriteria?.plannedEndDate
  if (end)
    out.push({
      key: 'planned_end',
      label: `Planned end ${end}`,
      status: endPassed(exp, input.asOf) ? 'met' : 'unknown',
      evidence: endPassed(exp, input.asOf)
        ? 'the planned period is over'
        : `${Math.ceil((Date.parse(`${end}T00:00:00Z`) - input.asOf) / 86_400_000)} days left`,
    })
  return out
}

export function recommend(input: RecommendationInput): { recommendation: Recommendation; criteria: ArmCriteria[]; testCriteria: CriterionResult[] } {
  const { exp, primary, decision, health, armName } = input
  const criteria = decision.map((c) => ({ arm: c.variant, criteria: evaluateCriteria(input, c) }))
  const tests = testCriteria(input)
  const reached = sampleReached(health)
  const over = endPassed(exp, input.asOf)
  const result = (action: Action, arm: string | null, headline: string, reasons: string[], daysNeeded: number | null = null) => ({
    recommendation: { action, arm, headline, reasons, daysNeeded },
    criteria,
    testCriteria: tests,
  })

  if (input.srmFlagged) {
    return result('investigate', null, 'Investigate before deciding: the traffic split does not match the design', [
      'The sample-ratio-mismatch check failed (p < 0.001): customers are not reaching the arms in the configured proportions, so every comparison may be biased. Find the cause (targeting, a lost exposure log, a budget cut-off) before reading the lifts.',
    ])
  }
  const harmed = input.guardrails.filter((g) => g.comparison.guardrail?.status === 'harmed')
  if (harmed.length) {
    const g = harmed[0]
    const r = g.comparison.guardrail!
    const unit = g.def.format === 'percent' ? (x: number) => `${(x * 100).toFixed(2)} pp` : (x: number) => x.toFixed(2)
    return result('roll_back', g.comparison.variant, `Roll back ${armName(g.comparison.variant)}: it harms ${g.def.label.toLowerCase()}`, [
      ...harmed.map(
        (h) =>
          `${armName(h.comparison.variant)} changes ${h.def.label.toLowerCase()} by ${unit(h.comparison.guardrail!.estimate)} [${unit(h.comparison.guardrail!.ci[0])}, ${unit(h.comparison.guardrail!.ci[1])}], beyond the allowed ${unit(h.comparison.guardrail!.margin)} (one-sided test, ${h.comparison.guardrail!.adjustedHarmPValue !== null ? 'adjusted ' : ''}p ${formatP(h.comparison.guardrail!.adjustedHarmPValue ?? h.comparison.guardrail!.harmPValue)}).`,
      ),
      `A guardrail harmed beyond its margin outweighs a gain on ${primary.label.toLowerCase()}; margin ${unit(r.margin)}.`,
    ])
  }
  const winners = decision.filter((c) => improves(c, primary)).sort((x, y) => (primary.higherIsBetter ? y.estimate! - x.estimate! : x.estimate! - y.estimate!))
  const meets = (arm: string) => criteria.find((c) => c.arm === arm)!.criteria
  const shippable = winners.filter((w) =>
    meets(w.variant).every((k) => k.status === 'met' || (k.key !== 'minimum_lift' && k.status === 'unknown' && (reached || over))),
  )
  if (shippable.length) {
    const best = shippable[0]
    const lift = `${pct(best.estimate!)} [${pct(best.ci![0])}, ${pct(best.ci![1])}]`
    return result('ship', best.variant, `Ship ${armName(best.variant)}`, [
      `${armName(best.variant)} ${primary.higherIsBetter ? 'raises' : 'lowers'} ${primary.label.toLowerCase()} by ${lift} vs control, significant in the decision family${best.adjustment ? ` (${best.adjustment === 'bh' ? 'Benjamini–Hochberg' : 'Holm'}-adjusted p ${formatP(best.adjustedPValue ?? best.pValue!)})` : ''}.`,
      ...meets(best.variant).map((k) => `${k.label}: ${k.status === 'met' ? 'met' : 'not yet known'} — ${k.evidence}.`),
      ...(input.guardrails.length
        ? [`No guardrail is harmed beyond its margin (${[...new Set(input.guardrails.map((g) => g.def.label.toLowerCase()))].join(', ')}).`]
        : []),
    ])
  }
  const failing = winners.length
    ? winners.flatMap((w) =>
        meets(w.variant)
          .filter((k) => k.status === 'not_met')
          .map((k) => `${armName(w.variant)} — ${k.label}: not met (${k.evidence}).`),
      )
    : []
  if (winners.length && failing.length) {
    return result('stop', null, 'Stop: no arm meets the success criteria', [
      `${winners.map((w) => armName(w.variant)).join(', ')} ${winners.length > 1 ? 'improve' : 'improves'} ${primary.label.toLowerCase()} significantly, but:`,
      ...failing,
    ])
  }
  if (reached || over || exp.status === 'stopped') {
    return result('stop', null, 'Stop: no arm meets the success criteria', [
      `No variant improves ${primary.label.toLowerCase()} significantly ${reached ? 'with the planned sample' : over ? 'by the planned end date' : 'before the test stopped'}.`,
      ...decision.map(
        (c) =>
          `${armName(c.variant)}: ${c.estimate === null ? 'not estimable' : `${c.kind === 'relative' ? pct(c.estimate) : c.estimate.toFixed(3)}${c.ci ? ` [${c.kind === 'relative' ? pct(c.ci[0]) : c.ci[0].toFixed(3)}, ${c.kind === 'relative' ? pct(c.ci[1]) : c.ci[1].toFixed(3)}]` : ''}`}.`,
      ),
    ])
  }
  const p = health.power
  const days = health.daysNeeded
  return result(
    'keep_running',
    null,
    days !== null ? `Keep running: about ${days} more day${days === 1 ? '' : 's'} to reach the planned sample` : 'Keep running: not enough data to decide',
    [
      p.nPerArmNeeded !== null
        ? `${p.nPerArmReached.toLocaleString('en-US')} of ${p.nPerArmNeeded.toLocaleString('en-US')} customers per arm have a complete ${health.maturity.windowDays}-day window (needed to detect ${pct(p.minimumLift)} on ${primary.label.toLowerCase()} with 80% power).`
        : `The sample needed cannot be computed yet: ${p.reason ?? 'no baseline'}.`,
      ...(health.enrolmentPerArmPerDay
        ? [
            `Enrolment: ${Math.round(health.enrolmentPerArmPerDay).toLocaleString('en-US')} customers per arm per day; customers need ${health.maturity.windowDays} days after exposure before they count.`,
          ]
        : []),
      ...(winners.length
        ? [`${winners.map((w) => armName(w.variant)).join(', ')} already ${winners.length > 1 ? 'look' : 'looks'} better; some criteria are not yet known.`]
        : []),
    ],
    days,
  )
}

const formatP = (p: number) => (p < 0.001 ? '< 0.001' : `= ${p.toFixed(3)}`)
