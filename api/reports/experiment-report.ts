import { kaplanMeier, meanOf, purchaseProbabilityBy, restrictedMeanSurvival, sampleVariance, srmTest, type PlanningBaseline } from '../../stats/index.ts'
import { armShares } from '../assignment/index.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { FamilyComparison } from '../contract/comparisons.ts'
import type { ArmSurvival, LiftReport, MetricResult, ReportArm, SegmentResult } from '../contract/report.ts'
import { customerWindowParams, enrolmentSql, enrollmentCutoff } from './sql/customer-window.ts'
import { testHealth } from './health.ts'
import { recommend } from './recommendation.ts'
import { armStatsSql, parseArmStats, type ArmStatsRow } from './sql/arm-stats.ts'
import { customerSlices, querySliced, singlePass, type SliceOptions } from './customer-slices.ts'
import { metricDefinitions, type MetricDefinition } from './metric-definitions.ts'
import { meanStats, rowOrEmpty, survivalRows, type ComparisonSettings } from './arm-comparisons.ts'
import { builtInSlots, comparePairs, metricResults, type MetricSlot } from './families.ts'
import {
  catalogueColumns,
  catalogueMetricResult,
  catalogueSlots,
  quantileResults,
  type CatalogueSlot,
  type ReportCatalogueMetric,
} from './catalogue-metrics.ts'
import { armEconomics } from './economics.ts'
import { summarizeMetric } from './summary.ts'
import { breakdownHeterogeneity } from './heterogeneity.ts'
import { breakdownSource, featureSegmentColumn, type FeatureBreakdown } from './feature-breakdown.ts'
import { storedPropertyColumns } from '../stores/property-columns.ts'

const DAY = 86_400_000

export interface ReportQuery {
  /** Outcome window in days; defaults to the experiment's attributionDays. */
  window?: number
  /** Built-in and catalogue metric keys to report (default: all of the experiment's). */
  metrics?: string[]
  /** Attribute captured at first exposure to break the report down by. */
  dimension?: string
  /** Report as of this instant (ms); defaults to now. */
  asOf?: number
  /** 'immature': also count customers whose window has not ended (their outcomes so far). */
  include?: 'immature'
}

export interface ReportOptions extends SliceOptions {
  /**
   * The experiment's catalogue metrics at their pinned versions (resolveCatalogueMetrics): reported as secondary
   * metrics. Without them the report has the built-in metrics only.
   */
  catalogue?: ReportCatalogueMetric[]
  /** The breakdown's `dimension` resolved to a feature or saved segment (feature-breakdown.ts); absent: an attribute. */
  breakdownBy?: FeatureBreakdown
}

/**
 * The experiment report: per-arm values of every metric over each customer's window from first exposure,
 * each variant vs control and each arm vs the experiment holdout (relative lift tested, absolute beside it),
 * p-values adjusted across the report, CUPED and sequential intervals as configured, the SRM check against
 * the configured split, offer economics, Kaplan–Meier curves and an optional segment breakdown.
 */
