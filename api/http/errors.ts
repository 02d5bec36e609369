import type { ZodError } from 'zod'
import { DomainError, notFound, type Problem } from '../domain-errors.ts'

/** An error a client can act on: an HTTP status, a stable code, a message and the offending field. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
  }
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string }
}

export function errorBody(code: string, message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } }
}

export function fieldPath(path: ReadonlyArray<PropertyKey>): string | undefined {
  return path.length ? path.map(String).join('.') : undefined
}

/** The first zod issue as an ApiError (400): clients fix one field at a time, named by its dot path. */
export function fromZodError(error: ZodError, prefix?: string): ApiError {
  const issue = error.issues[0]
  const path = [...(prefix ? [prefix] : []), ...issue.path]
  const field = fieldPath(path)
  return new ApiError(400, 'invalid_input', field ? `${field}: ${issue.message}` : issue.message, field)
}

export { notFound }

const statusOf: Record<Problem, ApiError['status']> = { invalid: 400, not_found: 404, conflict: 409, too_large: 413 }

/** The HTTP answer to a domain error: only this layer knows statuses. */
export function domainErrorToApi(error: DomainError): ApiError {
  return new ApiError(statusOf[error.problem], error.code, error.message, error.field)
}
