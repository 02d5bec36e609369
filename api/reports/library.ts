import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment, MetricKey } from '../experiments/schema.ts'
import type { MetricComparison } from '../contract/comparisons.ts'
import type { LibraryReport, LibraryRow } from '../contract/library.ts'
import { customerWindowParams, enrollmentCutoff, type CustomerSlice } from './sql/customer-window.ts'
import { customerSlices, querySliced, type SliceOptions } from './customer-slices.ts'
import { allSegmentsStatsSql, armStatsSql, parseArmStats, type ArmStatsRow } from './sql/arm-stats.ts'
import { metricByKey } from './metric-definitions.ts'
import { rowOrEmpty } from './arm-comparisons.ts'
import { adjustFamily, familyMember } from './families.ts'

const DAY = 86_400_000
/** Attributes with more values than this (ids, free text) are not segments. */
const MAX_SEGMENTS = 12

/**
 * The segment–offer library: for every stopped experiment with a recorded decision, which offer won on the
 * primary metric in which segment (each attribute captured at assignment, plus all customers), with lift and
 * interval. p-values are Benjamini–Hochberg adjusted across the segments of each experiment, with matching
 * (Benjamini–Yekutieli) intervals: the library is for finding leads, and says so.
 */
export async function offerLibrary(ch: ClickHouse, experiments: Experiment[], opts: SliceOptions = {}): Promise<LibraryReport> {
  const rows: LibraryRow[] = []
  for (const exp of experiments.filter((e) => e.status === 'stopped' && e.decision)) {
    const a = exp.analysis
    // A catalogue primary metric is not in the library yet (docs/metrics.md → Not yet).
    const def = metricByKey.get(a.primaryMetric as MetricKey)
    if (!def || def.kind === 'survival') continue
    const asOfMs = exp.stoppedAt ? Date.parse(exp.stoppedAt) + a.attributionDays * DAY : Date.now()
    const params = customerWindowParams({
      experimentId: exp.id,
      asOfMs,
      enrolledUntilMs: enrollmentCutoff(exp, asOfMs),
      attributionMs: a.attributionDays * DAY,
      ltvMs: a.ltvDays * DAY,
      lookbackMs: a.cuped.lookbackDays * DAY,
      marginRate: a.defaultMarginRate,
    })
    const slices = await customerSlices(ch, exp.id, asOfMs, opts.customersPerSlice)
    const query = async (sqlFor: (shape: CustomerSlice) => string, keys: string[]) =>
      (await querySliced(ch, slices, sqlFor, params, keys)).map((r) => ({ ...parseArmStats(r), dimension: String(r.dimension ?? '(all)') }))
    const overall = await query((shape) => armStatsSql({ segmented: false, winsorize: false }, shape), ['arm'])
    const segmented = await query(allSegmentsStatsSql, ['dimension', 'segment', 'arm'])
    const groups = new Map<string, Map<string, ArmStatsRow>>()
    const put = (dimension: string, segment: string, r: ArmStatsRow) => {
      const key = `${dimension}\u0000${segment}`
      const m = groups.get(key) ?? new Map<string, ArmStatsRow>()
      m.set(r.arm, r)
      groups.set(key, m)
    }
    for (const r of overall) put('(all)', 'all customers', r)
    const perDimension = new Map<string, Set<string>>()
    for (const r of segmented) perDimension.set(r.dimension, (perDimension.get(r.dimension) ?? new Set()).add(r.segment ?? ''))
    for (const r of segmented) if (perDimension.get(r.dimension)!.size <= MAX_SEGMENTS) put(r.dimension, r.segment ?? '', r)

    const control = exp.arms.find((x) => x.isControl)!
    const variants = exp.arms.filter((x) => !x.isControl)
    const settings = { alpha: a.alpha, sequentialTuning: null, cuped: a.cuped.enabled }
    const members = [...groups].map(([key, arms]) => {
      const [dimension, segment] = key.split('\u0000')
      const of = variants.map((v) => familyMember(def, rowOrEmpty(arms, control.key), rowOrEmpty(arms, v.key), 'control', settings)!)
      return { dimension, segment, arms, of }
    })
    // One Benjamini–Hochberg family per experiment (every segment × variant), with the Benjamini–Yekutieli
    // intervals that go with it, so a row's interval excludes 0 exactly when it is called significant.
    const adjusted = adjustFamily(
      members.flatMap((m) => m.of),
      'secondary',
      'bh',
      a.alpha,
    )
    let next = 0
    const expRows = members.map((m) => ({ ...m, comparisons: m.of.map(() => adjusted[next++]) }))
    for (const r of expRows) {
      const better = (c: MetricComparison) => c.significant && c.estimate !== null && (def.higherIsBetter ? c.estimate > 0 : c.estimate < 0)
      const best = r.comparisons.filter(better).sort((x, y) => (def.higherIsBetter ? y.estimate! - x.estimate! : x.estimate! - y.estimate!))[0]
      const arm = best ? exp.arms.find((x) => x.key === best.variant)! : null
      rows.push({
        experimentId: exp.id,
        experimentName: exp.name,
        decidedAt: exp.decision!.createdAt,
        chosenArm: exp.decision!.chosenArm,
        metric: def.key,
        dimension: r.dimension,
        segment: r.segment || '(not set)',
        n: [...r.arms.values()].reduce((s, x) => s + x.n, 0),
        winner:
          best && arm
            ? { arm: arm.key, name: arm.name, offer: arm.offer, lift: best.estimate!, ci: best.ci!, adjustedPValue: best.adjustedPValue ?? null }
            : null,
        comparisons: r.comparisons.map((c) => ({
          variant: c.variant,
          kind: c.kind,
          estimate: c.estimate,
          ci: c.ci,
          rawCi: c.rawCi,
          level: c.level,
          pValue: c.pValue,
          adjustedPValue: c.adjustedPValue,
          significant: c.significant,
        })),
      })
    }
  }
  return { rows, adjustment: 'bh' }
}
