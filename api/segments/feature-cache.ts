/**
 * Customer features for targeting, read through an in-process cache: /v1/decide answers thousands of times a
 * second and a ClickHouse query per call would cap it far below that. The cache keeps each customer's history
 * (packed) and computes features from it as of the call, at most `asOfStepMs` old. The least recently used go past
 * `maxEntries`, concurrent callers for one customer share one lookup, and the misses of an event-loop tick (more
 * while a lookup runs) are read with one query.
 *
 * How long an entry answers: `ttlMs` after it was read — or, while a FeatureRefresher (feature-refresh.ts) keeps
 * the cache covered, `ttlMs` after that refresher's last complete poll, since every customer with new events since
 * then was read again. Entries read before the refresher started are not covered and keep their own TTL.
 */
import type { ClickHouse } from '../stores/clickhouse.ts'
import { eventInsertsInFlight } from '../stores/events-table.ts'
import { BatchQueue } from '../decisioning/decision-queue.ts'
import type { CustomerFeatures } from './features.ts'
import { featuresFromHistory, packHistory, type HistoryTuple } from './features-history.ts'

/** The features of a customer with no stored events, as customerFeatures answers them: someone who never bought. */
export const NO_HISTORY_FEATURES: Readonly<CustomerFeatures> = Object.freeze(featuresFromHistory([], 0))
const EMPTY = new Float64Array(0)
/**
 * How far before a settled read (no event insert in flight) a change may be stamped and still be missing from it: none
 * while chDB runs one query at a time; a second covers ClickHouse evaluating now64() a little after the read's snapshot.
 */
const SETTLED_LAG_MS = 1_000

/**
 * The packed histories of many customers (features-history.ts), with one query over customer_timeline (its
 * primary key is the customer id and its granules are 64 rows, so the IN list reads little more than their rows),
 * and ClickHouse's clock when it read them (null when no customer had history). Customers without history are
 * absent from the map. `settled`: on embedded chDB, no event insert of this process — the only writer — was in
 * flight when the read started, so the read holds every event stamped before `at`.
 */
export async function historiesOfCustomers(
  ch: ClickHouse,
  ids: readonly string[],
): Promise<{ at: number | null; settled: boolean; histories: Map<string, Float64Array> }> {
  const settled = ch.embedded && eventInsertsInFlight(ch) === 0
  // The raw tuples, features computed here (features-history.ts): the query is ~2.5× cheaper without the feature
  // expressions to analyse, and a decision waits for it.
  const query = `SELECT customer_id, groupUniqArrayMerge(history) AS h, toUnixTimestamp64Milli(now64(3)) AS at
    FROM customer_timeline WHERE customer_id IN {ids:Array(String)} GROUP BY customer_id`
  const r = await ch.client.query({ query, query_params: { ids }, format: 'JSONCompactEachRow' })
  const rows = await r.json<[string, HistoryTuple[], string]>()
  return { at: rows.length ? Number(rows[0][2]) : null, settled, histories: new Map(rows.map(([id, history]) => [String(id), packHistory(history)])) }
}

/**
 * Features of many customers as of `asOfMs`. Customers without history are absent from the map.
 *
 * @example
 * await featuresOfCustomers(ch, ['c-1', 'c-2'], Date.now()) // Map { 'c-1' => { recency_days: 12, … } }
 */
export async function featuresOfCustomers(ch: ClickHouse, ids: readonly string[], asOfMs: number): Promise<Map<string, CustomerFeatures>> {
  const { histories } = await historiesOfCustomers(ch, ids)
  return new Map([...histories].map(([id, history]) => [id, featuresFromHistory(history, asOfMs)]))
}

export interface FeatureCacheOptions {
  ttlMs: number
  maxEntries: number
  /** Customers per query. */
  maxBatch: number
  /** Queries at once: 1 on embedded chDB, which runs one query at a time whatever the caller does. */
  concurrency: number
  /** Features are computed as of the call, reusing the last computation for this long. */
  asOfStepMs: number
}

export const DEFAULT_FEATURE_CACHE: FeatureCacheOptions = { ttlMs: 60_000, maxEntries: 100_000, maxBatch: 1000, concurrency: 1, asOfStepMs: 60_000 }

interface Entry {
  /** When the history was read (the injected clock). */
  at: number
  /** The same on ClickHouse's clock, which stamps events' ingested_at (null: not known). */
  readAt: number | null
  /** No event insert was in flight at the read (historiesOfCustomers): it holds every event stamped before readAt. */
  settled: boolean
  history: Float64Array
  /** Computed at the first call after a read ahead of demand (a third of an entry's memory). */
  features: CustomerFeatures | null
  asOf: number
}

export class CustomerFeatureCache {
  private readonly entries = new Map<string, Entry>()
  private readonly inFlight = new Map<string, Promise<CustomerFeatures>>()
  private readonly queue: BatchQueue<string, CustomerFeatures>
  readonly opts: FeatureCacheOptions
  /** Entries read at or after `from` are known current as of `through` (set by a FeatureRefresher). */
  private coverage: { from: number; through: number | null } | null = null
  /**
   * Lookups on demand (queries, customers) — tests check batching and sharing with them — and the customers read by
   * a refresher ahead of demand (preloaded, re-read after new events).
   */
  readonly stats = { queries: 0, customers: 0, preloaded: 0, reread: 0 }

