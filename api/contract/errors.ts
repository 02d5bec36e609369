/** Error answers on the wire (http/errors.ts builds them): what a client reads to put each message beside its field. */

/** One problem of a request, named by its dot path (`arms.1.offer.value`), in words a person can act on. */
export interface FieldProblem {
  field: string | null
  message: string
}

/**
 * Every 4xx/5xx answer: a stable `code`, a `message`, the offending `field` when there is one, and for a failed
 * validation every problem at once in `fields` (the first is also `field` + `message`).
 */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; fields?: FieldProblem[] }
}
