import type { ClickHouseClient } from '@clickhouse/client'
import { overrideClient } from './client-overrides.ts'

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** One setting as SQL: numbers and booleans bare, text as a quoted literal. */
function settingValue(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  const text = String(value)
  if (/^-?\d+(\.\d+)?$/.test(text)) return text
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

/**
 * The statement with `settings` as its own SETTINGS clause, or null when there are none. A statement that already
 * ends in a SETTINGS clause gets them appended to it; the clause starts on a new line so that a trailing comment
 * cannot swallow it.
 */
export function withSettingsClause(query: string, settings: Record<string, unknown> | undefined): string | null {
  const entries = Object.entries(settings ?? {}).filter(([, v]) => v !== undefined)
  if (!entries.length) return null
  for (const [k] of entries) if (!NAME.test(k)) throw new Error(`invalid ClickHouse setting name: ${JSON.stringify(k)}`)
  const clause = entries.map(([k, v]) => `${k} = ${settingValue(v)}`).join(', ')
  return /\bSETTINGS\s+\w+\s*=[^()]*$/i.test(query) ? `${query.trimEnd()},\n${clause}` : `${query.trimEnd()}\nSETTINGS ${clause}`
}

/**
 * chdb/connection sends a request's `clickhouse_settings` as `SET` statements on its one session, so they outlive
 * the request: a `max_threads = 1` given to a /readyz CHECK TABLE made every later query single-threaded, and a
 * leftover `insert_deduplication_token` dropped later inserts as duplicates. Here reads and commands carry their
 * settings in the statement instead, as over HTTP they apply to one request. An `exec` with settings is refused:
 * an INSERT's data follows its FORMAT clause, where no SETTINGS clause can go — write it into the statement.
 */
export function statementSettings(client: ClickHouseClient): ClickHouseClient {
  const query: ClickHouseClient['query'] = ((params: Parameters<ClickHouseClient['query']>[0]) => {
    const sql = withSettingsClause(params.query, params.clickhouse_settings)
    return client.query(sql === null ? params : { ...params, query: sql, clickhouse_settings: undefined })
  }) as ClickHouseClient['query']
  const command: ClickHouseClient['command'] = (params) => {
    const sql = withSettingsClause(params.query, params.clickhouse_settings)
    return client.command(sql === null ? params : { ...params, query: sql, clickhouse_settings: undefined })
  }
  const exec: ClickHouseClient['exec'] = (params) => {
    if (withSettingsClause(params.query, params.clickhouse_settings) !== null)
      throw new Error('embedded chDB would keep clickhouse_settings for the whole session: put them in the statement (SETTINGS …)')
    return client.exec(params)
  }
  return overrideClient(client, { query, command, exec })
}
