/**
 * Keeps the feature cache ahead of demand once targeting needs features. On embedded chDB, which runs one query at a
 * time, a decision that must look its customer up waits for that query behind the exposure inserts: decide with
 * segment targeting made about half the decisions per second with every lookup on demand (README → Benchmarks).
 *
 * - Preload: the `preload` most recently active customers (by their last stored event) are read in batches of
 *   `preloadBatch`, one query at a time so that decisions' own lookups and inserts pass between them; a batch
 *   waits (up to YIELD_MS) while a lookup on demand is queued or running: p99 of the first 10 s of the segment
 *   benchmark 70–89 ms instead of 97–109 ms. It starts as soon as a draft or running experiment's targeting needs
 *   features (api/app.ts), else at the first lookup.
 * - Poll: every `intervalMs`, the customers whose history changed since the previous poll (customer_timeline's
 *   updated_at, on ClickHouse's clock, reaching back `overlapMs` further for inserts still committing: an insert
 *   stamps ingested_at when it starts) are read again if cached and read less than `overlapMs` after the change. After a complete poll every covered entry is current
 *   as of it, so cached customers stay in the cache as long as the polls succeed, instead of being read again
 *   every TTL, and a new event reaches targeting within a poll rather than a TTL.
 * - More changed customers than `maxRereads` in one poll: the cache stops counting on the polls (each entry back to
 *   its own TTL) and coverage starts again from that poll.
 */
import type { ClickHouse } from '../stores/clickhouse.ts'
import { errorFields, log } from '../observability/log.ts'
import type { CustomerFeatureCache } from './feature-cache.ts'

export interface FeatureRefreshOptions {
  /** Poll interval; 0 turns preloading and polling off (every entry lives its TTL). */
  intervalMs: number
  overlapMs: number
  /** How many of the most recently active customers to read at start (at most the cache's size). */
  preload: number
  /** Customers per preload query: small, so that a decision waiting behind one waits little. */
  preloadBatch: number
  maxRereads: number
}

export const DEFAULT_FEATURE_REFRESH: FeatureRefreshOptions = { intervalMs: 5_000, overlapMs: 15_000, preload: 100_000, preloadBatch: 250, maxRereads: 20_000 }

const clickHouseNow = 'toUnixTimestamp64Milli(now64(3))'
const YIELD_MS = 50

export class FeatureRefresher {
  private started = false
  private closed = false
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  /** ClickHouse's clock at the start of the last complete poll (or of the preload). */
  private lastPoll = 0
  readonly opts: FeatureRefreshOptions

  constructor(
    private readonly ch: ClickHouse,
    private readonly cache: CustomerFeatureCache,
    opts: Partial<FeatureRefreshOptions> = {},
  ) {
    this.opts = { ...DEFAULT_FEATURE_REFRESH, ...opts }
  }

  /** Starts preloading and polling, once; later calls do nothing. Nothing happens when the interval is 0. */
  start() {
    if (this.started || this.closed || this.opts.intervalMs <= 0) return
    this.started = true
    this.running = this.preload()
      .catch((e) => log.warn(errorFields(e), 'feature preload failed; customers are looked up as they come'))
      .finally(() => {
        this.running = null
        this.schedule()
      })
  }

  /** Stops polling and waits for a running preload or poll to finish. */
  async close() {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  /** Runs one poll now (tests wait for one instead of for the interval). */
  async pollNow(): Promise<void> {
    while (this.running) await this.running
    if (this.closed) return
    if (this.timer) clearTimeout(this.timer)
    this.running = this.poll().finally(() => {
      this.running = null
      this.schedule()
    })
    return this.running
  }

  private schedule() {
    if (this.closed) return
    this.timer = setTimeout(
      () => void this.pollNow().catch((e) => log.warn(errorFields(e), 'feature poll failed; the next one reaches back to the last that succeeded')),
      this.opts.intervalMs,
    )
    // A pending poll never keeps a process alive that has nothing else to do.
    this.timer.unref()
  }

  private async rows<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    const r = await this.ch.client.query({ query, query_params: params, format: 'JSONCompactEachRow' })
    return r.json<T>()
  }

  private async preload() {
    const [[chNow]] = await this.rows<[string]>(`SELECT ${clickHouseNow}`, {})
    this.lastPoll = Number(chNow)
    this.cache.beginCoverage(this.cache.now())
    const limit = Math.min(this.opts.preload, this.cache.opts.maxEntries)
    if (limit <= 0) return
    const ids = (
      await this.rows<[string]>(
        'SELECT customer_id FROM customer_timeline GROUP BY customer_id ORDER BY max(updated_at) DESC, customer_id LIMIT {limit:UInt32}',
        { limit },
      )
    ).map(([id]) => String(id))
    // Least recent first, so that the most recent are the last the cache would drop.
    ids.reverse()
    // Customers looked up on demand meanwhile are as fresh already.
    await this.loadInBatches(ids, 'preloaded', (batch) => {
      const cached = new Set(this.cache.cachedAmong(batch))
      return batch.filter((id) => !cached.has(id))
    })
  }

  /** Small batches, one query at a time, so that decisions' own lookups pass between them. */
  private async loadInBatches(ids: string[], why: 'preloaded' | 'reread', keep: (batch: string[]) => string[] = (b) => b) {
    for (let i = 0; i < ids.length && !this.closed; i += this.opts.preloadBatch) {
      // Decisions waiting for a lookup go first (embedded chDB runs one query at a time), for at most YIELD_MS.
      for (let waited = 0; !this.cache.demandIdle && !this.closed && waited < YIELD_MS; waited += 2) await new Promise((r) => setTimeout(r, 2))
      await this.cache.load(keep(ids.slice(i, i + this.opts.preloadBatch)), why)
    }
  }

  private async poll() {
    const startedAt = this.cache.now()
    const since = this.lastPoll - this.opts.overlapMs
    // One row whatever changed: ClickHouse's clock at the start of the query, and up to maxRereads + 1 changes.
    const [[chNow, changes]] = await this.rows<[string, Array<[string, string]>]>(
      `SELECT ${clickHouseNow}, groupArray((customer_id, u)) FROM (
         SELECT customer_id, toUnixTimestamp64Milli(max(updated_at)) AS u FROM customer_timeline
         WHERE updated_at >= fromUnixTimestamp64Milli({since:Int64}) GROUP BY customer_id LIMIT {limit:UInt32})`,
      { since, limit: this.opts.maxRereads + 1 },
    )
    if (changes.length > this.opts.maxRereads) {
      log.warn({ maxRereads: this.opts.maxRereads }, 'too many customers changed to re-read; cached features fall back to their TTL')
      // Entries read before this poll are no longer covered; later ones are.
      this.cache.beginCoverage(startedAt)
      this.lastPoll = Number(chNow)
      return
    }
    const stale = this.cache.staleAmong(
      changes.map(([id, u]) => [String(id), Number(u)] as const),
      this.opts.overlapMs,
    )
    await this.loadInBatches(stale, 'reread')
    this.lastPoll = Number(chNow)
    this.cache.coveredThrough(startedAt)
    log.debug({ changed: changes.length, reread: stale.length, ms: this.cache.now() - startedAt }, 'feature poll')
  }
}
