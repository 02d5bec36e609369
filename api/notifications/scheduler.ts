import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { withAdvisoryLock, SCHEDULER_LOCK } from './leader.ts'
import { evaluateRules, type AlertDeps } from './alerts.ts'
import { buildDigest, digestPeriod, latestSlot } from './digest.ts'
import { enqueue } from './outbox.ts'
import { pruneIngestCounts } from '../ingest/ingest-counts.ts'
import type { NotificationMessage } from './message.ts'
import type { Digest } from './digest.ts'

/** Per-minute ingestion counts are read for the last hour only; a week leaves room to look back by hand. */
const INGEST_COUNTS_KEPT_MS = 7 * 86_400_000

export interface TickResult {
  /** False when another process held the scheduler lock (it ran this round instead). */
  ran: boolean
  alerts: number
  digests: number
}

/**
 * One scheduler round: alert rules, then the weekly digest when its slot has passed. It runs in one process at a
 * time (Postgres advisory lock); the others skip the round, so nothing is evaluated or queued twice.
 */
export async function schedulerTick(deps: AlertDeps, at: number): Promise<TickResult> {
  const result: TickResult = { ran: false, alerts: 0, digests: 0 }
  result.ran = await withAdvisoryLock(deps.db, SCHEDULER_LOCK, async () => {
    result.alerts = await evaluateRules(deps, at)
    result.digests = await scheduledDigest(deps, at)
    await pruneIngestCounts(deps.db, new Date(at - INGEST_COUNTS_KEPT_MS))
  })
  return result
}

/** Queues the digest of the latest weekly slot if it has not been queued yet; returns how many destinations got it. */
async function scheduledDigest(deps: AlertDeps, at: number): Promise<number> {
  const s = await deps.db.selectFrom('digest_schedule').selectAll().where('id', '=', 'weekly').executeTakeFirst()
  if (!s?.enabled || !s.destination_ids.length) return 0
  const slot = latestSlot(at, s.day_of_week, s.hour_utc)
  if (s.last_sent_for && new Date(s.last_sent_for).getTime() >= slot) return 0
  const digest = await buildDigest(deps, digestPeriod(slot, s.period_days), at)
  const slotIso = new Date(slot).toISOString()
  const n = await queueDigest(deps.db, digest, s.destination_ids, `digest:${slotIso}`, new Date(at))
  await deps.db
    .updateTable('digest_schedule')
    .set({ last_sent_for: new Date(slot) })
    .where('id', '=', 'weekly')
    .execute()
  return n
}

/** Queues a digest for each destination under `keyPrefix` (the slot, or a manual send's instant); returns how many were new. */
export async function queueDigest(db: Kysely<Database>, digest: Digest, destinationIds: string[], keyPrefix: string, at: Date): Promise<number> {
  const message: NotificationMessage = { type: 'digest', title: digest.title, text: digest.kpis.headline.text, link: digest.link, facts: [], digest }
  let n = 0
  for (const destinationId of destinationIds)
    if (await enqueue(db, { idempotencyKey: `${keyPrefix}:${destinationId}`, destinationId, source: 'digest', message }, at)) n++
  return n
}
