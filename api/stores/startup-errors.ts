import { ClickHouseError } from '@clickhouse/client'
import type { Config } from '../config.ts'

const CLICKHOUSE_LOGIN = new Set(['AUTHENTICATION_FAILED', 'WRONG_PASSWORD', 'REQUIRED_PASSWORD', 'UNKNOWN_USER'])
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET'])

/** A URL without its credentials, to name in a message. */
function withoutCredentials(raw: string): string {
  try {
    const url = new URL(raw)
    url.username = ''
    url.password = ''
    return url.toString().replace(/\/$/, '')
  } catch {
    return '(an unparsable URL)'
  }
}

/**
 * What an operator must fix when opening the stores failed at start, in one line that names the setting — or null
 * when the error is not one of the known causes (the caller rethrows it). Passwords never appear: ClickHouse names
 * only the user, and URLs are shown without their credentials.
 *
 * @example
 * describeStoreStartupError(error, config) // "ClickHouse at http://ch:8123 refused user 'retention' (AUTHENTICATION_FAILED): check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD"
 */
export function describeStoreStartupError(error: unknown, config: Pick<Config, 'clickhouse' | 'databaseUrl'>): string | null {
  const ch = config.clickhouse
  const chUrl = ch.url ? withoutCredentials(ch.url) : null
  if (error instanceof ClickHouseError && chUrl) {
    if (CLICKHOUSE_LOGIN.has(error.type ?? ''))
      return `ClickHouse at ${chUrl} refused user '${ch.username}' (${error.type}): check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD`
    if (error.type === 'UNKNOWN_DATABASE')
      return `ClickHouse at ${chUrl} has no database '${ch.database}' (UNKNOWN_DATABASE): create it, or fix CLICKHOUSE_DATABASE`
    return `ClickHouse at ${chUrl} failed while the schema was checked (${error.type ?? `code ${error.code}`}): ${error.message.slice(0, 300)}`
  }
  const e = error as { code?: string; address?: string; port?: number; message?: string }
  if (e && typeof e.code === 'string') {
    if (e.code === '28P01' || e.code === '28000') return `Postgres refused the login (${e.code}): check the user and password in DATABASE_URL`
    if (e.code === '3D000') return `Postgres has no such database (${e.code}): create it, or fix DATABASE_URL`
    if (UNREACHABLE.has(e.code)) {
      const where = e.address ? `${e.address}${e.port ? `:${e.port}` : ''}` : 'the configured address'
      const setting =
        chUrl && e.port && new URL(ch.url!).port === String(e.port)
          ? 'CLICKHOUSE_URL'
          : config.databaseUrl
            ? 'DATABASE_URL or CLICKHOUSE_URL'
            : 'CLICKHOUSE_URL'
      return `nothing answers at ${where} (${e.code}): check ${setting}`
    }
  }
  return null
}
