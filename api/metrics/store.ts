import type { Kysely, Selectable } from 'kysely'
import type { Database, MetricDefinitionTable } from '../stores/schema.ts'
import type { BuiltInMetric, CatalogueMetric } from '../contract/metrics.ts'
import { DomainError, notFound } from '../domain-errors.ts'
import { recordAudit } from '../audit/log.ts'
import { MetricDefinitionInput } from './schema.ts'

type Db = Kysely<Database>
type Row = Selectable<MetricDefinitionTable>

export interface MetricQuery {
  /** Case-insensitive text found in the key, name, description, owner or a tag. */
  search?: string
  /** Only metrics with this tag (case-insensitive). */
  tag?: string
  /** Archived keys are left out unless asked for. */
  includeArchived?: boolean
}

function toMetric(r: Row): CatalogueMetric {
  const stored = { version: r.version, archived: r.archived, createdAt: new Date(r.created_at).toISOString(), createdBy: r.created_by }
  if (r.built_in) return { ...(r.definition as Omit<BuiltInMetric, keyof typeof stored>), ...stored, builtIn: true }
  // Parsing fills defaults added to the schema after the row was written; a version the schema has since tightened
  // is still answered as it was saved, since reports must be able to reproduce it.
  const parsed = MetricDefinitionInput.safeParse(r.definition)
  const definition = parsed.success ? parsed.data : (r.definition as MetricDefinitionInput)
  return { ...definition, ...stored, builtIn: false }
}

async function latestRow(db: Db, key: string, lock = false): Promise<Row | undefined> {
  const q = db.selectFrom('metric_definitions').selectAll().where('key', '=', key).orderBy('version', 'desc').limit(1)
  return (lock ? q.forUpdate() : q).executeTakeFirst()
}

/** The latest version of every key. The catalogue holds hundreds of definitions, not millions: filters run here. */
async function latestRows(db: Db): Promise<Row[]> {
  return db.selectFrom('metric_definitions').selectAll().distinctOn('key').orderBy('key').orderBy('version', 'desc').execute()
}

/**
 * The latest version of each metric, built-ins first, then by key.
 * @example await listMetrics(db, { search: 'order', tag: 'checkout' }) // [{ key: 'orders', builtIn: true, … }, …]
 */
export async function listMetrics(db: Db, q: MetricQuery = {}): Promise<CatalogueMetric[]> {
  const search = q.search?.trim().toLowerCase()
  const tag = q.tag?.trim().toLowerCase()
  return (await latestRows(db))
    .filter((r) => q.includeArchived || !r.archived)
    .map(toMetric)
    .filter((m) => !tag || m.tags.some((t) => t.toLowerCase() === tag))
    .filter((m) => !search || [m.key, m.name, m.description, m.owner, ...m.tags].some((text) => text.toLowerCase().includes(search)))
    .sort((a, b) => Number(b.builtIn) - Number(a.builtIn) || (a.key < b.key ? -1 : 1))
}

/**
 * One version of a metric, the latest when `version` is not given. Archived metrics stay readable: reports that
 * used them name them.
 * @example await getMetric(db, 'second_order_60d', 1)
 */
export async function getMetric(db: Db, key: string, version?: number): Promise<CatalogueMetric> {
  if (version === undefined) {
    const row = await latestRow(db, key)
    if (!row) throw notFound('metric', key)
    return toMetric(row)
  }
  const row = await db.selectFrom('metric_definitions').selectAll().where('key', '=', key).where('version', '=', version).executeTakeFirst()
  if (row) return toMetric(row)
  const latest = await latestRow(db, key)
  if (!latest) throw notFound('metric', key)
  throw new DomainError('not_found', 'not_found', `metric '${key}' has no version ${version} (its latest is ${latest.version})`, 'version')
}

/**
 * Every version of a metric, newest first.
 * @example (await listVersions(db, 'second_order_60d')).map((m) => m.version) // [2, 1]
 */
export async function listVersions(db: Db, key: string): Promise<CatalogueMetric[]> {
  const rows = await db.selectFrom('metric_definitions').selectAll().where('key', '=', key).orderBy('version', 'desc').execute()
  if (!rows.length) throw notFound('metric', key)
  return rows.map(toMetric)
}

/** Keys are never reused, archived and built-in ones included: reports name metrics by key and version. */
async function checkKeyFree(db: Db, key: string) {
  const existing = await latestRow(db, key)
  if (!existing) return
  const taken = new Set((await db.selectFrom('metric_definitions').select('key').distinct().execute()).map((r) => r.key))
  let suggestion = key
  for (let i = 2; taken.has(suggestion); i++) suggestion = `${key.slice(0, 63 - String(i).length)}_${i}`
  const why = existing.built_in
    ? `'${key}' is a built-in metric`
    : existing.archived
      ? `a metric with key '${key}' existed and was archived (keys are not reused)`
      : `a metric with key '${key}' exists already (to change it, add a version with POST /v1/metrics/${key}/versions)`
  throw new DomainError('conflict', 'key_taken', `${why}; choose another key, e.g. '${suggestion}'`, 'key')
}

