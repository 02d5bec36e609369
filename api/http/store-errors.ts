import { StoreError, type StoreErrorKind } from '../stores/errors.ts'
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
