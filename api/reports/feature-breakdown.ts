/**
 * Report breakdowns by what the customer was when first exposed — a categorical feature, their RFM group or
 * membership of a saved segment — computed server-side from the event stream (issue 20, item 3), so a breakdown
 * needs no attribute from the caller. `dimension=feature:lapse_stage`, `feature:last_offer_response`,
 * `feature:rfm_group` or `segment:<key>`; any other dimension is an attribute captured at assignment.
 */
import type { Kysely } from 'kysely'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Database } from '../stores/schema.ts'
import { ApiError } from '../http/errors.ts'
import { FEATURE_NAMES } from '../segments/features.ts'
import { SegmentKey, type StoredSegment } from '../segments/schema.ts'
import { segmentNamedBy } from '../segments/store.ts'
import { rfmGroupAmong } from '../segments/profile.ts'
import { membershipSql, ruleUsesRfm, SqlParams } from '../segments/rule-sql.ts'
import type { BreakdownSource } from '../contract/report.ts'
import { exposureFeaturesSql, wholeRange, type FeatureSegment } from './sql/customer-window.ts'

/** Features a report can break down by: the categorical ones (numbers are cut by defining a segment). */
export const BREAKDOWN_FEATURES = ['lapse_stage', 'last_offer_response', 'rfm_group'] as const
export type BreakdownFeature = (typeof BREAKDOWN_FEATURES)[number]

/** A breakdown dimension after the route resolved it: a feature, or a segment at its latest version. */
export type FeatureBreakdown = { kind: 'feature'; feature: BreakdownFeature } | { kind: 'segment'; segment: StoredSegment }

/** How a `dimension` names its source; null for an attribute captured at assignment. */
export function parseDimension(dimension: string): { kind: 'feature' | 'segment'; key: string } | null {
  const m = /^(feature|segment):(.*)$/.exec(dimension)
  return m ? { kind: m[1] as 'feature' | 'segment', key: m[2] } : null
}

/**
 * The breakdown a `dimension` asks for, checked: undefined for an attribute; a 400 naming `dimension` for an unknown
 * or numeric feature or an unknown segment. A segment is read at its latest version (archived ones too: old reports
 * stay reproducible).
 */
export async function resolveBreakdown(db: Kysely<Database>, dimension: string | undefined): Promise<FeatureBreakdown | undefined> {
  const parsed = dimension === undefined ? null : parseDimension(dimension)
  if (!parsed) return undefined
  if (parsed.kind === 'feature') {
    const feature = parsed.key
    if ((BREAKDOWN_FEATURES as readonly string[]).includes(feature)) return { kind: 'feature', feature: feature as BreakdownFeature }
    const why = (FEATURE_NAMES as string[]).includes(feature)
      ? `feature '${feature}' is a number: define a segment that cuts it (POST /v1/segments) and break down by segment:<key>`
      : `unknown feature '${feature}'`
    throw new ApiError(
      400,
      'invalid_input',
      `${why} (a report breaks down by ${BREAKDOWN_FEATURES.map((f) => `feature:${f}`).join(', ')} or segment:<key>)`,
      'dimension',
    )
  }
  if (!SegmentKey.safeParse(parsed.key).success) throw new ApiError(400, 'invalid_input', `'${parsed.key}' is not a segment key`, 'dimension')
  return { kind: 'segment', segment: await segmentNamedBy(db, parsed.key, 'dimension') }
}

/** What the breakdown's rows were computed from, for the report. */
export function breakdownSource(dimension: string, by: FeatureBreakdown | undefined): BreakdownSource {
  if (!by) return { kind: 'attribute', key: dimension }
  if (by.kind === 'feature') return { kind: 'feature', key: by.feature }
  return { kind: 'segment', key: by.segment.key, name: by.segment.name, version: by.segment.version }
}

/**
 * The `segment` column of the report's pass and its bound parameters. The RFM group needs cut points: they are the
 * quintiles among the experiment's analysed customers who had bought before their first exposure, each as of that
 * instant (one query before the report's pass), so groups compare customers with the experiment's own population.
 */
export async function featureSegmentColumn(
  ch: ClickHouse,
  by: FeatureBreakdown,
  params: Record<string, unknown>,
): Promise<{ column: FeatureSegment; params: Record<string, unknown> }> {
  const bound = new SqlParams('brk_')
  const needsRfm = by.kind === 'feature' ? by.feature === 'rfm_group' : ruleUsesRfm(by.segment.rule)
  const rfm = needsRfm ? await rfmGroupAmong(ch, exposureFeaturesSql(wholeRange), params, bound) : undefined
  const segment = by.kind === 'feature' ? by.feature : membershipSql(by.segment.rule, bound)
  return { column: { segment, rfm }, params: bound.values }
}