/** A ratio divides two existing, live mean metrics of the catalogue (per-customer sums), never itself. */
async function checkRatio(db: Db, input: MetricDefinitionInput) {
  if (input.kind !== 'ratio') return
  for (const field of ['numerator', 'denominator'] as const) {
    const ref = input[field]
    const invalid = (message: string) => new DomainError('invalid', 'invalid_input', message, field)
    if (ref === input.key) throw invalid(`a ratio may not reference itself ('${ref}')`)
    const row = await latestRow(db, ref)
    if (!row) throw invalid(`unknown metric '${ref}': a ratio divides two mean metrics of the catalogue`)
    if (row.archived) throw invalid(`metric '${ref}' is archived`)
    const kind = String(row.definition.kind)
    if (kind !== 'mean') throw invalid(`'${ref}' is a ${kind} metric: a ratio divides two mean metrics (per-customer sums such as revenue or orders)`)
  }
  if (input.numerator === input.denominator)
    throw new DomainError('invalid', 'invalid_input', 'the denominator must differ from the numerator (the ratio would always be 1)', 'denominator')
}

/** The live ratios that divide by or into `key`: archiving it or making it other than a mean would break them. */
async function ratiosUsing(db: Db, key: string): Promise<string[]> {
  return (await latestRows(db))
    .filter((r) => !r.archived && r.definition.kind === 'ratio' && (r.definition.numerator === key || r.definition.denominator === key))
    .map((r) => r.key)
}

async function insertVersion(db: Db, input: MetricDefinitionInput, version: number, actor: string, now: Date): Promise<CatalogueMetric> {
  const row = await db
    .insertInto('metric_definitions')
    .values({ key: input.key, version, definition: JSON.stringify(input), built_in: false, archived: false, created_at: now, created_by: actor })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toMetric(row)
}

const isUniqueViolation = (e: unknown) => (e as { code?: string } | null)?.code === '23505'

/**
 * Saves version 1 of a new metric, audited. A key in use is a conflict naming `key` with a free one to use; a
 * ratio over unknown, archived or non-mean metrics is refused naming `numerator` or `denominator`. Nothing is
 * saved when the definition is refused.
 * @example await createMetric(db, MetricDefinitionInput.parse({ key: 'second_order_60d', kind: 'proportion', … }), 'ana')
 */
export async function createMetric(db: Db, input: MetricDefinitionInput, actor: string, now = new Date()): Promise<CatalogueMetric> {
  try {
    return await db.transaction().execute(async (trx) => {
      await checkKeyFree(trx, input.key)
      await checkRatio(trx, input)
      const created = await insertVersion(trx, input, 1, actor, now)
      await recordAudit(trx, { actor, action: 'metric.create', entityType: 'metric', entityId: input.key, after: created }, now)
      return created
    })
  } catch (e) {
    // Two requests creating the same key at once: the primary key lets one through.
    if (isUniqueViolation(e))
      throw new DomainError('conflict', 'key_taken', `a metric with key '${input.key}' was created at the same moment; choose another key`, 'key')
    throw e
  }
}

function assertChangeable(row: Row | undefined, key: string): asserts row is Row {
  if (!row) throw notFound('metric', key)
  if (row.built_in)
    throw new DomainError('conflict', 'read_only', `'${key}' is a built-in metric and cannot be changed; create a metric with another key to define your own`)
  if (row.archived) throw new DomainError('conflict', 'archived', `metric '${key}' is archived and cannot be changed`)
}

/**
 * Saves the next version of a metric, audited; earlier versions stay readable with their results. The body's key
 * must be the path's; built-in and archived metrics are refused.
 * @example await newVersion(db, 'second_order_60d', { ...draft, window: { startDays: 0, endDays: 90 } }, 'ana') // version 2
 */
export async function newVersion(db: Db, key: string, input: MetricDefinitionInput, actor: string, now = new Date()): Promise<CatalogueMetric> {
  if (input.key !== key) throw new DomainError('invalid', 'invalid_input', `must be '${key}', the metric this version belongs to (a key cannot change)`, 'key')
  return db.transaction().execute(async (trx) => {
    // Locks the latest version: two new versions at once are numbered one after the other.
    const latest = await latestRow(trx, key, true)
    assertChangeable(latest, key)
    if (input.kind !== 'mean' && latest.definition.kind === 'mean') {
      const ratios = await ratiosUsing(trx, key)
      if (ratios.length)
        throw new DomainError(
          'conflict',
          'in_use',
          `'${key}' must stay a mean metric: the ratio${ratios.length > 1 ? 's' : ''} ${ratios.join(', ')} divide by it`,
          'kind',
        )
    }
    await checkRatio(trx, input)
    const before = toMetric(latest)
    const after = await insertVersion(trx, input, latest.version + 1, actor, now)
    await recordAudit(trx, { actor, action: 'metric.version', entityType: 'metric', entityId: key, before, after }, now)
    return after
  })
}

/**
 * Archives a metric (every version): it leaves the catalogue's list and takes no new versions, and reports that
 * used it still read it. Refused for built-ins and while a live ratio divides by it.
 * @example await archiveMetric(db, 'second_order_60d', 'ana') // { key: 'second_order_60d', archived: true, … }
 */
export async function archiveMetric(db: Db, key: string, actor: string, now = new Date()): Promise<CatalogueMetric> {
  return db.transaction().execute(async (trx) => {
    const latest = await latestRow(trx, key, true)
    assertChangeable(latest, key)
    const ratios = await ratiosUsing(trx, key)
    if (ratios.length)
      throw new DomainError(
        'conflict',
        'in_use',
        `'${key}' is used by the ratio${ratios.length > 1 ? 's' : ''} ${ratios.join(', ')}: archive ${ratios.length > 1 ? 'them' : 'it'} first`,
      )
    await trx.updateTable('metric_definitions').set({ archived: true }).where('key', '=', key).execute()
    await recordAudit(
      trx,
      { actor, action: 'metric.archive', entityType: 'metric', entityId: key, before: { archived: false }, after: { archived: true } },
      now,
    )
    return toMetric({ ...latest, archived: true })
  })
}
