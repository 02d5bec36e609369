import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { CustomerLedger } from './policy.ts'

const DAY = 86_400_000
/** How far back the ledger reaches: covers any sensible pacing window or cooldown. */
export const LEDGER_HORIZON_MS = 400 * DAY

interface Cached {
  version: number
  ledger: CustomerLedger
}

/**
 * The incentive ledger behind pacing (`incentives` and `redemptions` in Postgres), with an in-process
 * read-through cache. Invalidation: a trigger bumps the customer's row in `ledger_versions` on every statement
 * that adds to their incentives or redemptions, whichever process (or tool) writes them. A decision reads the
 * versions of its customers while holding their locks and reuses a cached ledger only when its version is the
 * stored one; a customer with no version row has no history at all. So any process can decide for any
 * customer, and a stale copy is never used.
 */
export class IncentiveLedger {
  private cache = new Map<string, Cached>()

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxCached = 500_000,
  ) {}

  /** Forgets every cached ledger (they are re-read on next use). */
  init(): void {
    this.cache.clear()
  }

  /** Drops these customers' cached ledgers: a transaction that changed them in memory did not commit. */
  forget(customerIds: Iterable<string>): void {
    for (const id of customerIds) this.cache.delete(id)
  }

  /**
   * The current ledgers of these customers: cached ones whose version is still the stored one, the others read
   * in one query. Call holding the customers' locks; the copies returned are the cache's own, to be changed in
   * place by the caller together with `bumped`.
   */
  async read(trx: Transaction<Database>, customerIds: string[], now: number): Promise<Map<string, CustomerLedger>> {
    const versions = new Map<string, number>()
    const rows = await sql<{ customer_id: string; version: number }>`
      select customer_id, version from ledger_versions where customer_id = any(${customerIds}::text[])`.execute(trx)
    for (const r of rows.rows) versions.set(r.customer_id, Number(r.version))
    const out = new Map<string, CustomerLedger>()
    const stale: string[] = []
    for (const id of customerIds) {
      const version = versions.get(id) ?? 0
      const cached = this.cache.get(id)
      if (cached && cached.version === version) out.set(id, cached.ledger)
      else if (version === 0) out.set(id, this.put(id, 0, { incentives: [], redemptions: [] }))
      else stale.push(id)
    }
    if (stale.length) {
      const since = new Date(now - LEDGER_HORIZON_MS)
      const entries = await sql<{ customer_id: string; kind: 'i' | 'r'; offer_type: string; at: Date; experiment_id: string }>`
        select customer_id, 'i' as kind, offer_type, issued_at as at, experiment_id from incentives
          where customer_id = any(${stale}::text[]) and issued_at > ${since}
        union all
        select customer_id, 'r', offer_type, redeemed_at, experiment_id from redemptions
          where customer_id = any(${stale}::text[]) and redeemed_at > ${since}
        order by at`.execute(trx)
      const fresh = new Map<string, CustomerLedger>(stale.map((id) => [id, { incentives: [], redemptions: [] }]))
      for (const e of entries.rows) {
        const ledger = fresh.get(e.customer_id)!
        const at = new Date(e.at).getTime()
        if (e.kind === 'i') ledger.incentives.push({ offerType: e.offer_type, at, experimentId: e.experiment_id })
        else ledger.redemptions.push({ offerType: e.offer_type, at })
      }
      for (const [id, ledger] of fresh) out.set(id, this.put(id, versions.get(id)!, ledger))
    }
    return out
  }

  /**
   * Records that one statement of the caller's transaction added to these customers' ledgers (the trigger
   * bumped each version once), so their cached copies, changed in place, stay current after the commit.
   */
  bumped(customerIds: Iterable<string>): void {
    for (const id of new Set(customerIds)) {
      const cached = this.cache.get(id)
      if (cached) cached.version++
    }
  }

  private put(id: string, version: number, ledger: CustomerLedger): CustomerLedger {
    this.cache.delete(id)
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!)
    this.cache.set(id, { version, ledger })
    return ledger
  }
}
