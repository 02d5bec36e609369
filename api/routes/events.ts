import { z } from '@hono/zod-openapi'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, newRouter, standardErrors } from '../http/openapi.ts'
import { errorBody } from '../http/errors.ts'
import { readBody } from '../http/body.ts'
import { parseEventBody } from '../ingest/parse-body.ts'
import { EventInput, validateEvent, type EventRow, type Rejection } from '../ingest/event-schema.ts'
import type { EventWriter } from '../ingest/event-writer.ts'

export const MAX_EVENTS_PER_REQUEST = 10_000

const IngestResult = z
  .object({
    accepted: z.number().describe('new events stored durably'),
    duplicates: z.number().describe('events already stored (same eventId): not counted again'),
    rejected: z.array(z.object({ index: z.number(), field: z.string().nullable(), message: z.string() })),
  })
  .openapi('IngestResult')

/** Validates every row, stores the valid ones, names the invalid ones; none is silently dropped. */
export async function ingestEvents(body: Uint8Array, contentType: string | undefined, writer: EventWriter, onStored?: (rows: EventRow[]) => Promise<void>) {
  const { values, errors } = parseEventBody(body, contentType, MAX_EVENTS_PER_REQUEST)
  const rows: EventRow[] = []
  const rejected: Rejection[] = []
  for (let index = 0; index < values.length; index++) {
    const error = errors.size ? errors.get(index) : undefined
    if (error !== undefined) {
      rejected.push({ index, field: null, message: error })
      continue
    }
    const v = validateEvent(values[index], index)
    if ('row' in v) rows.push(v.row)
    else rejected.push(v.rejection)
  }
  // Redemptions also feed the pacing ledger and budgets, and the request is acknowledged only once both
  // writes are durable. They run side by side: the ledger is keyed by eventId, so if the event insert fails
  // and the client retries, the redemption is not counted twice (a budget may count a redemption whose event
  // was never resent, which errs on the side of spending less).
  const [{ accepted, duplicates }] = await Promise.all([writer.write(rows), onStored?.(rows)])
  return { accepted, duplicates, rejected }
}

export function eventRoutes(deps: { keys: KeyResolver; events: EventWriter; onStored?: (rows: EventRow[]) => Promise<void> }) {
  const app = newRouter()
  const ingest = requirePermission(deps.keys, 'ingest')

  app.post('/', ingest, async (c) => {
    const body = await readBody(c, 5 * 1024 * 1024)
    const result = await ingestEvents(body, c.req.header('content-type'), deps.events, deps.onStored)
    if (result.accepted + result.duplicates === 0 && result.rejected.length) {
      const first = result.rejected[0]
      return c.json({ ...errorBody('all_rejected', `no event was valid; first problem at index ${first.index}: ${first.field ?? 'row'} ${first.message}`, first.field ?? undefined), ...result }, 422)
    }
    return c.json(result, 200)
  })

  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/',
    tags: ['Events'],
    summary: 'Ingest outcome events (JSON array or NDJSON, up to 10,000 events / 5 MB); acknowledged only once durable',
    security: bearer,
    request: {
      body: {
        required: true,
        content: {
          'application/json': { schema: z.array(EventInput) },
          'application/x-ndjson': { schema: z.string().describe('one Event JSON object per line') },
        },
      },
    },
    responses: {
      200: { description: 'Valid rows stored, invalid rows named', content: { 'application/json': { schema: IngestResult } } },
      413: { description: 'More than 10,000 events or 5 MB' },
      422: { description: 'No row was valid' },
      503: { description: 'Write buffer full or store unavailable: retry after Retry-After' },
      ...standardErrors,
    },
  })
  return app
}
