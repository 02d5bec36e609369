import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment, MetricKey } from '../experiments/schema.ts'
import type { MetricComparison } from '../contract/comparisons.ts'
import type { LibraryReport, LibraryRow } from '../contract/library.ts'
import { customerWindowParams, customerWindowSql, enrollmentCutoff, type CustomerSlice } from './sql/customer-window.ts'
import { customerSlices, querySliced, singlePass, type SliceOptions } from './customer-slices.ts'
import { allSegmentsStatsSql, armStatsSql, parseArmStats } from './sql/arm-stats.ts'
import { metricByKey, type MetricDefinition } from './metric-definitions.ts'
import { rowOrEmpty, type ComparisonSettings } from './arm-comparisons.ts'
import { adjustFamily, familyMember } from './families.ts'
import type { ReportCatalogueMetric } from './catalogue-metrics.ts'
import { compileColumns, type CompilableMetric } from '../metrics/compile.ts'
import { armRows, comparisonSettings, reportArms } from '../metrics/arm-values.ts'
import { storedPropertyColumns } from '../stores/property-columns.ts'

const DAY = 86_400_000
/** Attributes with more values than this (ids, free text) are not segments. */
const MAX_SEGMENTS = 12

/**
 * The segment–offer library: for every stopped experiment with a recorded decision, which offer won on the
 * primary metric in which segment (each attribute captured at assignment, plus all customers), with lift and
 * interval. p-values are Benjamini–Hochberg adjusted across the segments of each experiment, with matching
 * (Benjamini–Yekutieli) intervals: the library is for finding leads, and says so.
 */
