/**
 * Customer features for targeting, read through an in-process cache: /v1/decide answers thousands of times a
 * second and a ClickHouse query per call would cap it far below that. Entries live `ttlMs` (features are as of the
 * lookup, so at most that old), the least recently used go past `maxEntries`, concurrent callers for one customer
 * share one lookup, and the misses of an event-loop tick (more while a lookup runs) are read with one query.
 */
import type { ClickHouse } from '../stores/clickhouse.ts'
import { BatchQueue } from '../decisioning/decision-queue.ts'
import type { CustomerFeatures } from './features.ts'
import { featuresFromHistory, type HistoryTuple } from './features-history.ts'

/** The features of a customer with no stored events, as customerFeatures answers them: someone who never bought. */
export const NO_HISTORY_FEATURES: Readonly<CustomerFeatures> = Object.freeze(featuresFromHistory([], 0))

/**
 * Features of many customers as of `asOfMs`, with one query over customer_history (its primary key is the
 * customer id, so the IN list reads only their rows). Customers without history are absent from the map.
 *
 * @example
 * await featuresOfCustomers(ch, ['c-1', 'c-2'], Date.now()) // Map { 'c-1' => { recency_days: 12, … } }
 */
export async function featuresOfCustomers(ch: ClickHouse, ids: readonly string[], asOfMs: number): Promise<Map<string, CustomerFeatures>> {
  // The raw tuples, features computed here (features-history.ts): the query is ~2.5× cheaper without the feature
  // expressions to analyse, and a decision waits for it.
  const query = `SELECT customer_id, groupUniqArrayMerge(history) AS h FROM customer_history WHERE customer_id IN {ids:Array(String)} GROUP BY customer_id`
  const r = await ch.client.query({ query, query_params: { ids }, format: 'JSONCompactEachRow' })
  const rows = await r.json<[string, HistoryTuple[]]>()
  return new Map(rows.map(([id, history]) => [String(id), featuresFromHistory(history, asOfMs)]))
}

export interface FeatureCacheOptions {
  ttlMs: number
  maxEntries: number
  /** Customers per query. */
  maxBatch: number
  /** Queries at once: 1 on embedded chDB, whose queries run one after the other anyway. */
  concurrency: number
}

export const DEFAULT_FEATURE_CACHE: FeatureCacheOptions = { ttlMs: 60_000, maxEntries: 100_000, maxBatch: 1000, concurrency: 1 }

export class CustomerFeatureCache {
  private readonly entries = new Map<string, { at: number; features: CustomerFeatures }>()
  private readonly inFlight = new Map<string, Promise<CustomerFeatures>>()
  private readonly queue: BatchQueue<string, CustomerFeatures>
  private readonly opts: FeatureCacheOptions
  /** Queries run and customers looked up (tests check batching and sharing with them). */
  readonly stats = { queries: 0, customers: 0 }

  constructor(
    private readonly ch: ClickHouse,
    private readonly now: () => number,
    opts: Partial<FeatureCacheOptions> = {},
  ) {
    this.opts = { ...DEFAULT_FEATURE_CACHE, concurrency: ch.embedded ? 1 : 4, ...opts }
    this.queue = new BatchQueue((ids) => this.lookUp(ids), { maxBatch: this.opts.maxBatch, concurrency: this.opts.concurrency })
  }

  /**
   * A customer's features as of at most `ttlMs` ago.
   * @example await cache.get('c-0000042') // { recency_days: 12, …, lapse_stage: 'active' }
   */
  get(customerId: string): Promise<CustomerFeatures> {
    const entry = this.entries.get(customerId)
    if (entry && this.now() - entry.at < this.opts.ttlMs) {
      // Map order is insertion order: moving a hit to the end keeps the least recently used first.
      this.entries.delete(customerId)
      this.entries.set(customerId, entry)
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

  private async lookUp(ids: string[]): Promise<CustomerFeatures[]> {
    const at = this.now()
    this.stats.queries++
    this.stats.customers += ids.length
    const found = await featuresOfCustomers(this.ch, ids, at)
    const out = ids.map((id) => {
      const features = found.get(id) ?? NO_HISTORY_FEATURES
      this.entries.delete(id)
      this.entries.set(id, { at, features })
      return features
    })
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
