/**
 * A column of its own in the events table for each top-level property key a saved catalogue metric reads:
 * `pk_<hash> String MATERIALIZED properties_map[key]` (LowCardinality(String) for a key whose values repeat), filled at insert and, for the events already stored, by a
 * background mutation. Reading one short String column cost far less in the report's pass than looking the key up in
 * `properties_map` (every event's keys and values) — issue 17's benchmark, README → Benchmarks. Until the mutation
 * reaches a part, ClickHouse computes the column from its expression when it is read, so a query may name the column
 * as soon as it exists and gets the same text either way.
 *
 * The key reaches ClickHouse as a bound parameter (the DDL stores it as a literal); the column's name is a hash of
 * it, so every API node derives the same name and no key text is ever part of an identifier.
 */
import { createHash } from 'node:crypto'
import type { ClickHouse } from './clickhouse.ts'
import { clusterDdl } from './migrate.ts'
import { log } from '../observability/log.ts'
import type { MetricDefinitionInput } from '../metrics/schema.ts'

export const PROPERTY_COLUMN_PREFIX = 'pk_'
/** How many keys get a column at most: each is one more lookup per inserted event and one more column on disk. */
export const DEFAULT_MAX_PROPERTY_COLUMNS = 32

/** 128 bits of SHA-256: two keys sharing a column (one metric reading another key's values) is out of reach. */
export const propertyColumnName = (key: string) => `${PROPERTY_COLUMN_PREFIX}${createHash('sha256').update(key).digest('hex').slice(0, 32)}`

/** The top-level property keys a definition reads (a nested path reads its top key's column). */
export function propertyKeysOf(def: MetricDefinitionInput): string[] {
  if (def.kind === 'ratio') return []
  const paths = [
    ...def.source.filters.flatMap((f) => (f.on === 'property' ? [f.path] : [])),
    ...('value' in def && def.value.of === 'property' ? [def.value.path] : []),
  ]
  return [...new Set(paths.map((p) => p.split('.')[0]))]
}

/** The property columns the events table has: what compile may name (keys without one read properties_map). */
export type StoredPropertyColumns = ReadonlySet<string>

const CACHE_MS = 5_000
const known = new WeakMap<ClickHouse, { at: number; columns: Promise<Set<string>> }>()

async function readColumns(ch: ClickHouse): Promise<Set<string>> {
  const rs = await ch.client.query({
    query: `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'events' AND startsWith(name, {prefix:String})`,
    query_params: { prefix: PROPERTY_COLUMN_PREFIX },
    format: 'JSONEachRow',
  })
  return new Set((await rs.json<{ name: string }>()).map((r) => r.name))
}

/**
 * The events table's property columns, read at most every few seconds per store: a column another API node added
 * is used once this node reads it again; until then its key is read from the map, with the same result.
 */
export async function storedPropertyColumns(ch: ClickHouse, now = Date.now()): Promise<StoredPropertyColumns> {
  const cached = known.get(ch)
  if (cached && now - cached.at < CACHE_MS) return cached.columns
  const columns = readColumns(ch)
  known.set(ch, { at: now, columns })
  try {
    return await columns
  } catch (err) {
    known.delete(ch)
    throw err
  }
}

export interface PropertyColumnsAdded {
  /** Keys given a column now (their stored events are being filled in the background). */
  added: string[]
  /** Keys left to the map: the table already has `max` property columns. */
  overLimit: string[]
}

/**
 * Logs what addPropertyColumns did, with `fields` saying for what (a metric's key), under `addedMessage`.
 * @example logPropertyColumns(await addPropertyColumns(ch, ['plan'], 32), 32, { metric: 'pro_orders' })
 */
export function logPropertyColumns(
  { added, overLimit }: PropertyColumnsAdded,
  max: number,
  fields: Record<string, unknown> = {},
  addedMessage = 'property columns added',
): void {
  if (added.length) log.info({ ...fields, keys: added }, addedMessage)
  if (overLimit.length) log.info({ ...fields, keys: overLimit, max }, 'property keys read from the map: PROPERTY_COLUMNS reached')
}

/**
 * Gives each key its column if it has none yet, while the table has fewer than `max`, and starts filling the
 * column for the events already stored. Idempotent; concurrent callers (several nodes) at worst both add with
 * IF NOT EXISTS and both start the fill.
 */
export async function addPropertyColumns(ch: ClickHouse, keys: readonly string[], max = DEFAULT_MAX_PROPERTY_COLUMNS): Promise<PropertyColumnsAdded> {
  const present = await readColumns(ch)
  const result: PropertyColumnsAdded = { added: [], overLimit: [] }
  for (const key of new Set(keys)) {
    const column = propertyColumnName(key)
    if (present.has(column)) continue
    if (present.size >= max) {
      result.overLimit.push(key)
      continue
    }
    const run = async (statement: string) => {
      for (const query of ch.cluster ? clusterDdl(statement, ch.cluster) : [statement]) await ch.client.command({ query, query_params: { key } })
    }
    const type = propertyColumnType(await sampleKey(ch, key))
    await run(`ALTER TABLE events ADD COLUMN IF NOT EXISTS ${column} ${type} MATERIALIZED properties_map[{key:String}]`)
    // A mutation: ClickHouse rewrites the stored parts in the background and the ALTER returns at once.
    await run(`ALTER TABLE events MATERIALIZE COLUMN ${column}`)
    present.add(column)
    result.added.push(key)
  }
  if (result.added.length) known.delete(ch)
  return result
}

export type PropertyColumnType = 'String' | 'LowCardinality(String)'

/**
 * A key whose stored values repeat — a category, a channel, a tier — gets a LowCardinality column: filters and
 * numbers are then computed once per distinct value, and the report with the benchmark's metrics took 1.23× the
 * built-ins instead of 1.44–1.53× with String columns (README → Benchmarks). Past a part's dictionary (8,192 values)
 * LowCardinality turns slow: over 10M rows a filter took 25 ms with 5,000 distinct values and 254 ms with 20,000, a
 * String column 77 and 74 ms. So a key gets it only when its sample has at least 1,000 events, at most 5,000
 * distinct values, and each value appears ten times on average; else (few events yet, prices, ids) String.
 */
export function propertyColumnType(sample: { events: number; distinct: number }): PropertyColumnType {
  return sample.events >= 1_000 && sample.distinct <= 5_000 && sample.distinct * 10 <= sample.events ? 'LowCardinality(String)' : 'String'
}

/** The first million stored events holding the key: how many, and how many distinct values among them. */
async function sampleKey(ch: ClickHouse, key: string): Promise<{ events: number; distinct: number }> {
  const rs = await ch.client.query({
    query: `SELECT count() AS events, uniq(v) AS distinct
      FROM (SELECT properties_map[{key:String}] AS v FROM events WHERE mapContains(properties_map, {key:String}) LIMIT 1000000)`,
    query_params: { key },
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ events: string | number; distinct: string | number }>()
  return { events: Number(row.events), distinct: Number(row.distinct) }
}

/** Whether the background fills of the property columns are done (tests and the benchmark wait for it). */
export async function propertyColumnsFilled(ch: ClickHouse): Promise<boolean> {
  const rs = await ch.client.query({
    query: `SELECT count() AS pending FROM system.mutations
      WHERE database = currentDatabase() AND startsWith(table, 'events') AND NOT is_done AND position(command, {prefix:String}) > 0`,
    query_params: { prefix: `MATERIALIZE COLUMN ${PROPERTY_COLUMN_PREFIX}` },
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ pending: string | number }>()
  return Number(row.pending) === 0
}