export async function experimentReport(ch: ClickHouse, exp: Experiment, q: ReportQuery = {}, now = Date.now(), opts: ReportOptions = {}): Promise<LiftReport> {
  const a = exp.analysis
  const asOf = q.asOf ?? now
  const attributionDays = q.window ?? a.attributionDays
  const includeImmature = q.include === 'immature'
  const params = {
    ...customerWindowParams({
      experimentId: exp.id,
      asOfMs: asOf,
      attributionMs: attributionDays * DAY,
      ltvMs: a.ltvDays * DAY,
      lookbackMs: a.cuped.lookbackDays * DAY,
      marginRate: a.defaultMarginRate,
      enrolledUntilMs: enrollmentCutoff(exp, asOf),
      includeImmature,
    }),
    winsorP: a.winsorize.percentile,
  }
  const winsorize = a.winsorize.enabled
  const wanted = new Set<string>(q.metrics?.length ? q.metrics : [...metricDefinitions.map((m) => m.key), ...(opts.catalogue ?? []).map((m) => m.ref.key)])
  const defs = metricDefinitions.filter((m) => wanted.has(m.key))
  // A catalogue primary metric or guardrail is computed even when not asked for: the recommendation reads them.
  const decides = (key: string) => key === a.primaryMetric || a.guardrails.includes(key)
  const catalogue = (opts.catalogue ?? []).filter((m) => wanted.has(m.ref.key) || decides(m.ref.key))
  const settings: ComparisonSettings = {
    alpha: a.alpha,
    sequentialTuning: a.sequential.enabled ? a.sequential.tuning : null,
    cuped: a.cuped.enabled,
    windowDays: attributionDays,
  }

  // Catalogue metrics are columns of the same pass over the customers.
  const compiled = catalogueColumns(exp, catalogue, catalogue.length ? await storedPropertyColumns(ch) : undefined)
  const queryParams = { ...params, ...compiled?.params }
  // Winsorization (and a catalogue percentile cap) caps at a percentile over all customers, so it needs them in one pass.
  const slices = winsorize || compiled?.singlePass ? singlePass : await customerSlices(ch, exp.id, asOf, opts.customersPerSlice)
  const statOpts = { winsorize, catalogue: compiled ?? undefined }
  const statRows = await querySliced(ch, slices, (shape) => armStatsSql({ ...statOpts, segmented: false }, shape), queryParams, ['arm'])
  const segmentBy = q.dimension && opts.breakdownBy ? await featureSegmentColumn(ch, opts.breakdownBy, params) : undefined
  const segmentRows = q.dimension
    ? await querySliced(
        ch,
        slices,
        (shape) => armStatsSql({ ...statOpts, segmented: true, segmentBy: segmentBy?.column }, shape),
        { ...queryParams, ...segmentBy?.params, dimension: q.dimension },
        ['arm', 'segment'],
      )
    : []
  const rows = new Map(statRows.map((r) => parseArmStats(r)).map((r) => [r.arm, r]))
  const enrolment = (await querySliced(ch, slices, enrolmentSql, params, ['arm', 'day'])).map((r) => ({
    arm: String(r.arm),
    day: String(r.day),
    enrolled: Number(r.enrolled),
    immature: Number(r.immature),
  }))

  const shares = armShares(exp)
  const armList: ReportArm[] = [
    ...(exp.holdoutPct > 0 ? [{ key: 'holdout', name: 'Holdout (no message)', isControl: false, isHoldout: true, offer: null }] : []),
    ...exp.arms.map((arm) => ({ key: arm.key, name: arm.name, isControl: arm.isControl, isHoldout: false, offer: arm.offer })),
  ].map((arm) => ({ ...arm, n: rowOrEmpty(rows, arm.key).n, expectedShare: shares[arm.key] ?? 0, observedShare: null as number | null }))
  const total = armList.reduce((s, arm) => s + arm.n, 0)
  for (const arm of armList) arm.observedShare = total > 0 ? arm.n / total : null
  const quantiles = await quantileResults(ch, exp, catalogue, asOf, q.include)
  const extra = catalogueSlots(exp, catalogue, compiled, rows as unknown as Map<string, Record<string, unknown>>, quantiles)
  const catalogueDecision = extra.filter((x) => decides(x.key))
  // A catalogue metric decides under its own key and name (its def is read through a built-in's shape).
  const ownDef = (slot: MetricSlot): MetricDefinition =>
    catalogueDecision.includes(slot as CatalogueSlot)
      ? { ...slot.def, key: slot.key as MetricDefinition['key'], label: (slot as CatalogueSlot).label }
      : slot.def
  const primarySlot = catalogueDecision.find((x) => x.key === a.primaryMetric)
  const primaryDef = primarySlot ? ownDef(primarySlot) : (metricDefinitions.find((m) => m.key === a.primaryMetric) ?? metricDefinitions[1])
  const controlKey = exp.arms.find((x) => x.isControl)!.key
  const health = testHealth({
    exp,
    rows: enrolment,
    arms: armList.map((x) => ({ key: x.key, expectedShare: x.expectedShare, isHoldout: x.isHoldout })),
    asOf,
    enrolledUntil: enrollmentCutoff(exp, asOf),
    windowDays: attributionDays,
    includeImmature,
    baseline: primarySlot
      ? planningBaseline(primarySlot.def, rowOrEmpty(primarySlot.rows, controlKey))
      : planningBaseline(primaryDef, rowOrEmpty(rows, controlKey)),
  })
  // The split is checked on every enrolled customer, whether or not their window has ended.
  const enrolled = health.maturity.byArm.map((x) => x.enrolled)
  const srm =
    health.maturity.enrolled > 0
      ? {
          ...srmTest(
            enrolled,
            armList.map((x) => x.expectedShare),
          ),
          expected: shares,
          observed: Object.fromEntries(armList.map((x, i) => [x.key, enrolled[i]])),
        }
      : null

  const everything = metricResults([...builtInSlots(defs, rows, armList, settings), ...extra], armList, a)
  const computed = everything.slice(0, defs.length).map(({ slot, comparisons }) => ({ def: slot.def, values: slot.values, comparisons }))

  const armNames = new Map(armList.map((x) => [x.key, x.name]))
  const catalogueResults = everything.slice(defs.length).map(({ comparisons }, i) => {
    const slot = extra[i]
    const windowDays = slot.settings.windowDays
    const curves =
      slot.def.kind === 'survival' && windowDays
        ? survival(
            [...slot.rows.values()].filter((r) => r.n > 0),
            a.alpha,
            windowDays,
            'survival',
          )
        : null
    return catalogueMetricResult(slot, comparisons, armNames, curves ? armList.map((x) => ({ arm: x.key, ...(curves.get(x.key) ?? emptySurvival) })) : null, {
      isPrimary: slot.key === a.primaryMetric,
      isGuardrail: a.guardrails.includes(slot.key),
    })
  })
  const builtInResults: MetricResult[] = computed.map(({ def, values, comparisons }) => {
    const curves = def.kind === 'survival' ? survival([...rows.values()], a.alpha, attributionDays, def.survivalColumn ?? 'survival') : null
    return {
      key: def.key,
      label: def.label,
      kind: def.kind,
      format: def.format,
      higherIsBetter: def.higherIsBetter,
      isPrimary: def.key === a.primaryMetric,
      isGuardrail: a.guardrails.includes(def.key),
      values,
      comparisons,
      ...(curves ? { survival: armList.map((x) => ({ arm: x.key, ...(curves.get(x.key) ?? emptySurvival) })) } : {}),
      summary: curves ? survivalSummary(def, armList, curves, comparisons, attributionDays) : summarizeMetric(def, comparisons, armNames),
    }
  })
  const metrics = [...builtInResults, ...catalogueResults.filter((m) => wanted.has(m.key))]

  const economics = comparePairs(armList).map(([b, v, against]) => armEconomics(rowOrEmpty(rows, b), rowOrEmpty(rows, v), against, a.alpha))

  // The recommendation reads the primary metric and guardrails even when the caller asked for other metrics.
  const decisionDefs = metricDefinitions.filter((m) => m.key === a.primaryMetric || a.guardrails.includes(m.key))
  // Catalogue decision metrics join their families under their own key and name; the built-in decision and
  // guardrail metrics are recomputed when the caller asked for others, with every member in their families.
  const asDecision = (slot: MetricSlot, comparisons: FamilyComparison[]) => ({ def: ownDef(slot), values: slot.values, comparisons })
  const decisionComputed = decisionDefs.every((d) => wanted.has(d.key))
    ? [
        ...computed.filter((m) => decisionDefs.includes(m.def)),
        ...everything.filter((x) => catalogueDecision.includes(x.slot as CatalogueSlot)).map((x) => asDecision(x.slot, x.comparisons)),
      ]
    : metricResults([...builtInSlots(decisionDefs, rows, armList, settings), ...catalogueDecision], armList, a).map(({ slot, comparisons }) =>
        asDecision(slot, comparisons),
      )
  const primaryComputed = decisionComputed.find((m) => m.def.key === a.primaryMetric)
  const decided = recommend({
    exp,
    primary: primaryDef,
    decision: primaryComputed?.comparisons.filter((c) => c.against === 'control') ?? [],
    guardrails: decisionComputed
      .filter((m) => m.def.key !== a.primaryMetric)
      .flatMap((m) => m.comparisons.filter((c) => c.against === 'control').map((comparison) => ({ def: m.def, comparison }))),
    values: new Map((primaryComputed?.values ?? []).map((v) => [v.arm, v.value])),
    economics,
    health,
    srmFlagged: srm?.mismatch ?? false,
    armName: (key) => armNames.get(key) ?? key,
    asOf,
  })

  // Catalogue metrics from the same segmented pass; times to event and quantiles, like the built-in times, are not broken down.
  const segmentCatalogue = (segRows: Map<string, ArmStatsRow>) =>
    catalogueSlots(exp, catalogue, compiled, segRows as unknown as Map<string, Record<string, unknown>>, quantiles).filter(
      (x) => x.def.kind !== 'survival' && x.def.kind !== 'quantile',
    )
  const breakdown = (dimension: string) => {
    const bySegment = groupBySegment(segmentRows.map(parseArmStats))
    const builtInPrimary = metricDefinitions.find((m) => m.key === a.primaryMetric && m.kind !== 'survival')
    const primaryIn = (segRows: Map<string, ArmStatsRow>): MetricSlot | null =>
      builtInPrimary
        ? builtInSlots([builtInPrimary], segRows, armList, settings)[0]
        : (segmentCatalogue(segRows).find((x) => x.key === a.primaryMetric) ?? null)
    return {
      dimension,
      source: breakdownSource(dimension, opts.breakdownBy),
      segments: segments(
        bySegment,
        armList,
        defs.filter((d) => d.kind !== 'survival'),
        settings,
        a,
        segmentCatalogue,
      ),
      heterogeneity: breakdownHeterogeneity({
        segments: [...bySegment].map(([value, segRows]) => ({ value: segmentLabel(value), slot: primaryIn(segRows) })),
        arms: armList,
        alpha: a.alpha,
        metric: { key: primaryDef.key, label: primaryDef.label, format: primaryDef.format, higherIsBetter: primaryDef.higherIsBetter },
        armName: (key) => armNames.get(key) ?? key,
      }),
    }
  }

  return {
    experimentId: exp.id,
    name: exp.name,
    status: exp.status,
    generatedAt: new Date(now).toISOString(),
    asOf: new Date(asOf).toISOString(),
    startedAt: exp.startedAt,
    window: { attributionDays, ltvDays: a.ltvDays, cupedLookbackDays: a.cuped.enabled ? a.cuped.lookbackDays : null },
    enrolledUntil: enrollmentCutoff(exp, asOf) < asOf ? new Date(enrollmentCutoff(exp, asOf)).toISOString() : null,
    settings: {
      alpha: a.alpha,
      multipleTesting: a.multipleTesting,
      sequential: a.sequential.enabled,
      cuped: a.cuped.enabled,
      winsorize: winsorize ? a.winsorize.percentile : null,
    },
    arms: armList,
    totalCustomers: total,
    srm,
    metrics,
    economics,
    settingsFamilies: a.families,
    successCriteria: a.successCriteria,
    health,
    recommendation: decided.recommendation,
    criteria: decided.criteria,
    testCriteria: decided.testCriteria,
    breakdown: q.dimension ? breakdown(q.dimension) : null,
  }
}

