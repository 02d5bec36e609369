/**
 * Catalogue metrics in the experiment report (issue 17, item 3): the versions an experiment pinned, resolved to
 * definitions, compiled into columns of the report's own pass (metrics/compile.ts), valued and compared by the
 * catalogue's code (metrics/arm-values.ts) and handed to the report's families, so their comparisons are adjusted
 * together with the built-in metrics of the same family.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { PinnedMetricRef } from '../experiments/catalogue-refs.ts'
import type { FamilyComparison } from '../contract/comparisons.ts'
import type { ArmSurvival, MetricResult } from '../contract/report.ts'
import type { CatalogueMetric } from '../contract/metrics.ts'
import { getMetric, listVersions } from '../metrics/store.ts'
import type { MetricDefinitionInput } from '../metrics/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { compileColumns, type CompilableMetric, type CompiledColumns, type MeanMetric, type QuantileMetric } from '../metrics/compile.ts'
import { armRows, comparisonSettings, quantileParams, reportArms } from '../metrics/arm-values.ts'
import { quantileArms, quantileComparison, type QuantileArmResult } from '../metrics/quantile-values.ts'
import type { MetricDefinition as ReportMetric } from './metric-definitions.ts'
import { DomainError } from '../domain-errors.ts'
import type { MetricSlot } from './families.ts'
import { summarizeMetric } from './summary.ts'
import type { StoredPropertyColumns } from '../stores/property-columns.ts'

/** A catalogue metric an experiment reports: the version it pinned and that version's definition, ready to compile. */
export interface ReportCatalogueMetric {
  ref: PinnedMetricRef
  def: CompilableMetric | QuantileMetric
}

export type CatalogueSlot = MetricSlot & { ref: PinnedMetricRef; format: MetricResult['format']; label: string; higherIsBetter: boolean }

/** The definition without the stored version's bookkeeping. */
function definitionOf(m: CatalogueMetric): MetricDefinitionInput {
  if (m.builtIn) throw new DomainError('invalid', 'invalid_input', `'${m.key}' is a built-in metric, not a catalogue definition`)
  const { version: _v, builtIn: _b, archived: _a, createdAt: _c, createdBy: _by, ...def } = m
  return def as MetricDefinitionInput
}

/** The version of a ratio's part that was current when the ratio's version was saved: a ratio version is immutable, parts included. */
async function partAsOf(db: Kysely<Database>, key: string, savedAt: string): Promise<MeanMetric> {
  const versions = await listVersions(db, key)
  const part = versions.find((v) => v.createdAt <= savedAt) ?? versions[versions.length - 1]
  return definitionOf(part) as MeanMetric
}

/**
 * The definitions of an experiment's pinned catalogue metrics, each at its version. A ratio's numerator and
 * denominator are read at the versions current when that ratio version was saved, so a new version of a part
 * does not change the ratio's results either.
 *
 * @example
 * const catalogue = await resolveCatalogueMetrics(db, exp.analysis.catalogueMetrics)
 * await experimentReport(ch, exp, { asOf }, Date.now(), { catalogue })
 */
export async function resolveCatalogueMetrics(db: Kysely<Database>, refs: Experiment['analysis']['catalogueMetrics']): Promise<ReportCatalogueMetric[]> {
  const out: ReportCatalogueMetric[] = []
  for (const r of refs) {
    const stored = await getMetric(db, r.key, r.version)
    const ref = { key: r.key, version: stored.version }
    const def = definitionOf(stored)
    if (def.kind !== 'ratio') out.push({ ref, def })
    else {
      const [numerator, denominator] = await Promise.all([partAsOf(db, def.numerator, stored.createdAt), partAsOf(db, def.denominator, stored.createdAt)])
      out.push({ ref, def: { ...def, parts: { numerator, denominator } } })
    }
  }
  return out
}

/**
 * The catalogue metrics' columns for the report's own pass over the customers (reports/sql/arm-stats.ts), or
 * null without catalogue metrics.
 */
export function catalogueColumns(exp: Experiment, metrics: ReportCatalogueMetric[], stored?: StoredPropertyColumns): CompiledColumns | null {
  const compilable = metrics.flatMap((m) => (m.def.kind === 'quantile' ? [] : [m.def]))
  return compilable.length ? compileColumns(compilable, { cuped: exp.analysis.cuped.enabled, stored }) : null
}

