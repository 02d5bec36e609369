import { z } from '@hono/zod-openapi'
import { CustomerId } from '../http/ids.ts'
import { firstStringProblem, stringProblem } from '../http/safe-strings.ts'
import type { EventRow } from '../stores/events-table.ts'

/** Events older than this are surely a unit mistake (seconds sent as ms, or a zero). */
const EARLIEST = Date.UTC(2000, 0, 1)
/**
 * Largest revenue, margin or cost one event may carry (in the currency's units). Far above any real order; it
 * keeps a stray 1e308 from overflowing the sums of squares and turning an A/A test into a false verdict.
 */
export const MAX_MONEY = 1e9
/** Clock skew we tolerate from senders; anything further ahead is a bad timestamp. */
const MAX_FUTURE_MS = 24 * 3600 * 1000
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * Epoch ms of an ISO-8601 string (a zone-less one is UTC) or of integer epoch milliseconds; a string saying
 * what is wrong otherwise. Shared by the schema and the fast path so both accept exactly the same values.
 */
export function timestampMs(v: unknown, now = Date.now()): number | string {
  if (typeof v === 'string' && ISO.test(v) && !isCalendarDate(v)) return `${v.slice(0, 10)} is not a calendar date`
  const ms =
    typeof v === 'number'
      ? v
      : typeof v === 'string' && ISO.test(v)
        ? Date.parse(v.length === 10 ? `${v}T00:00:00Z` : /Z|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v.replace(' ', 'T')}Z`)
        : NaN
  if (!Number.isFinite(ms) || (typeof v === 'number' && !Number.isInteger(v))) return 'must be an ISO-8601 string or integer epoch milliseconds'
  if (ms < EARLIEST || ms > now + MAX_FUTURE_MS) {
    // Beyond ±8.64e15 ms a Date cannot even be formatted: say so rather than throw for the whole request.
    const when = Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms is beyond any calendar date`
    return `is out of range (${when}); expected 2000-01-01 to now + 1 day — epoch seconds sent as milliseconds?`
  }
  return Math.round(ms)
}

/** Date.parse rolls 2026-02-30 over to March 2; an event on a day that does not exist is a sender's bug. */
function isCalendarDate(v: string): boolean {
  const [year, month, day] = [Number(v.slice(0, 4)), Number(v.slice(5, 7)), Number(v.slice(8, 10))]
  const d = new Date(Date.UTC(year, month - 1, day))
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day
}

const Timestamp = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = timestampMs(v)
  if (typeof ms === 'string') {
    ctx.addIssue({ code: 'custom', message: ms })
    return z.NEVER
  }
  return ms
})

const Money = z
  .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a finite number') })
  .max(MAX_MONEY, `must be at most ${MAX_MONEY.toExponential()} (1,000,000,000)`)
  .min(-MAX_MONEY, `must be at least −${MAX_MONEY.toExponential()}`)
const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[^\u0000-\u001f\u007f\ufffd]+$/, 'must not contain control characters or invalid UTF-8')

/** One outcome event as sent by a CRM, an app or a warehouse export. Unknown fields are refused. */
export const EventInput = z
  .strictObject({
    eventId: Id.describe('idempotency key: resending the same event never counts twice'),
    customerId: CustomerId,
    type: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be a lowercase event type such as purchase or offer_redeemed'),
    ts: Timestamp.describe('ISO-8601 or epoch milliseconds'),
    experimentId: z.string().max(64).optional(),
    arm: z.string().max(64).optional(),
    revenue: Money.min(0, 'must not be negative (send refunds as type refund)').optional(),
    margin: Money.optional(),
    cost: Money.min(0, 'must not be negative').optional(),
    orderId: z.string().max(128).optional(),
    properties: z
      .record(z.string(), z.unknown())
      .refine((p) => JSON.stringify(p).length <= 4096, 'must serialise to at most 4 KB')
      .optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.type === 'purchase' || e.type === 'refund') && e.revenue === undefined)
      ctx.addIssue({ code: 'custom', path: ['revenue'], message: `is required on a ${e.type}` })
    if (e.type === 'offer_redeemed' && e.cost === undefined)
      ctx.addIssue({ code: 'custom', path: ['cost'], message: 'is required on offer_redeemed (the incentive cost)' })
  })
  .openapi('Event')

