import { sql, type Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { InsertBatcher } from '../stores/batcher.ts'
import { insertIncentives, insertRedemptions, type IssuedIncentive, type RedemptionInput } from '../stores/ledger-tables.ts'
import type { CustomerLedger, LedgerEntry } from './policy.ts'

export type { IssuedIncentive, RedemptionInput }

const DAY = 86_400_000
/** How far back the ledger reaches: covers any sensible pacing window or cooldown. */
export const LEDGER_HORIZON_MS = 400 * DAY

/**
 * The incentive ledger behind pacing: every incentive issued and every redemption, durable in Postgres and
 * mirrored in memory for the customers this process has seen, so that a decision needs no database round
 * trip. Customers with no history at start are known to have an empty ledger; the others are loaded on first
 * touch. Decisions for one customer run one at a time (`withCustomer`), so concurrent calls cannot both pass
 * a cap. One process owns a customer's decisions: run several API processes behind a load balancer that
 * routes /v1/decide by customer id (README, limits).
 */
export class IncentiveLedger {
  private known = new Set<string>()
  private cache = new Map<string, CustomerLedger>()
  private locks = new Map<string, Promise<unknown>>()
  readonly writes: InsertBatcher<IssuedIncentive>
  /** Redemptions of concurrent requests go in one statement; `fresh` marks the copy that was new. */
  private readonly redemptionWrites: InsertBatcher<RedemptionInput & { fresh?: boolean }>

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxCached = 500_000,
  ) {
    this.writes = new InsertBatcher<IssuedIncentive>({
      write: (rows) => insertIncentives(db, rows),
      maxBatchRows: 5_000,
      maxPendingRows: 100_000,
      concurrency: 1,
    })
    this.redemptionWrites = new InsertBatcher({
      write: async (rows) => {
        const fresh = await insertRedemptions(db, rows)
        // Only the first copy of an id in the batch is marked, so a resend in the same batch is not spent twice.
        for (const r of rows) if (fresh.delete(r.eventId)) r.fresh = true
      },
      maxBatchRows: 20_000,
      maxPendingRows: 200_000,
      concurrency: 1,
    })
  }

  /** Loads which customers have any recent history (ids only). */
  async init(now = Date.now()): Promise<void> {
    const since = new Date(now - LEDGER_HORIZON_MS)
    const rows = await sql<{ customer_id: string }>`
      select customer_id from incentives where issued_at > ${since}
      union select customer_id from redemptions where redeemed_at > ${since}`.execute(this.db)
    this.known = new Set(rows.rows.map((r) => r.customer_id))
  }

  /** Runs `fn` after every earlier call for the same customer has finished. */
  withCustomer<T>(customerId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(customerId) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => undefined)
    this.locks.set(customerId, tail)
    void tail.then(() => {
      if (this.locks.get(customerId) === tail) this.locks.delete(customerId)
    })
    return run
  }

  async view(customerId: string, now = Date.now()): Promise<CustomerLedger> {
    const cached = this.cache.get(customerId)
    if (cached) return cached
    let ledger: CustomerLedger = { incentives: [], redemptions: [] }
    if (this.known.has(customerId)) {
      const since = new Date(now - LEDGER_HORIZON_MS)
      const [incentives, redemptions] = await Promise.all([
        this.db
          .selectFrom('incentives')
          .select(['offer_type', 'issued_at', 'experiment_id'])
          .where('customer_id', '=', customerId)
          .where('issued_at', '>', since)
          .execute(),
        this.db
          .selectFrom('redemptions')
          .select(['offer_type', 'redeemed_at'])
          .where('customer_id', '=', customerId)
          .where('redeemed_at', '>', since)
          .execute(),
      ])
      ledger = {
        incentives: incentives.map((r) => ({ offerType: r.offer_type, at: new Date(r.issued_at).getTime(), experimentId: r.experiment_id })),
        redemptions: redemptions.map((r) => ({ offerType: r.offer_type, at: new Date(r.redeemed_at).getTime() })),
      }
    }
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!)
    this.cache.set(customerId, ledger)
    return ledger
  }

  /** Records an issued incentive; resolves when it is durable in Postgres. */
  async issue(incentive: IssuedIncentive): Promise<void> {
    const ledger = await this.view(incentive.customerId, incentive.at)
    const entry: LedgerEntry = { offerType: incentive.offerType, at: incentive.at, experimentId: incentive.experimentId }
    ledger.incentives.push(entry)
    this.known.add(incentive.customerId)
    try {
      await this.writes.add([incentive])
    } catch (error) {
      ledger.incentives.splice(ledger.incentives.indexOf(entry), 1)
      throw error
    }
  }

  /**
   * Records redemptions once per event id (durably) and returns the ones not seen before — each exactly once,
   * even when the same event arrives twice in a request or in concurrent requests.
   */
  async redeem(rows: RedemptionInput[]): Promise<RedemptionInput[]> {
    if (!rows.length) return []
    const mine: Array<RedemptionInput & { fresh?: boolean }> = rows.map((r) => ({ ...r }))
    await this.redemptionWrites.add(mine)
    const added = mine.filter((r) => r.fresh).map(({ fresh: _fresh, ...r }) => r)
    for (const r of added) {
      this.known.add(r.customerId)
      this.cache.get(r.customerId)?.redemptions.push({ offerType: r.offerType, at: r.at })
    }
    return added
  }

  /** The offer type of the customer's latest incentive from an experiment, to classify a redemption event. */
  lastIssuedType(customerId: string, experimentId: string): string | null {
    const issued = this.cache.get(customerId)?.incentives.filter((i) => i.experimentId === experimentId) ?? []
    return issued.length ? issued[issued.length - 1].offerType : null
  }

  async close() {
    await Promise.all([this.writes.close(), this.redemptionWrites.close()])
  }
}
