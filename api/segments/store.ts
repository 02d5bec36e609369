import type { Kysely, Selectable } from 'kysely'
import type { Database, SegmentDefinitionTable } from '../stores/schema.ts'
import { DomainError, notFound } from '../domain-errors.ts'
import { recordAudit } from '../audit/log.ts'
import type { SegmentDefinitionInput, StoredSegment } from './schema.ts'

/**
 * Segment definitions in Postgres (migrations/postgres/2026-12-02-007): every version of every key, immutable once
 * written; archiving marks every version of a key. Each change is audited in the same transaction.
 */

type Db = Kysely<Database>
type Row = Selectable<SegmentDefinitionTable>

export interface SegmentQuery {
  /** Case-insensitive text found in the key, name, description, owner or a tag. */
  search?: string
  /** Archived keys are left out unless asked for. */
  includeArchived?: boolean
}

function toSegment(r: Row): StoredSegment {
  // Rows are written from a parsed definition; a version is answered as it was saved, even if the schema has
  // since tightened, since a report must be able to name and reproduce it.
  const definition = r.definition as unknown as SegmentDefinitionInput
  return { ...definition, version: r.version, archived: r.archived, createdAt: new Date(r.created_at).toISOString(), createdBy: r.created_by }
}

async function latestRow(db: Db, key: string, lock = false): Promise<Row | undefined> {
  const q = db.selectFrom('segment_definitions').selectAll().where('key', '=', key).orderBy('version', 'desc').limit(1)
  return (lock ? q.forUpdate() : q).executeTakeFirst()
}

/** The latest version of every key. Segments number in the hundreds at most: filters run here. */
async function latestRows(db: Db): Promise<Row[]> {
  return db.selectFrom('segment_definitions').selectAll().distinctOn('key').orderBy('key').orderBy('version', 'desc').execute()
}

/**
 * The latest version of each segment, by key.
 * @example await listSegments(db, { search: 'lapsed' }) // [{ key: 'price_sensitive_lapsed', version: 2, … }]
 */
export async function listSegments(db: Db, q: SegmentQuery = {}): Promise<StoredSegment[]> {
  const search = q.search?.trim().toLowerCase()
  return (await latestRows(db))
    .filter((r) => q.includeArchived || !r.archived)
    .map(toSegment)
    .filter((s) => !search || [s.key, s.name, s.description, s.owner, ...s.tags].some((text) => text.toLowerCase().includes(search)))
}

/**
 * The live segments (latest version of each key not archived), what membership is computed against.
 * @example segmentsOf(features, await activeSegments(db))
 */
export const activeSegments = (db: Db) => listSegments(db)

/**
 * One version of a segment, the latest when `version` is not given. Archived segments stay readable.
 * @example await getSegment(db, 'price_sensitive_lapsed', 1)
 */
export async function getSegment(db: Db, key: string, version?: number): Promise<StoredSegment> {
  if (version === undefined) {
    const row = await latestRow(db, key)
    if (!row) throw notFound('segment', key)
    return toSegment(row)
  }
  const row = await db.selectFrom('segment_definitions').selectAll().where('key', '=', key).where('version', '=', version).executeTakeFirst()
  if (row) return toSegment(row)
  const latest = await latestRow(db, key)
  if (!latest) throw notFound('segment', key)
  throw new DomainError('not_found', 'not_found', `segment '${key}' has no version ${version} (its latest is ${latest.version})`, 'version')
}

/**
 * The latest version of the segment a request parameter (`field`) names, archived ones too: an unknown key is
 * invalid input naming that field (a 400), not a missing resource.
 * @example await segmentNamedBy(db, 'price_sensitive_lapsed', 'segment')
 */
export async function segmentNamedBy(db: Db, key: string, field: string): Promise<StoredSegment> {
  const row = await latestRow(db, key)
  if (!row) throw new DomainError('invalid', 'invalid_input', `unknown segment '${key}'`, field)
  return toSegment(row)
}

/**
 * Every version of a segment, newest first.
 * @example (await listSegmentVersions(db, 'price_sensitive_lapsed')).map((s) => s.version) // [2, 1]
 */
export async function listSegmentVersions(db: Db, key: string): Promise<StoredSegment[]> {
  const rows = await db.selectFrom('segment_definitions').selectAll().where('key', '=', key).orderBy('version', 'desc').execute()
  if (!rows.length) throw notFound('segment', key)
  return rows.map(toSegment)
}