  constructor(
    private readonly ch: ClickHouse,
    readonly now: () => number,
    opts: Partial<FeatureCacheOptions> = {},
  ) {
    this.opts = { ...DEFAULT_FEATURE_CACHE, concurrency: ch.embedded ? 1 : 4, ...opts }
    this.queue = new BatchQueue((ids) => this.lookUp(ids), { maxBatch: this.opts.maxBatch, concurrency: this.opts.concurrency })
  }

  /**
   * A customer's features as of at most `asOfStepMs` ago, from a history at most `ttlMs` old.
   * @example await cache.get('c-0000042') // { recency_days: 12, …, lapse_stage: 'active' }
   */
  get(customerId: string): Promise<CustomerFeatures> {
    const entry = this.entries.get(customerId)
    const now = this.now()
    if (entry && this.isCurrent(entry, now)) {
      // Map order is insertion order: moving a hit to the end keeps the least recently used first.
      this.entries.delete(customerId)
      this.entries.set(customerId, entry)
      if (!entry.features || now - entry.asOf >= this.opts.asOfStepMs) {
        entry.features = featuresFromHistory(entry.history, now)
        entry.asOf = now
      }
      return Promise.resolve(entry.features)
    }
    let pending = this.inFlight.get(customerId)
    if (!pending) {
      pending = this.queue.add(customerId).finally(() => this.inFlight.delete(customerId))
      this.inFlight.set(customerId, pending)
    }
    return pending
  }

  get size(): number {
    return this.entries.size
  }

  /** The ids among `ids` that have an entry (current or not). */
  cachedAmong(ids: readonly string[]): string[] {
    return ids.filter((id) => this.entries.has(id))
  }

  /**
   * The cached customers among `changes` (id, last ingested_at on ClickHouse's clock) whose entry may not hold that
   * change: read less than `lagMs` after it (an insert stamps ingested_at when it starts, and commits later) — or,
   * for a settled read, less than SETTLED_LAG_MS (at most `lagMs`) after it. Without the settled case, every
   * customer of a bulk import preloaded in the `lagMs` after it was read twice more, ~2 s of embedded chDB per poll
   * at 20,000 customers while decisions waited behind it.
   */
  staleAmong(changes: ReadonlyArray<readonly [string, number]>, lagMs: number): string[] {
    return changes.flatMap(([id, updatedAt]) => {
      const entry = this.entries.get(id)
      return entry && (entry.readAt === null || updatedAt >= entry.readAt - (entry.settled ? Math.min(SETTLED_LAG_MS, lagMs) : lagMs)) ? [id] : []
    })
  }

  /** Entries read from now on are covered by a refresher that has not completed a poll yet; earlier ones no longer. */
  beginCoverage(from: number) {
    this.coverage = { from, through: null }
  }

  /** The refresher re-read every covered customer with events since its previous poll, as of `through`. */
  coveredThrough(through: number) {
    if (this.coverage) this.coverage.through = through
  }

  /** No lookup on demand is queued or running. */
  get demandIdle(): boolean {
    return this.queue.idle
  }

  /** Reads these customers' histories ahead of demand (they replace any entry), not counted as lookups. */
  async load(ids: string[], why: 'preloaded' | 'reread'): Promise<void> {
    if (!ids.length) return
    const at = this.now()
    const found = await historiesOfCustomers(this.ch, ids)
    this.stats[why] += ids.length
    for (const id of ids) {
      this.entries.delete(id)
      this.entries.set(id, { at, readAt: found.at, settled: found.settled, history: found.histories.get(id) ?? EMPTY, features: null, asOf: at })
    }
    this.evict()
  }

  private isCurrent(entry: Entry, now: number): boolean {
    const c = this.coverage
    const knownAt = c && c.through !== null && entry.at >= c.from ? Math.max(entry.at, c.through) : entry.at
    return now - knownAt < this.opts.ttlMs
  }

  private store(id: string, history: Float64Array, at: number, readAt: number | null, settled: boolean): CustomerFeatures {
    const features = history.length ? featuresFromHistory(history, at) : NO_HISTORY_FEATURES
    this.entries.delete(id)
    this.entries.set(id, { at, readAt, settled, history, features, asOf: at })
    return features
  }

  private async lookUp(ids: string[]): Promise<CustomerFeatures[]> {
    const at = this.now()
    this.stats.queries++
    this.stats.customers += ids.length
    const found = await historiesOfCustomers(this.ch, ids)
    const out = ids.map((id) => this.store(id, found.histories.get(id) ?? EMPTY, at, found.at, found.settled))
    this.evict()
    return out
  }

  /** Evicted here rather than per insert: one pass after a batch, however many it added. */
  private evict() {
    let excess = this.entries.size - this.opts.maxEntries
    for (const id of this.entries.keys()) {
      if (excess-- <= 0) break
      this.entries.delete(id)
    }
  }
}
