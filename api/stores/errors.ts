/**
 * What can go wrong in a store, in the store's own terms. The HTTP layer (http/store-errors.ts) maps each kind to a
 * status, a stable code and whether a retry can help; the stores never build HTTP responses themselves.
 * The store's own error text may quote other clients' rows: it is logged by whoever catches it, never put here.
 */
export type StoreErrorKind =
  /** The store did not answer or refused every write: retry shortly. */
  | 'unavailable'
  /** The store refused this request's rows while it accepted others': a retry fails the same way. */
  | 'rows_refused'
  /** Too much is buffered already: retry shortly. */
  | 'overloaded'
  /** The process is stopping: retry against another instance. */
  | 'shutting_down'
  /** A table's stored data failed its checksums or could not be decoded: a retry fails the same way until an operator restores it. */
  | 'corrupted'

export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    /** The table concerned, when one is known (named in the answer so that an operator knows where to look). */
    readonly table?: string,
  ) {
    super(message)
  }
}