/**
 * The arms of each quantile metric (their own passes, metrics/quantile-values.ts), by key; the report's other
 * catalogue metrics are columns of its own pass.
 */
export async function quantileResults(
  ch: ClickHouse,
  exp: Experiment,
  metrics: ReportCatalogueMetric[],
  asOf: number,
  include: 'immature' | undefined,
): Promise<Map<string, QuantileArmResult[]>> {
  const out = new Map<string, QuantileArmResult[]>()
  const arms = reportArms(exp).map((a) => a.key)
  for (const m of metrics)
    if (m.def.kind === 'quantile') out.set(m.ref.key, await quantileArms(ch, m.def, arms, quantileParams(exp, asOf, { include }), exp.analysis.alpha))
  return out
}

/** A quantile as a family slot: its arms' values, and members compared by stats/quantile.ts at any family level. */
function quantileSlot(exp: Experiment, m: ReportCatalogueMetric & { def: QuantileMetric }, arms: QuantileArmResult[]): CatalogueSlot {
  const byArm = new Map(arms.map((a) => [a.arm, a]))
  const def: ReportMetric = {
    key: m.ref.key as ReportMetric['key'],
    label: m.def.name,
    kind: 'quantile',
    format: m.def.format,
    higherIsBetter: m.def.direction !== 'lower',
    description: m.def.description,
  }
  const alpha = exp.analysis.alpha
  return {
    key: m.ref.key,
    ref: m.ref,
    def,
    rows: new Map(),
    settings: comparisonSettings(exp),
    values: arms.map((a) => ({ arm: a.arm, n: a.n, value: a.estimate })),
    label: m.def.name,
    format: m.def.format,
    higherIsBetter: def.higherIsBetter,
    member: (b, v, against) => {
      const baseline = byArm.get(b)
      const variant = byArm.get(v)
      if (!baseline || !variant) return null
      const comparison = quantileComparison(m.ref.key, baseline, variant, against, alpha)
      return { comparison, def, at: (level) => quantileComparison(m.ref.key, baseline, variant, against, level, alpha) }
    },
  }
}

/**
 * The catalogue metrics as family slots, in the experiment's order: the compiled ones out of the rows of the pass
 * that computed their columns, the quantiles out of their own passes.
 */
export function catalogueSlots(
  exp: Experiment,
  metrics: ReportCatalogueMetric[],
  compiled: CompiledColumns | null,
  rows: Map<string, Record<string, unknown>>,
  quantiles: Map<string, QuantileArmResult[]> = new Map(),
): CatalogueSlot[] {
  const arms = reportArms(exp)
  const settings = comparisonSettings(exp)
  let next = 0
  return metrics.map((m) => {
    if (m.def.kind === 'quantile') return quantileSlot(exp, m as ReportCatalogueMetric & { def: QuantileMetric }, quantiles.get(m.ref.key) ?? [])
    const c = armRows(compiled!.metrics[next++], rows, arms, settings)
    return {
      key: m.ref.key,
      ref: m.ref,
      def: c.def,
      rows: c.rows,
      settings: c.settings,
      values: c.values.map(({ arm, n, value }) => ({ arm, n, value })),
      label: m.def.name,
      format: c.def.format,
      higherIsBetter: c.def.higherIsBetter,
    }
  })
}

/** A catalogue metric as the report shows it (primary, guardrail or secondary), naming the definition version it used. */
export function catalogueMetricResult(
  slot: CatalogueSlot,
  comparisons: FamilyComparison[],
  armNames: Map<string, string>,
  survival: Array<{ arm: string } & ArmSurvival> | null,
  role: { isPrimary: boolean; isGuardrail: boolean } = { isPrimary: false, isGuardrail: false },
): MetricResult {
  return {
    key: slot.key,
    label: slot.label,
    kind: slot.def.kind,
    format: slot.format,
    higherIsBetter: slot.higherIsBetter,
    ...role,
    values: slot.values,
    comparisons,
    ...(survival ? { survival } : {}),
    summary: summarizeMetric({ ...slot.def, label: slot.label }, comparisons, armNames),
    catalogue: slot.ref,
  }
}