export async function offerLibrary(
  ch: ClickHouse,
  experiments: Experiment[],
  opts: SliceOptions & {
    /** The experiment's catalogue primary metric, resolved at its pinned version (undefined for a built-in one). */
    cataloguePrimary?: (exp: Experiment) => Promise<ReportCatalogueMetric | undefined>
  } = {},
): Promise<Pick<LibraryReport, 'rows' | 'adjustment'>> {
  const rows: LibraryRow[] = []
  for (const exp of experiments.filter((e) => e.status === 'stopped' && e.decision)) {
    const a = exp.analysis
    const builtIn = metricByKey.get(a.primaryMetric as MetricKey)
    const catalogue = builtIn ? undefined : await opts.cataloguePrimary?.(exp)
    // Times to event have no single lift to rank; a quantile is not a sum over customers' segments.
    if (builtIn ? builtIn.kind === 'survival' : !catalogue || catalogue.def.kind === 'quantile' || catalogue.def.kind === 'time_to_event') continue
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
    const grouped = catalogue
      ? await catalogueGroups(ch, exp, catalogue, params, opts)
      : builtInGroups(builtIn!, await rawGroups(ch, await customerSlices(ch, exp.id, asOfMs, opts.customersPerSlice), params, null), {
          alpha: a.alpha,
          sequentialTuning: null,
          cuped: a.cuped.enabled,
        })
    const def = grouped.def

    const control = exp.arms.find((x) => x.isControl)!
    const variants = exp.arms.filter((x) => !x.isControl)
    const members = [...grouped.groups].map(([key, arms]) => {
      const [dimension, segment] = key.split('\u0000')
      const of = variants.map((v) => familyMember(def, rowOrEmpty(arms, control.key), rowOrEmpty(arms, v.key), 'control', grouped.settings, grouped.key)!)
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
        metric: grouped.key,
        metricLabel: grouped.label,
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

type Groups = Map<string, Map<string, Record<string, unknown>>>

/**
 * Each segment's rows by arm (`dimension\u0000segment` → arm → row): all customers, then every attribute captured
 * at assignment with at most MAX_SEGMENTS values. With catalogue columns, the rows carry that metric's statistics.
 */
async function rawGroups(
  ch: ClickHouse,
  slices: Awaited<ReturnType<typeof customerSlices>>,
  params: Record<string, unknown>,
  compiled: ReturnType<typeof compileColumns> | null,
): Promise<Groups> {
  const overallSql = compiled
    ? (shape: CustomerSlice) => catalogueSegmentsSql(compiled, false, shape)
    : (shape: CustomerSlice) => armStatsSql({ segmented: false, winsorize: false }, shape)
  const segmentsSql = compiled ? (shape: CustomerSlice) => catalogueSegmentsSql(compiled, true, shape) : allSegmentsStatsSql
  const all = { ...params, ...(compiled?.params ?? {}) }
  const overall = await querySliced(ch, slices, overallSql, all, ['arm'])
  const segmented = await querySliced(ch, slices, segmentsSql, all, ['dimension', 'segment', 'arm'])
  const groups: Groups = new Map()
  const put = (dimension: string, segment: string, r: Record<string, unknown>) => {
    const key = `${dimension}\u0000${segment}`
    const m = groups.get(key) ?? new Map<string, Record<string, unknown>>()
    m.set(String(r.arm), r)
    groups.set(key, m)
  }
  for (const r of overall) put('(all)', 'all customers', r)
  const perDimension = new Map<string, Set<string>>()
  for (const r of segmented) perDimension.set(String(r.dimension), (perDimension.get(String(r.dimension)) ?? new Set()).add(String(r.segment ?? '')))
  for (const r of segmented) if (perDimension.get(String(r.dimension))!.size <= MAX_SEGMENTS) put(String(r.dimension), String(r.segment ?? ''), r)
  return groups
}

function builtInGroups(def: MetricDefinition, raw: Groups, settings: ComparisonSettings) {
  const groups = new Map([...raw].map(([key, arms]) => [key, new Map([...arms].map(([arm, r]) => [arm, parseArmStats(r)]))]))
  return { def, key: def.key as string, label: def.label, settings, groups }
}

/** A catalogue primary metric's statistics per segment and arm, compared by the catalogue's code (as in the report). */
async function catalogueGroups(ch: ClickHouse, exp: Experiment, m: ReportCatalogueMetric, params: Record<string, unknown>, opts: SliceOptions) {
  const compiled = compileColumns([m.def as CompilableMetric], { cuped: exp.analysis.cuped.enabled, stored: await storedPropertyColumns(ch) })
  // A percentile cap is taken over every customer at once.
  const slices = compiled.singlePass ? singlePass : await customerSlices(ch, exp.id, Number(params.asOf), opts.customersPerSlice)
  const raw = await rawGroups(ch, slices, params, compiled)
  const arms = reportArms(exp)
  // A stopped experiment is read once, at its end: fixed-horizon intervals, as for the built-in metrics.
  const settings = { ...comparisonSettings(exp), sequentialTuning: null }
  // The definition and settings the comparisons use depend on the metric only, not on a segment's numbers.
  const { def, settings: metricSettings } = armRows(compiled.metrics[0], new Map(), arms, settings)
  const groups = new Map([...raw].map(([key, rowsByArm]) => [key, armRows(compiled.metrics[0], rowsByArm, arms, settings).rows]))
  return { def, key: m.ref.key, label: m.def.name, settings: metricSettings, groups }
}

/** A compiled metric's per-arm statistics over all customers, or per segment of every attribute captured at assignment. */
const catalogueSegmentsSql = (
  compiled: ReturnType<typeof compileColumns>,
  segmented: boolean,
  slice: CustomerSlice,
) => `WITH ${customerWindowSql(segmented ? 'map' : 'none', slice, compiled)},
capped AS (
  SELECT arm${segmented ? ', attrs' : ''}, ${compiled.capped.join(', ')}
  FROM customers
)
SELECT ${segmented ? 'dimension, attrs[dimension] AS segment, ' : ''}arm,
  ${compiled.arm.join(',\n  ')}
FROM capped${segmented ? '\nARRAY JOIN mapKeys(attrs) AS dimension' : ''}
GROUP BY ${segmented ? 'dimension, segment, ' : ''}arm
ORDER BY ${segmented ? 'dimension, segment, ' : ''}arm`
