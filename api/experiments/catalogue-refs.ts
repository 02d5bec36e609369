import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { DomainError } from '../domain-errors.ts'
import type { CatalogueMetricRef } from './schema.ts'

type Db = Kysely<Database>
/** A catalogue metric as an experiment stores it: always with the version its reports use. */
export type PinnedMetricRef = Required<CatalogueMetricRef>

/**
 * Checks an experiment's catalogue metrics against the catalogue and pins each to a version, so that later
 * versions of a definition leave the experiment's results as they were: a version given is kept; an omitted one
 * keeps the version the experiment already used (`current`), or takes the latest. Unknown, built-in and archived
 * metrics are refused naming `analysis.catalogueMetrics.<i>.key` — except a version the experiment already used,
 * which stays readable after its metric is archived, so that the rest of the analysis can still be edited.
 * Ratios over built-in metrics are refused until reports can compute them.
 *
 * @example
 * await pinCatalogueMetrics(db, [{ key: 'tickets_30' }]) // [{ key: 'tickets_30', version: 3 }]
 */
export async function pinCatalogueMetrics(db: Db, refs: CatalogueMetricRef[], current: CatalogueMetricRef[] = []): Promise<PinnedMetricRef[]> {
  if (!refs.length) return []
  const rows = await db
    .selectFrom('metric_definitions')
    .select(['key', 'version', 'built_in', 'archived', 'definition'])
    .where(
      'key',
      'in',
      refs.map((r) => r.key),
    )
    .execute()
  // A ratio's parts: the compiler needs their definitions, which built-in metrics do not have.
  const parts = rows.flatMap((r) => (r.definition.kind === 'ratio' ? [String(r.definition.numerator), String(r.definition.denominator)] : []))
  const builtIn = new Set(
    parts.length
      ? (await db.selectFrom('metric_definitions').select('key').where('key', 'in', parts).where('built_in', '=', true).execute()).map((r) => r.key)
      : [],
  )
  return refs.map((ref, i) => {
    const field = `analysis.catalogueMetrics.${i}`
    const invalid = (message: string, at = 'key') => new DomainError('invalid', 'invalid_input', message, `${field}.${at}`)
    const versions = rows.filter((r) => r.key === ref.key).sort((a, b) => b.version - a.version)
    if (!versions.length) throw invalid(`unknown metric '${ref.key}': define it with POST /v1/metrics first`)
    if (versions[0].built_in) throw invalid(`'${ref.key}' is a built-in metric: every report shows it already`)
    const kept = current.find((c) => c.key === ref.key)?.version
    const version = ref.version ?? kept ?? versions[0].version
    const row = versions.find((r) => r.version === version)
    if (!row) throw invalid(`metric '${ref.key}' has no version ${version} (its latest is ${versions[0].version})`, 'version')
    if (row.archived && version !== kept) throw invalid(`metric '${ref.key}' is archived: choose a live metric`)
    const fromBuiltIn = [row.definition.numerator, row.definition.denominator].filter((k) => builtIn.has(String(k)))
    if (row.definition.kind === 'ratio' && fromBuiltIn.length)
      throw invalid(`'${ref.key}' divides the built-in ${fromBuiltIn.join(' and ')}, which reports cannot compute in a ratio yet`)
    return { key: ref.key, version }
  })
}