const emptySurvival: ArmSurvival = {
  median: null,
  medianCi: [null, null],
  n: 0,
  events: 0,
  points: [],
  restrictedMean: { horizonDays: null, estimate: null, ci: null },
  purchaseBy: [],
}

function survival(rows: ArmStatsRow[], alpha: number, windowDays: number, column: 'survival' | 'repurchase') {
  const out = new Map<string, ArmSurvival>()
  for (const r of rows) {
    if (!r[column]) continue
    const list = survivalRows(r, column)
    const km = kaplanMeier(list, { alpha })
    const rmst = restrictedMeanSurvival(list, windowDays, { alpha })
    const days = [...new Set([7, 14, windowDays].filter((d) => d <= windowDays))]
    out.set(r.arm, {
      median: km.median,
      medianCi: km.medianCi,
      n: km.n,
      events: km.events,
      points: km.points.map((p) => ({ time: p.time, survival: p.survival, lower: p.lower, upper: p.upper })),
      restrictedMean: { horizonDays: rmst.tauUsed, estimate: rmst.estimate, ci: rmst.ci },
      purchaseBy: days.map((day) => {
        const p = purchaseProbabilityBy(list, day, { alpha })
        return { day, estimate: p.estimate, ci: p.ci }
      }),
    })
  }
  return out
}

