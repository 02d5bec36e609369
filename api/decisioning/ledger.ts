import { CompiledQuery, sql, type Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { isEmbeddedPostgres } from '../stores/postgres.ts'
import { InsertBatcher } from '../ingest/batcher.ts'
import type { CustomerLedger, LedgerEntry } from './policy.ts'

const DAY = 86_400_000
/** How far back the ledger reaches: covers any sensible pacing window or cooldown. */
export const LEDGER_HORIZON_MS = 400 * DAY

export interface IssuedIncentive {
  customerId: string
  experimentId: string
  arm: string
  offerType: string
  trigger: string
  tier: string | null
  at: number
}

export interface RedemptionInput {
  eventId: string
  customerId: string
  experimentId: string
  offerType: string
  cost: number
  at: number
}

const copyRedemptions = "copy redemptions (event_id, customer_id, experiment_id, offer_type, cost, redeemed_at) from '/dev/blob' with (format csv)"

/** One redemption as a CSV line for COPY: every text quoted, so commas and quotes inside ids stay data. */
function csvLine(r: RedemptionInput): string {
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`
  return `${q(r.eventId)},${q(r.customerId)},${q(r.experimentId)},${q(r.offerType)},${r.cost},${new Date(r.at).toISOString()}`
}

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

  constructor(private readonly db: Kysely<Database>, private readonly maxCached = 500_000) {
    this.writes = new InsertBatcher<IssuedIncentive>({
      write: async (rows) => {
        await db
          .insertInto('incentives')
          .values(rows.map((r) => ({ customer_id: r.customerId, experiment_id: r.experimentId, arm: r.arm, offer_type: r.offerType, trigger_key: r.trigger, tier: r.tier, issued_at: new Date(r.at) })))
          .execute()
      },
      maxBatchRows: 5_000,
      maxPendingRows: 100_000,
      concurrency: 1,
    })
    const copy = isEmbeddedPostgres(db)
    this.redemptionWrites = new InsertBatcher({
      write: async (rows) => {
        const byId = new Map<string, RedemptionInput & { fresh?: boolean }>()
        for (const r of rows) if (!byId.has(r.eventId)) byId.set(r.eventId, r)
        const list = [...byId.values()]
        if (copy) {
          // Embedded PGlite: COPY costs about two thirds of the INSERT below and, when no event id is known yet
          // (the usual case), stores them all. A known id fails the whole COPY, which then stores nothing.
          try {
            await db.executeQuery(CompiledQuery.raw(copyRedemptions, [list.map(csvLine).join('\n')]))
            for (const r of list) r.fresh = true
            return
          } catch (e) {
            if ((e as { code?: string }).code !== '23505') throw e
          }
        }
        // One array parameter per column instead of six per row: an order of magnitude less to bind and plan.
        const inserted = await sql<{ event_id: string }>`
          insert into redemptions (event_id, customer_id, experiment_id, offer_type, cost, redeemed_at)
          select * from unnest(${list.map((r) => r.eventId)}::text[], ${list.map((r) => r.customerId)}::text[], ${list.map((r) => r.experimentId)}::text[],
            ${list.map((r) => r.offerType)}::text[], ${list.map((r) => r.cost)}::float8[], ${list.map((r) => new Date(r.at).toISOString())}::timestamptz[])
          on conflict (event_id) do nothing
          returning event_id`.execute(db)
        for (const r of inserted.rows) byId.get(r.event_id)!.fresh = true
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
        this.db.selectFrom('incentives').select(['offer_type', 'issued_at', 'experiment_id']).where('customer_id', '=', customerId).where('issued_at', '>', since).execute(),
        this.db.selectFrom('redemptions').select(['offer_type', 'redeemed_at']).where('customer_id', '=', customerId).where('redeemed_at', '>', since).execute(),
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
