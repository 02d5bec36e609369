import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { ExperimentReport } from '../contract/index.ts'
import type { ReportCache } from '../reports/cache.ts'
import { experimentReport } from '../reports/experiment-report.ts'
import { resolveCatalogueMetrics } from '../reports/catalogue-metrics.ts'
import { decisioningSummary } from '../reports/decisioning.ts'

/**
 * An experiment's report exactly as GET /v1/experiments/:id/report answers it without parameters (the same code
 * and the same cache entry), so an alert or a digest never says something the report page does not.
 */
export function currentReport(deps: { db: Kysely<Database>; ch: ClickHouse; cache: ReportCache }, exp: Experiment, at: number): Promise<ExperimentReport> {
  const { db, ch, cache } = deps
  return cache.get<ExperimentReport>(`report:${exp.id}:${exp.updatedAt}:${JSON.stringify({})}`, async () => ({
    ...(await experimentReport(ch, exp, {}, at, { catalogue: await resolveCatalogueMetrics(db, exp.analysis.catalogueMetrics) })),
    decisioning: await decisioningSummary(ch, db, exp, at),
  }))
}
