import type { ClickHouse } from './clickhouse.ts'
import { StoreError } from './errors.ts'
import { errorFields, log } from '../observability/log.ts'

/**
 * ClickHouse error codes (src/Common/ErrorCodes.cpp) raised when a part's bytes on disk are not what was written:
 * a compressed block whose checksum, codec byte or size is wrong, marks that point past the data, files of the
 * wrong size or missing from a part. None of them goes away on retry.
 */
const corruptionCodes = new Map<number, string>([
  [30, 'CANNOT_READ_SIZE_OF_COMPRESSED_CHUNK'],
  [31, 'CANNOT_READ_COMPRESSED_CHUNK'],
  [39, 'TOO_LARGE_SIZE_COMPRESSED'],
  [40, 'CHECKSUM_DOESNT_MATCH'],
  [89, 'UNKNOWN_COMPRESSION_METHOD'],
  [91, 'SIZES_OF_MARKS_FILES_ARE_INCONSISTENT'],
  [226, 'NO_FILE_IN_DATA_PART'],
  [228, 'BAD_SIZE_OF_FILE_IN_DATA_PART'],
  [246, 'CORRUPTED_DATA'],
  [247, 'INCORRECT_MARK'],
  [271, 'CANNOT_DECOMPRESS'],
  [432, 'UNKNOWN_CODEC'],
])

/** Codes that a short read of a part file raises, but that malformed input data raises too: corruption only when the message points into a part. */
const shortReadCodes = new Map<number, string>([
  [3, 'UNEXPECTED_END_OF_FILE'],
  [32, 'ATTEMPT_TO_READ_AFTER_EOF'],
  [33, 'CANNOT_READ_ALL_DATA'],
])

export interface ClickHouseCorruption {
  /** The ClickHouse error code and its name, e.g. 40 CHECKSUM_DOESNT_MATCH. */
  code: number
  name: string
  /** The table, when the message names it ("in table default.events (…)") or its data path could be resolved. */
  table?: string
  /** The damaged part, e.g. all_1_1_1, when the message holds its path. */
  part?: string
  /** The file the read failed in, as ClickHouse printed it (server-side logs only: it is a local path). */
  path?: string
}

/**
 * Whether `error` — thrown by @clickhouse/client over chDB or HTTP — reports corrupted stored data, and where.
 * The client's ClickHouseError carries the numeric code in `code`; otherwise the text's "Code: NN." is used.
 *
 * @example
 * recogniseCorruption(new Error('Code: 40. DB::Exception: Checksum doesn\'t match: corrupted data. … While reading or decompressing /ch/store/a87/a87…/all_1_1_1/data.bin …: (while reading from part /ch/store/a87/a87…/all_1_1_1/ in table default.events (a87…)) (CHECKSUM_DOESNT_MATCH)'))
 * // → { code: 40, name: 'CHECKSUM_DOESNT_MATCH', table: 'events', part: 'all_1_1_1', path: '/ch/store/…/data.bin' }
 */
export function recogniseCorruption(error: unknown): ClickHouseCorruption | null {
  if (!(error instanceof Error)) return null
  const own = (error as { code?: unknown }).code
  const code = typeof own === 'string' && /^\d+$/.test(own) ? Number(own) : Number(/\bCode: (\d+)\./.exec(error.message)?.[1] ?? NaN)
  const path = /(?:reading or decompressing|reading from part|data part) (\/[^\s(),]+)/.exec(error.message)?.[1]
  const name = corruptionCodes.get(code) ?? (path ? shortReadCodes.get(code) : undefined)
  if (!name) return null
  const table = /\bin table (?:`?\w+`?\.)?`?(\w+)`? \(/.exec(error.message)?.[1]
  // Part names are <partition>_<min block>_<max block>_<level>[_<mutation>].
  const part = path && /\/([^/\s]+_\d+_\d+_\d+(?:_\d+)?)(?:\/|$)/.exec(path)?.[1]
  return { code, name, ...(table ? { table } : {}), ...(part ? { part } : {}), ...(path ? { path } : {}) }
}

/**
 * The client's view of a corruption error: a StoreError ('corrupted') naming the table, or null when `error` is
 * something else. A message without the table name (a failed read of a primary index, say) names a file: the
 * table is found from its data path. ClickHouse's own text quotes paths and may quote rows, so it is logged
 * here and never passed on.
 *
 * @example
 * const r = await compute().catch(async (e) => { throw (await corruptionAsStoreError(ch, e)) ?? e })
 */
export async function corruptionAsStoreError(ch: ClickHouse, error: unknown): Promise<StoreError | null> {
  const found = recogniseCorruption(error)
  if (!found) return null
  const table = found.table ?? (found.path ? await tableOfPath(ch, found.path).catch(() => undefined) : undefined)
  log.error({ table, ...errorFields(error, 2000) }, `ClickHouse data is corrupted (${corruptionDetail(found)}${table ? ` of table ${table}` : ''})`)
  return new StoreError('corrupted', corruptedTableMessage(table, corruptionDetail(found)), table)
}

/**
 * What an operator reads in a report's error and in /readyz: which table, what failed, what to do.
 *
 * @example
 * corruptedTableMessage('events', 'CHECKSUM_DOESNT_MATCH in part all_1_1_1')
 */
export function corruptedTableMessage(table: string | undefined, detail?: string): string {
  return (
    `${table ? `the ClickHouse table ${table}` : 'a ClickHouse table'} is corrupted${detail ? ` (${detail})` : ''}: a retry fails the same way. ` +
    "An operator must restore it from a backup, or detach the damaged part (its rows are then missing until re-imported); the server log has ClickHouse's error"
  )
}

/** "CHECKSUM_DOESNT_MATCH in part all_1_1_1", from what the error said. */
export function corruptionDetail(found: Pick<ClickHouseCorruption, 'name' | 'part'>): string {
  return found.part ? `${found.name} in part ${found.part}` : found.name
}

async function tableOfPath(ch: ClickHouse, path: string): Promise<string | undefined> {
  const r = await ch.client.query({
    query: 'SELECT name FROM system.tables WHERE database = currentDatabase() AND arrayExists(p -> startsWith({path:String}, p), data_paths) LIMIT 1',
    query_params: { path },
    format: 'JSONEachRow',
  })
  return (await r.json<{ name: string }>())[0]?.name
}
