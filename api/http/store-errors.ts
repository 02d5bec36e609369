import { ClickHouseError } from '@clickhouse/client'
import { StoreError, type StoreErrorKind } from '../stores/errors.ts'
import { isTransientClickHouseError } from '../stores/clickhouse-retry.ts'
import { ApiError } from './errors.ts'

/** How each kind of store failure reaches a client: the status, a stable code, and whether a retry can help. */
const answers: Record<StoreErrorKind, { status: ApiError['status']; code: string; retryAfter?: string }> = {
  unavailable: { status: 503, code: 'store_unavailable', retryAfter: '1' },
  rows_refused: { status: 422, code: 'rows_refused_by_store' },
  overloaded: { status: 503, code: 'overloaded', retryAfter: '1' },
  shutting_down: { status: 503, code: 'shutting_down', retryAfter: '1' },
  // 503 because this instance cannot serve the request until an operator acts; no Retry-After: waiting does not help.
  corrupted: { status: 503, code: 'store_corrupted' },
}

/** The client's view of a store failure; the message was written for clients (stores/errors.ts). */
export function storeErrorToApi(error: StoreError): ApiError {
  const a = answers[error.kind]
  return new ApiError(a.status, a.code, error.message, undefined, a.retryAfter ? { 'Retry-After': a.retryAfter } : undefined)
}

export { StoreError }

/**
 * A ClickHouse failure that reached the HTTP layer unhandled (a report's query, say): a transient one — the retries
 * in stores/clickhouse-retry.ts are spent — is a 503 to retry later; any other is a 500 naming ClickHouse's error
 * type (UNKNOWN_TABLE, MEMORY_LIMIT_EXCEEDED …), never its text, which can quote rows and is logged instead.
 * Null for anything else.
 */
export function clickhouseFailureToApi(error: unknown): { status: 500 | 503; code: string; message: string; headers: Record<string, string> } | null {
  if (isTransientClickHouseError(error))
    return { status: 503, code: 'store_unavailable', message: 'the data store did not answer; retry shortly', headers: { 'Retry-After': '1' } }
  if (error instanceof ClickHouseError)
    return {
      status: 500,
      code: 'store_query_failed',
      message: `the data store refused this request's query (${error.type ?? `code ${error.code}`}); the server log has its message under this request's X-Request-Id`,
      headers: {},
    }
  return null
}
