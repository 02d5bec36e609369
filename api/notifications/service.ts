import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { ReportCache } from '../reports/cache.ts'
import { SecretBox } from './secrets.ts'
import { DeliveryWorker } from './delivery.ts'
import { queueDigest, schedulerTick, type TickResult } from './scheduler.ts'
import { buildDigest, latestSlot, type Digest } from './digest.ts'
import { enqueue } from './outbox.ts'
import { getDestination } from './destinations.ts'
import { resolveNotificationOptions, type NotificationOptions, type ResolvedNotificationOptions } from './options.ts'
import type { SendResult } from './transports.ts'

/**
 * Notifications in one process: the delivery worker (every process runs one) and the scheduler (alert rules and
 * the weekly digest, run by whichever process holds the advisory lock). createApp makes one; bin/server.ts starts
 * its timers; tests call `tick()` and `worker.runDue()` with their own clock instead.
 */
export class Notifications {
  readonly opts: ResolvedNotificationOptions
  readonly box: SecretBox
  readonly worker: DeliveryWorker
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<TickResult> | null = null
  private stopped = false

  constructor(
    private readonly deps: { db: Kysely<Database>; ch: ClickHouse; reports: ReportCache; now?: () => number },
    options: NotificationOptions = {},
  ) {
    this.opts = resolveNotificationOptions(options)
    this.box = new SecretBox(this.opts.secretKey)
    this.worker = new DeliveryWorker(deps.db, this.box, this.opts, this.now)
  }

  readonly now = () => (this.deps.now ?? Date.now)()

  private get alertDeps() {
    return { db: this.deps.db, ch: this.deps.ch, reports: this.deps.reports, publicUrl: this.opts.publicUrl }
  }

  /** One scheduler round now (alert rules, then a due digest); a round already under way in this process is joined. */
  tick(): Promise<TickResult> {
    this.ticking ??= schedulerTick(this.alertDeps, this.now()).finally(() => (this.ticking = null))
    return this.ticking
  }

  /** Queues a test message for a destination and tries it once, now; the answer is that attempt's outcome. */
  async sendTest(destinationId: string, actor: string): Promise<{ deliveryId: number; delivered: boolean; statusCode: number | null; error: string | null }> {
    const destination = await getDestination(this.deps.db, destinationId)
    const at = new Date(this.now())
    const key = `test:${destinationId}:${at.toISOString()}:${randomBytes(4).toString('hex')}`
    await enqueue(
      this.deps.db,
      {
        idempotencyKey: key,
        destinationId,
        source: 'test',
        message: {
          type: 'test',
          title: 'Test notification from Retention Lab',
          text: `${actor} sent this test to "${destination.name}". Alerts and digests will arrive here like this.`,
          link: `${this.opts.publicUrl}/settings/notifications`,
          facts: [{ label: 'Destination', value: destination.name }],
        },
      },
      at,
    )
    const row = await this.deps.db.selectFrom('notification_outbox').select('id').where('idempotency_key', '=', key).executeTakeFirstOrThrow()
    const r = await this.worker.deliverNow(row.id)
    const result: SendResult = r?.result ?? { ok: false, statusCode: null, error: 'another worker is delivering it' }
    return { deliveryId: row.id, delivered: result.ok, statusCode: result.statusCode, error: result.error }
  }

  /** The digest for [from, to) as of now. */
  digest(period: { from: number; to: number }): Promise<Digest> {
    return buildDigest(this.alertDeps, period, this.now())
  }

  /** Builds the digest and queues it for the destinations now (not waiting for the schedule); returns it with the queue count. */
  async sendDigest(period: { from: number; to: number }, destinationIds: string[]): Promise<{ digest: Digest; queued: number }> {
    const digest = await this.digest(period)
    const at = new Date(this.now())
    const queued = await queueDigest(this.deps.db, digest, destinationIds, `digest:manual:${at.toISOString()}:${randomBytes(4).toString('hex')}`, at)
    return { digest, queued }
  }

  /** The latest weekly slot at or before now, for a schedule saved now (its next digest is the following slot). */
  latestSlot(dayOfWeek: number, hourUtc: number): Date {
    return new Date(latestSlot(this.now(), dayOfWeek, hourUtc))
  }

  /** Starts the delivery worker and the scheduler's timer (bin/server.ts). */
  start(): void {
    if (this.stopped) return
    this.worker.start()
    const loop = () => {
      this.tick()
        .catch((error: unknown) => console.error('notification scheduler failed:', error instanceof Error ? error.message : error))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.opts.intervalMs).unref()
        })
    }
    this.timer = setTimeout(loop, 1_000).unref()
  }

  async close(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await Promise.all([this.worker.stop(), this.ticking?.catch(() => undefined)])
  }
}
