/**
 * What went wrong, in the domain's terms. Domain code (experiments, decisioning, settings, keys, ingest) throws
 * these; only the HTTP layer (http/errors.ts → `toApiError`) turns a problem into a status.
 */
export type Problem = 'invalid' | 'not_found' | 'conflict' | 'too_large'

export class DomainError extends Error {
  constructor(
    readonly problem: Problem,
    /** A stable code a client can branch on, e.g. `invalid_input`, `already_exists`, `invalid_transition`. */
    readonly code: string,
    message: string,
    /** The offending field as a dot path, when one is to blame. */
    readonly field?: string,
  ) {
    super(message)
  }
}

export const notFound = (what: string, id: string) => new DomainError('not_found', 'not_found', `${what} '${id}' does not exist`)
