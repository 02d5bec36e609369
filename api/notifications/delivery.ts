import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { claimDue, claimOne, recordAttempt, type OutboxRow } from './outbox.ts'
import { destinationTarget } from './destinations.ts'
import { send, type SendResult } from './transports.ts'
import type { SecretBox } from './secrets.ts'
import type { ResolvedNotificationOptions } from './options.ts'

/**
 * Sends what the outbox holds. Every process runs one; claims keep them from sending the same row twice. Nothing
 * lives only in memory: a notification is a row until it is delivered or dead-lettered, so a restart resumes
 * where the last process stopped (a row claimed by a process that died is taken again once its lease lapses).
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<number> | null = null
  private stopped = false

  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
    private readonly opts: ResolvedNotificationOptions,
    private readonly now: () => number,
  ) {}

  /**
   * Delivers every notification due now, one attempt each, and returns how many attempts were made. Tests call
   * this after moving their clock past a backoff instead of waiting for it.
   */
  runDue(): Promise<number> {
    // One pass at a time in a process: a second caller waits for the pass under way, then runs its own.
    const previous = this.running ?? Promise.resolve(0)
    const pass = previous.then(() => this.pass())
    this.running = pass.finally(() => {
      if (this.running === pass) this.running = null
    })
    return pass
  }

  /** Delivers one queued notification now (a "send test"): its one attempt's outcome, or null when another worker holds it. */
  async deliverNow(id: number): Promise<{ outcome: 'delivered' | 'retry' | 'dead'; result: SendResult } | null> {
    const row = await claimOne(this.db, id, new Date(this.now()), this.lease())
    return row ? this.deliver(row) : null
  }

  private lease = () => this.opts.timeoutMs * 3 + 5_000

  private async pass(): Promise<number> {
    let attempts = 0
    for (;;) {
      const at = new Date(this.now())
      // The lease outlasts one attempt's time limit, so a live worker never loses its claim mid-send.
      const rows = await claimDue(this.db, at, this.lease())
      if (!rows.length) return attempts
      for (const row of rows) {
        await this.deliver(row)
        attempts++
      }
    }
  }

  private async deliver(row: OutboxRow): Promise<{ outcome: 'delivered' | 'retry' | 'dead'; result: SendResult }> {
    const started = performance.now()
    let result: SendResult
    try {
      const target = await destinationTarget(this.db, this.box, row.destination_id, this.opts.smtp)
      result = target
        ? await send(target, row.message, {
            idempotencyKey: row.idempotency_key,
            createdAt: new Date(row.created_at),
            now: new Date(this.now()),
            timeoutMs: this.opts.timeoutMs,
            allowPrivateAddresses: this.opts.allowPrivateAddresses,
          })
        : { ok: false, statusCode: null, error: 'the destination was deleted' }
    } catch (error) {
      result = { ok: false, statusCode: null, error: error instanceof Error ? error.message.slice(0, 300) : 'could not send' }
    }
    const policy = retryPolicy(this.opts, row, result)
    const outcome = await recordAttempt(this.db, row, result, policy, new Date(this.now()), performance.now() - started)
    return { outcome, result }
  }

  /** Polls every `pollMs` (bin/server.ts starts it; tests drive runDue themselves). */
  start(): void {
    if (this.timer || this.stopped) return
    const tick = () => {
      this.runDue()
        .catch((error: unknown) => console.error('notification delivery failed:', error instanceof Error ? error.message : error))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.pollMs).unref()
        })
    }
    this.timer = setTimeout(tick, 0).unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running?.catch(() => 0)
  }
}

/** A deleted destination is not coming back, and a test is answered at once: neither is retried. */
function retryPolicy(opts: ResolvedNotificationOptions, row: OutboxRow, result: SendResult) {
  const once = row.source === 'test' || (!result.ok && result.error === 'the destination was deleted')
  return { maxAttempts: once ? 1 : opts.maxAttempts, backoffBaseMs: opts.backoffBaseMs, backoffMaxMs: opts.backoffMaxMs, random: opts.random }
}
