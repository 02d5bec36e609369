import { createHash } from 'node:crypto'
import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client'
import { errorFields, log } from '../observability/log.ts'
import { overrideClient } from './client-overrides.ts'

/**
 * ClickHouse error codes that say "not now" rather than "never": the server is overloaded, restarting, or lost a
 * replica or Keeper for a moment. (https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp)
 */
const TRANSIENT_CODES = new Set([
  '159', // TIMEOUT_EXCEEDED
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '225', // NO_ZOOKEEPER
  '242', // TABLE_IS_READ_ONLY (a replica that lost Keeper)
  '252', // TOO_MANY_PARTS
  '285', // TOO_FEW_LIVE_REPLICAS
  '319', // UNKNOWN_STATUS_OF_INSERT
  '999', // KEEPER_EXCEPTION
])
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET'])
/** A failed answer whose body is not a ClickHouse exception came from something in front of it (a proxy, a balancer). */
const GATEWAY_REPLY = /\b50[234]\b|bad gateway|service (temporarily )?unavailable|gateway time-?out/i

/**
 * Whether a failed request may succeed if sent again: a connection refused, reset or dropped; a proxy's
 * 502/503/504; or one of ClickHouse's own transient codes. A syntax error, an unknown table or a refused login is
 * not: it would fail the same way.
 */
export function isTransientClickHouseError(error: unknown): boolean {
  if (error instanceof ClickHouseError) return TRANSIENT_CODES.has(error.code)
  if (!(error instanceof Error)) return false
  const code = (error as NodeJS.ErrnoException).code
  if (code) return NETWORK_CODES.has(code)
  return /socket hang up|other side closed/i.test(error.message) || GATEWAY_REPLY.test(error.message.slice(0, 300))
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number
  /** Delay before the second try; doubled for each next one, with ±50% jitter. */
  baseDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 100 }

/**
 * The token ClickHouse deduplicates an insert by: the same rows sent again (a retry after a dropped connection,
 * whose first try may have been stored) are stored once. Derived from the statement and rows so that every retry
 * of one insert carries the same one.
 */
export function insertDeduplicationToken(statement: string): string {
  return createHash('sha256').update(statement).digest('hex')
}

const isInsert = (query: string) => /^\s*INSERT\b/i.test(query)

/**
 * `client` with bounded retries of the requests that are safe to repeat: reads (`query`) and inserts that carry an
 * `insert_deduplication_token` — every `exec` of an INSERT gets one here (a hash of its text), and so does an
 * `insert` whose caller sets it. DDL (`command`) and other statements are sent once. A retry waits
 * `baseDelayMs × 2^n` with jitter; the last failure is what the caller sees.
 *
 * @example
 * const client = withRetries(createClient({ url }), { attempts: 4, baseDelayMs: 100 })
 */
export function withRetries(client: ClickHouseClient, policy: RetryPolicy = DEFAULT_RETRY): ClickHouseClient {
  async function retrying<T>(op: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call()
      } catch (error) {
        if (attempt >= policy.attempts || !isTransientClickHouseError(error)) throw error
        const delay = policy.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random())
        log.warn({ op, attempt, retryInMs: Math.round(delay), ...errorFields(error, 300) }, 'ClickHouse request failed transiently; retrying')
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }
  const query: ClickHouseClient['query'] = (params) => retrying('query', () => client.query(params))
  const exec: ClickHouseClient['exec'] = (params) => {
    if (!isInsert(params.query) || 'values' in params) return client.exec(params)
    const settings = {
      ...params.clickhouse_settings,
      insert_deduplication_token: params.clickhouse_settings?.insert_deduplication_token ?? insertDeduplicationToken(params.query),
    }
    return retrying('insert', () => client.exec({ ...params, clickhouse_settings: settings }))
  }
  const insert: ClickHouseClient['insert'] = (params) =>
    params.clickhouse_settings?.insert_deduplication_token && Array.isArray(params.values)
      ? retrying('insert', () => client.insert(params))
      : client.insert(params)
  return overrideClient(client, { query, exec, insert })
}
