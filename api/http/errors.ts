import type { ZodError } from 'zod'
import { DomainError, notFound, type Problem } from '../domain-errors.ts'
import { humanMessage } from './messages.ts'

/** One field's problem in words a person can act on, named by its dot path. */
export interface FieldError {
  field: string | null
  message: string
}

/** An error a client can act on: an HTTP status, a stable code, a message and the offending field. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers?: Record<string, string>,
    /** Every field problem of the request (the first one is also `field` and `message`), so a form shows all at once. */
    readonly fields?: FieldError[],
  ) {
    super(message)
  }
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string; fields?: FieldError[] }
}

export function errorBody(code: string, message: string, field?: string, fields?: FieldError[]): ErrorBody {
  const error: ErrorBody['error'] = field === undefined ? { code, message } : { code, message, field }
  if (fields?.length) error.fields = fields
  return { error }
}

export function fieldPath(path: ReadonlyArray<PropertyKey>): string | undefined {
  return path.length ? path.map(String).join('.') : undefined
}

/**
 * A failed validation as one 400: `fields` lists every problem in the request, in human words (http/messages.ts),
 * and the first one is also `field` + `message` for clients that show one at a time.
 */
export function fromZodError(error: ZodError, prefix?: string): ApiError {
  const fields = error.issues.map((issue) => ({ field: fieldPath([...(prefix ? [prefix] : []), ...issue.path]) ?? null, message: humanMessage(issue) }))
  const first = fields[0]
  return new ApiError(400, 'invalid_input', first.field ? `${first.field}: ${first.message}` : first.message, first.field ?? undefined, undefined, fields)
}

export { notFound }

const statusOf: Record<Problem, ApiError['status']> = { invalid: 400, not_found: 404, conflict: 409, too_large: 413 }

/** The HTTP answer to a domain error: only this layer knows statuses. */
export function domainErrorToApi(error: DomainError): ApiError {
  return new ApiError(statusOf[error.problem], error.code, error.message, error.field)
}
