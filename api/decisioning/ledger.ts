import { sql, type Kysely } from 'kysely'
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
  /** Embedded only: every customer with any history, so that the others need no read at all. */
  private known: Set<string> | null = null

  /**
   * `soleWriter`: this process is the only one that can write the ledger (embedded PGlite, whose data directory one
   * process holds), so its cache and the customers it knows to have history are authoritative and a decision reads
   * only the customers it has not seen. With a Postgres server every decision checks the versions.
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly soleWriter: boolean,
    private readonly maxCached = 500_000,
  ) {}

  /** Forgets every cached ledger (they are re-read on next use) and, as sole writer, learns who has history. */
  async init(): Promise<void> {
    this.cache.clear()
    if (!this.soleWriter) return
    const rows = await this.db.selectFrom('ledger_versions').select('customer_id').execute()
    this.known = new Set(rows.map((r) => r.customer_id))
  }

  /** Drops these customers' cached ledgers: a transaction that changed them in memory did not commit, or they have new redemptions. */
  forget(customerIds: Iterable<string>): void {
    for (const id of customerIds) {
      this.cache.delete(id)
      this.known?.add(id)
    }
  }

  /**
   * The current ledgers of these customers: cached ones whose version is still the stored one, the others read
   * in the same statement as the versions. Call holding the customers' locks; the copies returned are the cache's
   * own, to be changed in place by the caller together with `bumped`.
   */
  async read(db: Kysely<Database>, customerIds: string[], now: number): Promise<Map<string, CustomerLedger>> {
    if (this.known) {
      const out = new Map<string, CustomerLedger>()
      const unseen: string[] = []
      for (const id of customerIds) {
        const cached = this.cache.get(id)
        if (cached) out.set(id, cached.ledger)
        else if (!this.known.has(id)) out.set(id, this.put(id, 0, { incentives: [], redemptions: [] }))
        else unseen.push(id)
      }
      if (unseen.length) for (const [id, ledger] of await this.readStored(db, unseen, now)) out.set(id, ledger)
      return out
    }
    return this.readStored(db, customerIds, now)
  }

  private async readStored(db: Kysely<Database>, customerIds: string[], now: number): Promise<Map<string, CustomerLedger>> {
    const since = new Date(now - LEDGER_HORIZON_MS)
    // -1: not cached, so whatever the stored version (0 when there is no row), the ledger is read.
    const cachedVersions = customerIds.map((id) => this.cache.get(id)?.version ?? -1)
    const rows = await sql<{ customer_id: string; version: number | null; kind: 'i' | 'r' | null; offer_type: string; at: Date; experiment_id: string }>`
      with asked as (select * from unnest(${customerIds}::text[], ${cachedVersions}::int8[]) as a(customer_id, cached)),
        v as (select a.customer_id, coalesce(l.version, 0) as version, a.cached from asked a left join ledger_versions l using (customer_id))
      select customer_id, version, null as kind, null as offer_type, null::timestamptz as at, null as experiment_id from v
      union all
      select i.customer_id, null, 'i', i.offer_type, i.issued_at, i.experiment_id from v join incentives i using (customer_id)
        where v.version <> v.cached and v.version > 0 and i.issued_at > ${since}
      union all
      select r.customer_id, null, 'r', r.offer_type, r.redeemed_at, r.experiment_id from v join redemptions r using (customer_id)
        where v.version <> v.cached and v.version > 0 and r.redeemed_at > ${since}`.execute(db)
    const versions = new Map<string, number>()
    const fresh = new Map<string, CustomerLedger>()
    for (const r of rows.rows) {
      if (r.kind === null) {
        versions.set(r.customer_id, Number(r.version))
        continue
      }
      let ledger = fresh.get(r.customer_id)
      if (!ledger) fresh.set(r.customer_id, (ledger = { incentives: [], redemptions: [] }))
      const at = new Date(r.at).getTime()
      if (r.kind === 'i') ledger.incentives.push({ offerType: r.offer_type, at, experimentId: r.experiment_id })
      else ledger.redemptions.push({ offerType: r.offer_type, at })
    }
    const out = new Map<string, CustomerLedger>()
    for (const id of customerIds) {
      const version = versions.get(id) ?? 0
      const cached = this.cache.get(id)
      if (cached && cached.version === version) {
        out.set(id, cached.ledger)
        continue
      }
      const ledger = fresh.get(id) ?? { incentives: [], redemptions: [] }
      ledger.incentives.sort((a, b) => a.at - b.at)
      ledger.redemptions.sort((a, b) => a.at - b.at)
      out.set(id, this.put(id, version, ledger))
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
      this.known?.add(id)
    }
  }

  private put(id: string, version: number, ledger: CustomerLedger): CustomerLedger {
    this.cache.delete(id)
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!)
    this.cache.set(id, { version, ledger })
    return ledger
  }
}
