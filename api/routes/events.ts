import { z } from '@hono/zod-openapi'
import { requirePermission, type KeyResolver } from '../auth/middleware.ts'
import { bearer, newRouter, standardErrors } from '../http/openapi.ts'
import { errorBody } from '../http/errors.ts'
import { readBody } from '../http/body.ts'
import { EventInput, type EventRow } from '../ingest/event-schema.ts'
import type { EventWriter } from '../ingest/event-writer.ts'
import { ingestEvents } from '../ingest/ingest-events.ts'
import type { IngestCounts } from '../ingest/ingest-counts.ts'
import { requestLog } from '../observability/requests.ts'

const IngestResult = z
  .object({
    accepted: z.number().describe('new events stored durably'),
    duplicates: z.number().describe('events already stored (same eventId): not counted again'),
    rejected: z.array(
      z.object({
        index: z.number(),
        field: z.string().nullable(),
        message: z.string(),
        code: z
          .enum(['invalid', 'event_id_reused'])
          .describe(
            'invalid: the row breaks the schema; event_id_reused: its eventId is already stored for a different event (409-style: never stored, resend it with its own eventId)',
          ),
      }),
    ),
  })
  .openapi('IngestResult')

export interface IngestOutcome {
  accepted: number
  duplicates: number
  rejected: Array<{ code?: 'invalid' | 'event_id_reused' }>
}

/**
 * `onIngested` is told of each answered batch (the Prometheus counters of accepted, duplicate and rejected rows);
 * `countIngested` adds it to the counters every process shares (the ingestion rejection alert).
 */
export function eventRoutes(deps: {
  keys: KeyResolver
  events: EventWriter
  onStored?: (rows: EventRow[]) => Promise<void>
  onIngested?: (outcome: IngestOutcome) => void
  countIngested?: (counts: IngestCounts) => Promise<void>
}) {
  const app = newRouter()
  const ingest = requirePermission(deps.keys, 'ingest')

  app.post('/', ingest, async (c) => {
    const body = await readBody(c, 5 * 1024 * 1024)
    const result = await ingestEvents(body, c.req.header('content-type'), deps.events, deps.onStored)
    deps.onIngested?.(result)
    if (deps.countIngested)
      await deps.countIngested({ accepted: result.accepted, duplicates: result.duplicates, rejected: result.rejected.length }).catch((error: unknown) => {
        // The events are durable already: a failed count costs the alert one request's rows, not the client a retry.
        requestLog(c).error({ err: { message: error instanceof Error ? error.message.slice(0, 300) : String(error) } }, 'counting ingested rows failed')
      })
    if (result.accepted + result.duplicates === 0 && result.rejected.length) {
      const first = result.rejected[0]
      return c.json(
        {
          ...errorBody(
            'all_rejected',
            `no event was valid; first problem at index ${first.index}: ${first.field ?? 'row'} ${first.message}`,
            first.field ?? undefined,
          ),
          ...result,
        },
        422,
      )
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
