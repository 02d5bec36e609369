import type { EventRow } from '../stores/events-table.ts'
import { parseEventBody } from './parse-body.ts'
import { validateEvent, type Rejection } from './event-schema.ts'
import type { EventWriter } from './event-writer.ts'

export const MAX_EVENTS_PER_REQUEST = 10_000

export interface IngestResult {
  accepted: number
  duplicates: number
  rejected: Rejection[]
}

/**
 * Validates every row, stores the valid ones, names the invalid ones; none is silently dropped. A row whose
 * eventId is already stored with another payload is refused by index (`event_id_reused`), the same way whether
 * the first copy was sent a second or a year ago, to this process or before a restart.
 */
export async function ingestEvents(
  body: Uint8Array,
  contentType: string | undefined,
  writer: EventWriter,
  onStored?: (rows: EventRow[]) => Promise<void>,
): Promise<IngestResult> {
  const { values, errors } = parseEventBody(body, contentType, MAX_EVENTS_PER_REQUEST)
  const rows: EventRow[] = []
  const indexOf: number[] = []
  const rejected: Rejection[] = []
  for (let index = 0; index < values.length; index++) {
    const error = errors.size ? errors.get(index) : undefined
    if (error !== undefined) {
      rejected.push({ index, field: null, message: error, code: 'invalid' })
      continue
    }
    const v = validateEvent(values[index], index)
    if ('row' in v) {
      rows.push(v.row)
      indexOf.push(index)
    } else rejected.push({ ...v.rejection, code: 'invalid' })
  }
  const { accepted, duplicates, conflicts } = await writer.write(rows)
  let stored = rows
  if (conflicts.length) {
    const refused = new Set(conflicts)
    stored = rows.filter((_, i) => !refused.has(i))
    for (const i of conflicts) {
      rejected.push({
        index: indexOf[i],
        field: 'eventId',
        code: 'event_id_reused',
        message: `eventId '${rows[i].event_id}' is already stored for a different event (another customer, type, time, amount or properties); events are never overwritten — give this event its own eventId`,
      })
    }
    rejected.sort((a, b) => a.index - b.index)
  }
  // Redemptions also feed the pacing ledger and budgets, and the request is acknowledged only once both are
  // durable. The ledger is keyed by eventId, so a redemption resent after a failed write is not counted twice.
  if (onStored && stored.length) await onStored(stored)
  return { accepted, duplicates, rejected }
}