/**
 * Medians only where they are reached, in words otherwise; then the clearest restricted-mean difference vs
 * control with the interval shown beside its verdict.
 */
function survivalSummary(
  def: MetricDefinition,
  arms: ReportArm[],
  byArm: Map<string, ArmSurvival>,
  comparisons: FamilyComparison[],
  windowDays: number,
): string {
  const repurchase = def.survivalColumn === 'repurchase'
  const what = repurchase ? 'the next purchase' : 'the first purchase'
  const medians = arms.map((a) => {
    const s = byArm.get(a.key)
    return `${a.name}: ${s?.median != null ? `median ${s.median} days` : `median not reached (under half ${repurchase ? 'bought again' : 'purchased'} within ${windowDays} days)`}`
  })
  const vsControl = comparisons.filter((c) => c.against === 'control' && c.estimate !== null && c.ci !== null)
  const best = [...vsControl].sort((x, y) => (x.adjustedPValue ?? x.pValue ?? 1) - (y.adjustedPValue ?? y.pValue ?? 1))[0]
  let rmst = ''
  if (best) {
    const name = arms.find((a) => a.key === best.variant)?.name ?? best.variant
    const days = (x: number) => Math.abs(x).toFixed(1)
    const level = `${+((1 - best.level) * 100).toFixed(2)}% CI`
    const ci = `${level} ${best.ci![0] < 0 ? '−' : '+'}${days(best.ci![0])} to ${best.ci![1] < 0 ? '−' : '+'}${days(best.ci![1])} days`
    rmst = best.significant
      ? ` ${name} brings ${what} ${days(best.estimate!)} days ${best.estimate! < 0 ? 'sooner' : 'later'} on average within ${windowDays} days (${ci}), significant.`
      : ` ${name} shows no detectable change in days to ${what.replace('the ', '')} within ${windowDays} days (${best.estimate! < 0 ? '−' : '+'}${days(best.estimate!)} days, ${ci}; not significant).`
  }
  return `${def.label} — ${medians.join('; ')}.${rmst}`
}