/** Keys are never reused, archived ones included: reports and profiles name segments by key and version. */
async function checkKeyFree(db: Db, key: string) {
  const existing = await latestRow(db, key)
  if (!existing) return
  const taken = new Set((await db.selectFrom('segment_definitions').select('key').distinct().execute()).map((r) => r.key))
  let suggestion = key
  for (let i = 2; taken.has(suggestion); i++) suggestion = `${key.slice(0, 63 - String(i).length)}_${i}`
  const why = existing.archived
    ? `a segment with key '${key}' existed and was archived (keys are not reused)`
    : `a segment with key '${key}' exists already (to change it, add a version with POST /v1/segments/${key}/versions)`
  throw new DomainError('conflict', 'key_taken', `${why}; choose another key, e.g. '${suggestion}'`, 'key')
}

async function insertVersion(db: Db, input: SegmentDefinitionInput, version: number, actor: string, now: Date): Promise<StoredSegment> {
  const row = await db
    .insertInto('segment_definitions')
    .values({ key: input.key, version, definition: JSON.stringify(input), archived: false, created_at: now, created_by: actor })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toSegment(row)
}

const isUniqueViolation = (e: unknown) => (e as { code?: string } | null)?.code === '23505'

/**
 * Saves version 1 of a new segment, audited. A key in use (or once used) is a conflict naming `key` with a free one.
 * @example await createSegment(db, SegmentDefinitionInput.parse({ key: 'lapsed_deal_seekers', name: '…', rule: { lapse_stage: 'lapsed' } }), 'ana')
 */
export async function createSegment(db: Db, input: SegmentDefinitionInput, actor: string, now = new Date()): Promise<StoredSegment> {
  try {
    return await db.transaction().execute(async (trx) => {
      await checkKeyFree(trx, input.key)
      const created = await insertVersion(trx, input, 1, actor, now)
      await recordAudit(trx, { actor, action: 'segment.create', entityType: 'segment', entityId: input.key, after: created }, now)
      return created
    })
  } catch (e) {
    // Two requests creating the same key at once: the primary key lets one through.
    if (isUniqueViolation(e))
      throw new DomainError('conflict', 'key_taken', `a segment with key '${input.key}' was created at the same moment; choose another key`, 'key')
    throw e
  }
}

function assertChangeable(row: Row | undefined, key: string): asserts row is Row {
  if (!row) throw notFound('segment', key)
  if (row.archived) throw new DomainError('conflict', 'archived', `segment '${key}' is archived and cannot be changed`)
}

/**
 * Saves the next version of a segment, audited; earlier versions stay readable. The body's key must be the path's.
 * @example await newSegmentVersion(db, 'lapsed_deal_seekers', { ...draft, rule: { lapse_stage: { $in: ['lapsed', 'dormant'] } } }, 'ana') // version 2
 */
export async function newSegmentVersion(db: Db, key: string, input: SegmentDefinitionInput, actor: string, now = new Date()): Promise<StoredSegment> {
  if (input.key !== key) throw new DomainError('invalid', 'invalid_input', `must be '${key}', the segment this version belongs to (a key cannot change)`, 'key')
  return db.transaction().execute(async (trx) => {
    // Locks the latest version: two new versions at once are numbered one after the other.
    const latest = await latestRow(trx, key, true)
    assertChangeable(latest, key)
    const before = toSegment(latest)
    const after = await insertVersion(trx, input, latest.version + 1, actor, now)
    await recordAudit(trx, { actor, action: 'segment.version', entityType: 'segment', entityId: key, before, after }, now)
    return after
  })
}

/**
 * Archives a segment (every version): it leaves the list, matches no customer and takes no new versions; its
 * versions stay readable.
 * @example await archiveSegment(db, 'lapsed_deal_seekers', 'ana') // { key: 'lapsed_deal_seekers', archived: true, … }
 */
export async function archiveSegment(db: Db, key: string, actor: string, now = new Date()): Promise<StoredSegment> {
  return db.transaction().execute(async (trx) => {
    const latest = await latestRow(trx, key, true)
    assertChangeable(latest, key)
    await trx.updateTable('segment_definitions').set({ archived: true }).where('key', '=', key).execute()
    await recordAudit(
      trx,
      { actor, action: 'segment.archive', entityType: 'segment', entityId: key, before: { archived: false }, after: { archived: true } },
      now,
    )
    return toSegment({ ...latest, archived: true })
  })
}
