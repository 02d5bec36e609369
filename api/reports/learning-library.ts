/**
 * The learning library (docs/learning-library.md): for every segment × trigger/tier × offer seen in stopped or
 * running experiments, each experiment's effect of that offer vs its own control in that segment, pooled across
 * experiments (DerSimonian–Laird random effects) on reactivation, durable re-engagement and net value per
 * customer, and adjusted across all pairs (Benjamini–Hochberg, with Benjamini–Yekutieli intervals), so a pair is
 * "proven" exactly when the interval shown lies above zero.
 */
import { compareMeans, compareProportions, familyLevels, metaAnalysis, pooledEstimate, type Comparison } from '../../stats/index.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { LearningEvidence, LearningMetric, LearningOutcome, LibraryPair } from '../contract/library.ts'
import { customerWindowParams, enrollmentCutoff, exposureFeaturesSql, wholeRange, type FeatureMap } from './sql/customer-window.ts'
import type { StoredSegment } from '../segments/schema.ts'
import { rfmGroupAmong } from '../segments/profile.ts'
import { membershipSql, SqlParams } from '../segments/rule-sql.ts'
import { customerSlices, querySliced, type SliceOptions } from './customer-slices.ts'
import { DURABLE_TO_DAYS, durableParams, learningStatsSql } from './sql/learning.ts'

const DAY = 86_400_000
/** Attributes with more values than this (ids, free text) are not segments (as in the offer library). */
const MAX_SEGMENTS = 12
/** An experiment's estimate enters a pair only with at least this many customers in control and in the offer arm. */
export const MIN_CUSTOMERS_PER_ARM = 30

export const LEARNING_METRICS: Array<{ metric: LearningMetric; label: string; unit: 'rate' | 'currency' }> = [
  { metric: 'reactivation', label: 'Reactivation', unit: 'rate' },
  { metric: 'durable_reengagement', label: 'Durable re-engagement (bought again 31–90 days after)', unit: 'rate' },
  { metric: 'net_value', label: 'Net value per customer', unit: 'currency' },
]

type Row = Record<string, unknown>
type Evidence = Omit<LearningEvidence, 'weight'>
interface PairDraft extends Omit<LibraryPair, 'proven' | 'outcomes'> {
  evidence: Map<LearningMetric, Evidence[]>
}

/**
 * When an experiment is read: a running one now; a stopped one once every customer it exposed has been followed
 * through the outcome window and the durable days after it (stopped + attribution + 90 days), or now if sooner.
 */
export function learningAsOf(exp: Experiment, now: number): number {
  if (exp.status !== 'stopped' || !exp.stoppedAt) return now
  return Math.min(now, Date.parse(exp.stoppedAt) + (exp.analysis.attributionDays + DURABLE_TO_DAYS) * DAY)
}

/** One outcome's absolute difference (offer arm − control) from the two arms' rows, or null when not estimable. */
function difference(metric: LearningMetric, control: Row, variant: Row): Comparison | null {
  const num = (r: Row, k: string) => Number(r[k] ?? 0)
  const nKey = metric === 'durable_reengagement' ? 'durable_n' : 'n'
  const [nc, nv] = [num(control, nKey), num(variant, nKey)]
  if (nc < MIN_CUSTOMERS_PER_ARM || nv < MIN_CUSTOMERS_PER_ARM) return null
  const c =
    metric === 'net_value'
      ? compareMeans(
          { n: nc, sum: num(control, 'net_sum'), sumSquares: num(control, 'net_ss') },
          { n: nv, sum: num(variant, 'net_sum'), sumSquares: num(variant, 'net_ss') },
          { kind: 'absolute' },
        )
      : compareProportions(
          { n: nc, sum: num(control, metric === 'reactivation' ? 'reactivation' : 'durable') },
          { n: nv, sum: num(variant, metric === 'reactivation' ? 'reactivation' : 'durable') },
          { kind: 'absolute' },
        )
  return c.notEstimable || c.estimate === null || !(c.standardError !== null && c.standardError > 0) ? null : c
}

/** The offer an arm makes in a segment: per tier for a trigger's tier segment; null when it depends on a tier the segment mixes. */
function offerIn(arm: Experiment['arms'][number], exp: Experiment, dimension: string, segment: string) {
  const tiered = arm.tierOffers && Object.keys(arm.tierOffers).length > 0
  if (exp.trigger && dimension === 'tier') return { offer: arm.tierOffers?.[segment] ?? arm.offer, tier: segment }
  return tiered ? null : { offer: arm.offer, tier: null }
}

/**
 * The dimensions computed from each customer's features at first exposure: lapse stage, last offer response, RFM
 * group (quintiles among the experiment's customers who had bought, as in its report) and membership of each live
 * saved segment. Every value bound.
 */