/** Segment statistics rows by segment value ('' for customers without the attribute), then by arm. */
function groupBySegment(rows: ArmStatsRow[]): Map<string, Map<string, ArmStatsRow>> {
  const bySegment = new Map<string, Map<string, ArmStatsRow>>()
  for (const r of rows) {
    const seg = r.segment ?? ''
    const m = bySegment.get(seg) ?? new Map<string, ArmStatsRow>()
    m.set(r.arm, r)
    bySegment.set(seg, m)
  }
  return bySegment
}

const segmentLabel = (value: string) => (value === '' ? '(not set)' : value)

function segments(
  bySegment: Map<string, Map<string, ArmStatsRow>>,
  arms: ReportArm[],
  defs: MetricDefinition[],
  settings: ComparisonSettings,
  analysis: Experiment['analysis'],
  extraSlots: (rows: Map<string, ArmStatsRow>) => MetricSlot[] = () => [],
): SegmentResult[] {
  // Segments are exploratory: each segment's comparisons are adjusted as a report of their own, and the
  // breakdown says so; the decision is taken on the whole population.
  const results = [...bySegment].map(([value, segRows]) => {
    const computed = metricResults([...builtInSlots(defs, segRows, arms, settings), ...extraSlots(segRows)], arms, analysis)
    return {
      value: segmentLabel(value),
      arms: arms.map((a) => ({ arm: a.key, n: rowOrEmpty(segRows, a.key).n })),
      metrics: computed.map((c) => ({ key: c.slot.key, values: c.slot.values, comparisons: c.comparisons })),
    }
  })
  return results.sort((x, y) => y.arms.reduce((s, a) => s + a.n, 0) - x.arms.reduce((s, a) => s + a.n, 0))
}

/** The control's observed baseline of the primary metric, for the sample size; null when it cannot plan one. */
function planningBaseline(def: MetricDefinition, control: ArmStatsRow): PlanningBaseline | null {
  if (control.n < 30) return null
  if (def.kind === 'proportion') {
    const rate = control[def.key as 'reactivation'] / control.n
    return rate > 0 && rate < 1 ? { kind: 'proportion', baselineRate: rate } : null
  }
  if (def.kind === 'mean') {
    const stats = meanStats(control, def.key)
    const mean = meanOf(stats)
    const variance = sampleVariance(stats.n, stats.sum, stats.sumSquares)
    return mean !== null && mean !== 0 && variance !== null && variance > 0 ? { kind: 'mean', mean, sd: Math.sqrt(variance) } : null
  }
  return null
}