export type EventInput = z.output<typeof EventInput>

export type { EventRow }

export interface Rejection {
  index: number
  field: string | null
  message: string
  /** `invalid` (the row breaks the schema) or `event_id_reused` (its eventId names another stored event). */
  code?: 'invalid' | 'event_id_reused'
}

export function toRow(e: EventInput): EventRow {
  return {
    event_id: e.eventId,
    customer_id: e.customerId,
    type: e.type,
    ts: e.ts,
    experiment_id: e.experimentId ?? '',
    arm: e.arm ?? '',
    revenue: e.revenue ?? 0,
    margin: e.margin ?? null,
    cost: e.cost ?? 0,
    order_id: e.orderId ?? '',
    properties: e.properties ? JSON.stringify(e.properties) : '',
  }
}

const PRINTABLE = /^[^\u0000-\u001f\u007f\ufffd]+$/
const TYPE = /^[a-z][a-z0-9_.-]{0,63}$/
const FIELDS = new Set(['eventId', 'customerId', 'type', 'ts', 'experimentId', 'arm', 'revenue', 'margin', 'cost', 'orderId', 'properties'])
// PRINTABLE already excludes NUL; the fast path also needs well-formed UTF-16 (see http/safe-strings.ts).
const text = (v: unknown, max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max && PRINTABLE.test(v) && v.isWellFormed()
const optionalText = (v: unknown, max: number) => v === undefined || (typeof v === 'string' && v.length <= max && stringProblem(v) === null)
const money = (v: unknown, min: number) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= MAX_MONEY)

/**
 * The hot path of ingestion: accepts an event that plainly satisfies EventInput and builds its row without
 * zod's allocations; anything unusual (a problem, properties) returns null and goes through the schema,
 * which stays the single definition of what is valid and of every message. A test checks that whatever
 * this accepts the schema accepts with the same row.
 */
export function fastAccept(item: unknown, now: number): EventRow | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return null
  const e = item as Record<string, unknown>
  for (const key in e) if (!FIELDS.has(key)) return null
  if (e.properties !== undefined || !text(e.eventId, 128) || !text(e.customerId, 256) || typeof e.type !== 'string' || !TYPE.test(e.type)) return null
  if (!optionalText(e.experimentId, 64) || !optionalText(e.arm, 64) || !optionalText(e.orderId, 128)) return null
  if (!money(e.revenue, 0) || !money(e.cost, 0) || !money(e.margin, -MAX_MONEY)) return null
  if ((e.type === 'purchase' || e.type === 'refund') && e.revenue === undefined) return null
  if (e.type === 'offer_redeemed' && e.cost === undefined) return null
  const ts = timestampMs(e.ts, now)
  if (typeof ts === 'string') return null
  return {
    event_id: e.eventId as string,
    customer_id: e.customerId as string,
    type: e.type,
    ts,
    experiment_id: (e.experimentId as string | undefined) ?? '',
    arm: (e.arm as string | undefined) ?? '',
    revenue: (e.revenue as number | undefined) ?? 0,
    margin: (e.margin as number | undefined) ?? null,
    cost: (e.cost as number | undefined) ?? 0,
    order_id: (e.orderId as string | undefined) ?? '',
    properties: '',
  }
}

/** Validates one parsed item; a rejection names the first offending field. */
export function validateEvent(item: unknown, index: number, now = Date.now()): { row: EventRow } | { rejection: Rejection } {
  // fastAccept takes only storable strings; anything else is checked before the schema, since such a string
  // would fail the shared insert of every request written with this one.
  const fast = fastAccept(item, now)
  if (fast) return { row: fast }
  const unsafe = firstStringProblem(item)
  if (unsafe) return { rejection: { index, field: unsafe.field, message: unsafe.message } }
  const r = EventInput.safeParse(item)
  if (r.success) return { row: toRow(r.data) }
  const issue = r.error.issues[0]
  const field = issue.path.length ? issue.path.map(String).join('.') : null
  const message = issue.code === 'unrecognized_keys' ? `unknown field(s): ${(issue as { keys: string[] }).keys.join(', ')}` : issue.message
  return { rejection: { index, field: field ?? (issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys[0] : null), message } }
}