async function featureDimensions(
  ch: ClickHouse,
  segments: StoredSegment[],
  params: Record<string, unknown>,
): Promise<{ map: FeatureMap; params: Record<string, unknown> }> {
  const bound = new SqlParams('lib_')
  const rfm = await rfmGroupAmong(ch, exposureFeaturesSql(wholeRange), params, bound)
  const key = (k: string) => bound.bind(k, 'String')
  const entries: Array<[string, string]> = [
    [key('feature:lapse_stage'), 'lapse_stage'],
    [key('feature:last_offer_response'), 'last_offer_response'],
    [key('feature:rfm_group'), 'rfm_group'],
  ]
  for (const s of segments.filter((x) => !x.archived)) entries.push([key(`segment:${s.key}`), membershipSql(s.rule, bound)])
  return { map: { entries, rfm }, params: bound.values }
}

/** Each experiment's per-segment, per-arm rows, with dimensions of too many values dropped. */
async function experimentRows(ch: ClickHouse, exp: Experiment, now: number, opts: LearningOptions): Promise<Row[]> {
  const a = exp.analysis
  const asOfMs = learningAsOf(exp, now)
  const params = {
    ...customerWindowParams({
      experimentId: exp.id,
      asOfMs,
      enrolledUntilMs: enrollmentCutoff(exp, asOfMs),
      attributionMs: a.attributionDays * DAY,
      ltvMs: a.ltvDays * DAY,
      lookbackMs: a.cuped.lookbackDays * DAY,
      marginRate: a.defaultMarginRate,
    }),
    ...durableParams(),
  }
  const slices = await customerSlices(ch, exp.id, asOfMs, opts.customersPerSlice)
  const features = await featureDimensions(ch, opts.segments ?? [], params)
  const rows = await querySliced(ch, slices, (shape) => learningStatsSql(features.map, shape), { ...params, ...features.params }, [
    'dimension',
    'segment',
    'arm',
  ])
  const values = new Map<string, Set<string>>()
  for (const r of rows) values.set(String(r.dimension), (values.get(String(r.dimension)) ?? new Set()).add(String(r.segment ?? '')))
  return rows.filter((r) => values.get(String(r.dimension))!.size <= MAX_SEGMENTS)
}

/**
 * Every pair's evidence from the given experiments (stopped and running ones are read; drafts and paused ones are
 * not), pooled and adjusted. Pairs come back proven first, then by the strength of their reactivation evidence.
 */
export interface LearningOptions extends SliceOptions {
  /** Saved segments to pool by (their latest versions; archived ones are skipped). */
  segments?: StoredSegment[]
}

export async function learningLibrary(
  ch: ClickHouse,
  experiments: Experiment[],
  opts: LearningOptions & { now: number; alpha?: number },
): Promise<LibraryPair[]> {
  const alpha = opts.alpha ?? 0.05
  const drafts = new Map<string, PairDraft>()
  for (const exp of experiments.filter((e) => e.status === 'stopped' || e.status === 'running')) {
    const control = exp.arms.find((x) => x.isControl)
    if (!control) continue
    const bySegment = new Map<string, Map<string, Row>>()
    for (const r of await experimentRows(ch, exp, opts.now, opts)) {
      const key = `${String(r.dimension)}\u0000${String(r.segment ?? '')}`
      bySegment.set(key, (bySegment.get(key) ?? new Map<string, Row>()).set(String(r.arm), r))
    }
    for (const [key, arms] of bySegment) {
      const [dimension, rawSegment] = key.split('\u0000')
      const segment = rawSegment || '(not set)'
      const controlRow = arms.get(control.key)
      if (!controlRow) continue
      for (const arm of exp.arms.filter((x) => !x.isControl)) {
        const variantRow = arms.get(arm.key)
        const made = offerIn(arm, exp, dimension, rawSegment)
        if (!variantRow || !made) continue
        const trigger = exp.trigger ?? null
        const offer = { type: made.offer.type, value: made.offer.value }
        const pairKey = `${dimension}=${segment}|${trigger ?? ''}|${made.tier ?? ''}|${offer.type}:${offer.value}`
        const draft = drafts.get(pairKey) ?? { key: pairKey, dimension, segment, trigger, tier: made.tier, offer, evidence: new Map() }
        drafts.set(pairKey, draft)
        for (const { metric } of LEARNING_METRICS) {
          const c = difference(metric, controlRow, variantRow)
          if (!c) continue
          const nKey = metric === 'durable_reengagement' ? 'durable_n' : 'n'
          const evidence: Evidence = {
            experimentId: exp.id,
            experimentName: exp.name,
            status: exp.status as 'running' | 'stopped',
            arm: arm.key,
            armName: arm.name,
            n: { control: Number(controlRow[nKey]), variant: Number(variantRow[nKey]) },
            control: c.baselineMean!,
            variant: c.variantMean!,
            estimate: c.estimate!,
            standardError: c.standardError!,
            ci: pooledEstimate(c.estimate!, c.standardError!, 0.05).ci,
          }
          draft.evidence.set(metric, [...(draft.evidence.get(metric) ?? []), evidence])
        }
      }
    }
  }
  return poolAndAdjust([...drafts.values()], alpha)
}

/** Pools each pair's outcomes and adjusts every outcome across pairs as one Benjamini–Hochberg family per outcome. */
export function poolAndAdjust(drafts: PairDraft[], alpha: number): LibraryPair[] {
  const outcomes = drafts.map(() => new Map<LearningMetric, LearningOutcome>())
  for (const { metric, label, unit } of LEARNING_METRICS) {
    const pooled = drafts.map((d) => {
      const evidence = d.evidence.get(metric) ?? []
      return evidence.length
        ? { evidence, meta: metaAnalysis(evidence.map((e) => ({ study: e.experimentId, estimate: e.estimate, standardError: e.standardError }))) }
        : null
    })
    const family = familyLevels(
      pooled.map((p) => p?.meta.random.pValue ?? null),
      'bh',
      alpha,
    )
    pooled.forEach((p, i) => {
      if (!p) {
        outcomes[i].set(metric, emptyOutcome(metric, label, unit))
        return
      }
      const { meta, evidence } = p
      const level = family.levels[i]!
      const significant = family.significant[i]
      const r = meta.random
      const ci = consistentInterval(pooledEstimate(r.estimate, r.standardError, level).ci, r.estimate, significant)
      outcomes[i].set(metric, {
        metric,
        label,
        unit,
        k: meta.k,
        experiments: evidence.map((e, j) => ({ ...e, weight: meta.weights[j] })),
        estimate: r.estimate,
        standardError: r.standardError,
        ci,
        level,
        rawCi: r.ci,
        pValue: r.pValue,
        adjustedPValue: family.adjustedPValues[i],
        significant,
        fixed: { estimate: meta.fixed.estimate, standardError: meta.fixed.standardError },
        q: meta.q,
        qPValue: meta.qPValue,
        iSquared: meta.iSquared,
        tauSquared: meta.tauSquared,
        verdict: ci[0] > 0 ? 'proven' : ci[1] < 0 ? 'harmful' : 'unproven',
      })
    })
  }
  const pairs = drafts.map(({ evidence: _evidence, ...d }, i) => {
    const list = LEARNING_METRICS.map(({ metric }) => outcomes[i].get(metric)!)
    return { ...d, proven: list[0].verdict === 'proven', outcomes: list }
  })
  const strength = (p: LibraryPair) => p.outcomes[0].pValue ?? 2
  return pairs.sort((a, b) => Number(b.proven) - Number(a.proven) || strength(a) - strength(b) || a.key.localeCompare(b.key))
}

function emptyOutcome(metric: LearningMetric, label: string, unit: 'rate' | 'currency'): LearningOutcome {
  return {
    metric,
    label,
    unit,
    k: 0,
    experiments: [],
    estimate: null,
    standardError: null,
    ci: null,
    level: null,
    rawCi: null,
    pValue: null,
    adjustedPValue: null,
    significant: false,
    fixed: null,
    q: null,
    qPValue: null,
    iSquared: null,
    tauSquared: null,
    verdict: 'unproven',
  }
}

/**
 * Where rounding puts a bound on the wrong side of 0 against the verdict (|z| within an ulp of the critical value),
 * that bound moves to 0 (not significant) or the smallest double on the verdict's side: the verdict never
 * contradicts the interval shown.
 */
function consistentInterval(ci: [number, number], estimate: number, significant: boolean): [number, number] {
  if ((ci[0] > 0 || ci[1] < 0) === significant) return ci
  if (significant) return estimate >= 0 ? [Number.MIN_VALUE, ci[1]] : [ci[0], -Number.MIN_VALUE]
  return estimate >= 0 ? [0, ci[1]] : [ci[0], 0]
}

/**
 * The `segment` filter: `dimension=value` matches that segment exactly; a bare value matches it in any dimension;
 * `all` or `all customers` matches the all-customers segment. Case-sensitive, as attributes are.
 * @example matchesSegment({ dimension: 'valueTier', segment: 'low' }, 'valueTier=low') // true
 */
export function matchesSegment(pair: Pick<LibraryPair, 'dimension' | 'segment'>, filter: string): boolean {
  if (filter === 'all' || filter === 'all customers') return pair.dimension === '(all)'
  const eq = filter.indexOf('=')
  if (eq < 0) return pair.segment === filter
  return pair.dimension === filter.slice(0, eq) && pair.segment === filter.slice(eq + 1)
}
