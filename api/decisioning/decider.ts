import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { InsertBatcher, type RowWriter } from '../stores/batcher.ts'
import { StoreError } from '../stores/errors.ts'
import { isEmbeddedPostgres } from '../stores/postgres.ts'
import { insertIncentives, type IssuedIncentive } from '../stores/ledger-tables.ts'
import { insertSuppressionLines, insertSuppressions, suppressionLine, type SuppressionRow } from '../stores/suppressions-table.ts'
import { DomainError } from '../domain-errors.ts'
import { assignCompiled } from '../assignment/index.ts'
import type { CachedExperiment, ExperimentCache } from '../experiments/cache.ts'
import type { Arm } from '../experiments/schema.ts'
import { flattenAttributes, type ExposureRow, type ExposureWriter } from '../exposures/writer.ts'
import type { EventRow } from '../ingest/event-schema.ts'
import { IncentiveLedger } from './ledger.ts'
import { BudgetBook, totalOf, type BudgetCounters, type CounterDelta } from './budget.ts'
import { BatchQueue } from './decision-queue.ts'
import { expireOffers } from './expiry.ts'
import { lockAll, lockKey } from './locks.ts'
import { policyVerdict, type CustomerLedger } from './policy.ts'
import { recordRedemptions, type RedemptionEvent } from './redemptions.ts'
import { emptyCounters, offerExpiry, reservationFor, unitCostOf } from './reservation.ts'
import { listPolicies, listTriggers } from './store.ts'
import type { Decision, DecisionReason, Policy } from './schema.ts'
import { errorFields, log } from '../observability/log.ts'
import type { ServerAttributes } from '../segments/server-attributes.ts'

type Offer = Arm['offer']
type Assignment = ReturnType<typeof assignCompiled>
const isIncentive = (offer: Offer | null | undefined): offer is Offer => !!offer && offer.type !== 'none'
const offerFor = (arm: Arm, tier: string | null): Offer => (tier && arm.tierOffers?.[tier]) || arm.offer

/**
 * Every incentive type an experiment could issue, over all arms and tiers: what its policies are checked for.
 * Computed once per cached config (a refresh replaces the entry, so the WeakMap never goes stale).
 */
const typesByEntry = new WeakMap<CachedExperiment, Set<string>>()
function incentiveTypes(entry: CachedExperiment): Set<string> {
  const known = typesByEntry.get(entry)
  if (known) return known
  const types = new Set<string>()
  for (const arm of entry.experiment.arms)
    for (const offer of [arm.offer, ...Object.values(arm.tierOffers ?? {})]) if (isIncentive(offer)) types.add(offer.type)
  typesByEntry.set(entry, types)
  return types
}

/** A decision that needs the customer's ledger: the experiments still in play, with the customer's assignment in each. */
interface Pending {
  customerId: string
  trigger: string
  tier: string | null
  attributes: Record<string, unknown>
  now: number
  candidates: Array<{ entry: CachedExperiment; a: Assignment }>
}

export type DecideInput = { customerId: string; trigger: string; tier?: string; attributes?: Record<string, unknown> }

/**
 * `/v1/decide`: which offer, if any, a customer gets when a trigger fires. Running experiments bound to the
 * trigger are tried in priority order; for each, eligibility (targeting, namespace) and the global holdout come
 * first, then pacing and fatigue policies — the same verdict whatever arm the hash would give, so suppression
 * never biases a comparison — then the budget for incentive arms, then the arm.
 *
 * The state behind the policies and budgets lives in Postgres and is shared by every API process: the decisions
 * of one event-loop tick run in one transaction that locks their customers (and the budgets they may spend), reads
 * the customers' ledger versions, decides, and inserts the incentives with their reservations. Any process can
 * decide for any customer; two decisions for one customer, wherever they run, take turns. The exposure (and the
 * issued incentive) are durable before the answer.
 */
export class Decider {
  readonly ledger: IncentiveLedger
  readonly budgets: BudgetBook
  readonly suppressions: RowWriter<SuppressionRow>
  private readonly batches: BatchQueue<Pending, { decision: Decision; written: Promise<unknown> }>
  private readonly redemptions: InsertBatcher<RedemptionEvent & { fresh?: boolean }>
  /** Embedded only: the incentives of budget-free batches (decideAlone), group-committed. */
  private readonly incentives: InsertBatcher<IssuedIncentive>
  private triggers = new Map<string, { key: string; tiers: string[] }>()
  private policies: Policy[] = []
  /** Told of every decision made (the Prometheus counter of outcomes by reason, api/observability/metrics.ts). */
  onDecision?: (decision: Decision) => void

  constructor(
    private readonly db: Kysely<Database>,
    ch: ClickHouse,
    private readonly experiments: ExperimentCache,
    private readonly exposures: ExposureWriter,
    private readonly clock: () => number = Date.now,
    /** Looks up `features` and `segments` for experiments targeting them; without it they read as missing. */
    private readonly serverAttributes?: ServerAttributes,
  ) {
    this.ledger = new IncentiveLedger(db, isEmbeddedPostgres(db))
    this.budgets = new BudgetBook(db)
    const journals = ch.journals
    this.suppressions = journals
      ? journals.open<SuppressionRow>({
          table: 'suppressions',
          line: suppressionLine,
          insert: (lines, token) => insertSuppressionLines(journals.raw, lines, token),
          maxBatchRows: 50_000,
          maxPendingRows: 200_000,
        })
      : new InsertBatcher<SuppressionRow>({ write: (rows) => insertSuppressions(ch, rows), maxBatchRows: 50_000, maxPendingRows: 200_000, concurrency: 2 })
    // PGlite is one connection: a second batch would only wait for it.
    this.batches = new BatchQueue((items) => this.decideBatch(items), { maxBatch: 1000, concurrency: isEmbeddedPostgres(db) ? 1 : 2 })
    // PGlite runs one statement at a time, so the incentives of the batches decided while one insert runs would each
    // wait their turn anyway; queued together they are one statement, a fraction of the worker's time per decision.
    this.incentives = new InsertBatcher<IssuedIncentive>({
      write: (rows) => insertIncentives(db, rows),
      maxBatchRows: 20_000,
      maxPendingRows: 200_000,
      concurrency: 1,
    })
    this.redemptions = new InsertBatcher({
      write: (rows) => this.redeemBatch(rows),
      maxBatchRows: 20_000,
      maxPendingRows: 200_000,
      concurrency: 1,
    })
  }

  async init() {
    await Promise.all([this.ledger.init(), this.budgets.refreshTotals(), this.refresh()])
  }

  /** Reloads triggers and policies (after a local write, when told of a change, or when polled). */
  async refresh() {
    const [triggers, policies] = await Promise.all([listTriggers(this.db), listPolicies(this.db)])
    this.triggers = new Map(triggers.map((t) => [t.key, t]))
    this.policies = policies
  }

  async decide(input: DecideInput, now: number): Promise<Decision> {
    const decision = await this.choose(input, now)
    this.onDecision?.(decision)
    return decision
  }

  private async choose(input: DecideInput, now: number): Promise<Decision> {
    const trigger = this.triggers.get(input.trigger)
    if (!trigger) throw new DomainError('invalid', 'invalid_input', `unknown trigger '${input.trigger}'`, 'trigger')
    if (input.tier !== undefined && !trigger.tiers.includes(input.tier)) {
      throw new DomainError(
        'invalid',
        'invalid_input',
        `tier '${input.tier}' is not defined on trigger '${trigger.key}' (tiers: ${trigger.tiers.join(', ') || 'none'})`,
        'tier',
      )
    }
    const tier = input.tier ?? null
    const entries = this.experiments
      .all()
      .filter((e) => e.experiment.status === 'running' && e.experiment.trigger === trigger.key)
      .sort((a, b) => a.experiment.priority - b.experiment.priority || (a.experiment.startedAt ?? '').localeCompare(b.experiment.startedAt ?? ''))
    if (!entries.length) return none('no_experiment', tier)

    // Tier is captured with the exposure so reports can show lift per intent tier.
    const attributes = tier ? { ...input.attributes, tier } : { ...input.attributes }
    const targeted = await this.withServerAttributes(input.customerId, attributes, entries)
    const candidates: Pending['candidates'] = []
    for (const entry of entries) {
      const a = assignCompiled(entry.compiled, input.customerId, targeted, this.experiments.globalHoldout)
      if (a.reason === 'not_eligible' || a.reason === 'namespace' || a.reason === 'coverage' || a.reason === 'not_running') continue
      candidates.push({ entry, a })
    }
    if (!candidates.length) return none('not_targeted', tier)
    const first = candidates[0]
    // A global-holdout customer gets nothing whatever their ledger says: no transaction needed.
    if (first.a.reason === 'global_holdout') {
      if (first.a.exposure) await this.exposures.add([exposureRow(first.entry.experiment.id, input.customerId, first.a.exposure.arm, attributes, now)])
      return none('holdout', tier, first.entry.experiment.id, 'global_holdout')
    }
    const { decision, written } = await this.batches.add({ customerId: input.customerId, trigger: trigger.key, tier, attributes, now, candidates })
    await written
    return decision
  }

  /**
   * The attributes targeting is evaluated on: the caller's, plus the customer's features and segments when one of
   * the experiments in play names them. Exposures keep the caller's (reports compute features as of exposure).
   */
  private async withServerAttributes(customerId: string, attributes: Record<string, unknown>, entries: CachedExperiment[]) {
    if (!this.serverAttributes) return attributes
    let features = false
    let segments = false
    let rfmGroup = false
    for (const entry of entries) {
      const needs = this.serverAttributes.needsOf(entry.compiled.targeting)
      features ||= needs.features
      segments ||= needs.segments
      rfmGroup ||= needs.rfmGroup
    }
    return features || segments ? this.serverAttributes.withServerAttributes(customerId, attributes, { features, segments, rfmGroup }) : attributes
  }

  /**
   * Decides a batch in one transaction and starts writing its exposures and suppressions. The queue hands the next
   * batch its turn at the commit, so that batch's transaction overlaps this one's ClickHouse insert; each answer
   * still waits for its own batch's writes.
   */
  private async decideBatch(items: Pending[]): Promise<Array<{ decision: Decision; written: Promise<unknown> }>> {
    const customers = [...new Set(items.map((i) => i.customerId))]
    const budgeted = [...new Set(items.flatMap((i) => i.candidates.filter((c) => c.entry.experiment.budget).map((c) => c.entry.experiment.id)))]
    const exposures: ExposureRow[] = []
    const suppressions: SuppressionRow[] = []
    const reached = new Set<string>()
    const latest = Math.max(...items.map((i) => i.now))
    if (isEmbeddedPostgres(this.db) && !budgeted.length) return this.decideAlone(items, customers, latest)
    let written: Promise<unknown> = Promise.resolve()
    let decisions: Decision[]
    try {
      decisions = await this.db.transaction().execute(async (trx) => {
        await lockAll(this.db, trx, [...customers.map((c) => lockKey('customer', c)), ...budgeted.map((e) => lockKey('budget', e))])
        const [ledgers, counters] = [await this.ledger.read(trx, customers, latest), await this.budgets.load(trx, budgeted)]
        const issued: IssuedIncentive[] = []
        const deltas: CounterDelta[] = []
        const out = items.map((item) => this.decideOne(item, ledgers.get(item.customerId)!, counters, { issued, deltas, exposures, suppressions, reached }))
        // The exposures go to ClickHouse while the incentives commit, as they did before the ledger moved to Postgres:
        // an answer waits for both, and a failed commit answers 503 (the retry lands in the same arm).
        written = Promise.all([this.exposures.add(exposures), this.suppressions.add(suppressions)])
        written.catch(() => undefined)
        await insertIncentives(trx, issued)
        this.ledger.bumped(issued.map((i) => i.customerId))
        await this.budgets.apply(trx, deltas)
        await this.markReached(trx, reached, counters, latest)
        return out
      })
    } catch (error) {
      // The transaction's changes to the cached ledgers did not happen: read them again next time.
      this.ledger.forget(customers)
      throw error instanceof StoreError || error instanceof DomainError ? error : storeUnavailable(error)
    }
    if (reached.size) await this.experiments.refresh()
    return decisions.map((decision) => ({ decision, written }))
  }

  /**
   * Embedded PGlite, no budget in play: this process is the only writer (PGlite holds its data directory), so its
   * cached ledgers are the truth and the batch is decided on them at once; its incentives go to an insert that the
   * next batch need not wait for (it sees them in the cache), shared with the batches decided meanwhile. Answers
   * wait for that insert and the exposures; an insert that fails drops the batch's customers from the cache, to be
   * read again.
   */
  private async decideAlone(items: Pending[], customers: string[], latest: number): Promise<Array<{ decision: Decision; written: Promise<unknown> }>> {
    let ledgers: Map<string, CustomerLedger>
    try {
      ledgers = await this.ledger.read(this.db, customers, latest)
    } catch (error) {
      throw storeUnavailable(error)
    }
    const issued: IssuedIncentive[] = []
    const exposures: ExposureRow[] = []
    const suppressions: SuppressionRow[] = []
    const decisions = items.map((item) =>
      this.decideOne(item, ledgers.get(item.customerId)!, new Map(), { issued, deltas: [], exposures, suppressions, reached: new Set() }),
    )
    this.ledger.bumped(issued.map((i) => i.customerId))
    const stored = this.incentives.add(issued).catch((error: unknown) => {
      this.ledger.forget(customers)
      // 'rows_refused' would tell the client to check its rows, but these rows are the decider's own.
      throw error instanceof StoreError && error.kind !== 'rows_refused' ? error : storeUnavailable(error)
    })
    const written = Promise.all([stored, this.exposures.add(exposures), this.suppressions.add(suppressions)])
    written.catch(() => undefined)
    return decisions.map((decision) => ({ decision, written }))
  }

  private decideOne(
    item: Pending,
    ledger: CustomerLedger,
    counters: Map<string, BudgetCounters>,
    out: { issued: IssuedIncentive[]; deltas: CounterDelta[]; exposures: ExposureRow[]; suppressions: SuppressionRow[]; reached: Set<string> },
  ): Decision {
    const { customerId, tier, now } = item
    let suppressed: Decision | null = null
    for (const { entry, a } of item.candidates) {
      const exp = entry.experiment
      if (a.reason === 'global_holdout') {
        if (a.exposure) out.exposures.push(exposureRow(exp.id, customerId, a.exposure.arm, item.attributes, now))
        return none('holdout', tier, exp.id, 'global_holdout')
      }
      const verdict = policyVerdict(this.policies, incentiveTypes(entry), ledger, now)
      const arm = exp.arms.find((x) => x.key === a.arm) ?? null
      const offer = arm ? offerFor(arm, tier) : null
      let reason: DecisionReason | null = verdict
      let reservation = { reserved: 0, unitCost: offer?.unitCost ?? 0 }
      if (!reason && arm && isIncentive(offer) && exp.budget) {
        const arms = counters.get(exp.id)!
        const before = totalOf(arms)
        if (before.spent + before.reserved >= exp.budget.amount) {
          reason = 'budget'
          out.reached.add(exp.id)
        } else {
          const c = arms.get(arm.key) ?? emptyCounters()
          const unitCost = unitCostOf(offer.unitCost, c)
          reservation = { reserved: reservationFor(exp.budget.reservation, unitCost, c), unitCost }
          arms.set(arm.key, { ...c, reserved: c.reserved + reservation.reserved })
          out.deltas.push({ experimentId: exp.id, arm: arm.key, reserved: reservation.reserved })
          if (before.spent + before.reserved + reservation.reserved >= exp.budget.amount) out.reached.add(exp.id)
        }
      }
      if (reason) {
        out.suppressions.push({ experiment_id: exp.id, customer_id: customerId, reason, trigger_key: item.trigger, tier: tier ?? '', ts: now })
        suppressed ??= none(reason, tier, exp.id)
        continue
      }
      out.exposures.push(exposureRow(exp.id, customerId, a.arm!, item.attributes, now))
      if (arm && isIncentive(offer)) {
        out.issued.push({
          customerId,
          experimentId: exp.id,
          arm: arm.key,
          offerType: offer.type,
          trigger: item.trigger,
          tier,
          at: now,
          ...reservation,
          expiresAt: offerExpiry(now, offer.validityDays),
        })
        ledger.incentives.push({ offerType: offer.type, at: now, experimentId: exp.id })
      }
      return arm ? { offer, experimentKey: exp.id, arm: arm.key, tier, reason: null } : none('holdout', tier, exp.id, 'holdout')
    }
    return suppressed ?? none('not_targeted', tier)
  }

  /** Marks the budgets that spend plus reservations reached, unless this process already knows they are marked. */
  private async markReached(trx: Kysely<Database>, reached: Set<string>, counters: Map<string, BudgetCounters>, at: number) {
    for (const id of [...reached]) {
      const known = this.experiments.get(id)?.experiment.budgetExhaustedAt
      if (known || !(await this.budgets.markReached(trx, id, totalOf(counters.get(id)!), new Date(at)))) reached.delete(id)
    }
  }

  /**
   * Ingestion hook: offer_redeemed events redeem the incentive they answer (its reservation becomes spend),
   * start cooldowns, and add to their experiment's spend, each event id once.
   */
  async onEvents(rows: EventRow[]) {
    const events: Array<RedemptionEvent & { fresh?: boolean }> = rows
      .filter((r) => r.type === 'offer_redeemed')
      .map((r) => {
        const armOffer = r.experiment_id ? this.experiments.get(r.experiment_id)?.experiment.arms.find((x) => x.key === r.arm)?.offer : undefined
        return {
          eventId: r.event_id,
          customerId: r.customer_id,
          experimentId: r.experiment_id,
          arm: r.arm,
          armOfferType: isIncentive(armOffer) ? armOffer.type : null,
          cost: r.cost,
          at: r.ts,
        }
      })
    if (events.length) await this.redemptions.add(events)
  }

  private async redeemBatch(events: Array<RedemptionEvent & { fresh?: boolean }>) {
    const reached = new Set<string>()
    await this.db.transaction().execute(async (trx) => {
      const added = await recordRedemptions(trx, { db: this.db, experiments: this.experiments, budgets: this.budgets, ledger: this.ledger }, events, reached)
      // The budget ran out when the redemption that crossed it happened (the latest of this batch), not when it was ingested.
      const latest = Math.max(...added.map((r) => r.at), 0)
      for (const id of [...reached]) {
        const known = this.experiments.get(id)?.experiment.budgetExhaustedAt
        const totals = { spent: this.budgets.spent(id), reserved: this.budgets.reserved(id) }
        if (known || !(await this.budgets.markReached(trx, id, totals, new Date(latest)))) reached.delete(id)
      }
    })
    if (reached.size) await this.experiments.refresh()
  }

  /** Scheduled work, once across processes: expire offers past their validity, releasing their reservations. */
  async runScheduled(now = this.clock()): Promise<number | null> {
    const expired = await expireOffers(this.db, { experiments: this.experiments, budgets: this.budgets }, now)
    await this.budgets.refreshTotals()
    return expired
  }

  private timers: NodeJS.Timeout[] = []
  /**
   * Polls triggers and policies (the fallback when no change notice arrives) and runs the scheduled work.
   * `scheduleMs` is how often each process offers to run it.
   */
  start(pollMs = 5000, scheduleMs = 60_000) {
    const poll = setInterval(() => this.refresh().catch((e) => log.error(errorFields(e), 'trigger/policy refresh failed')), pollMs)
    const work = setInterval(() => this.runScheduled().catch((e) => log.error(errorFields(e), 'offer expiry failed')), scheduleMs)
    poll.unref()
    work.unref()
    this.timers.push(poll, work)
  }

  async close() {
    for (const t of this.timers) clearInterval(t)
    await this.batches.flush()
    await Promise.all([this.incentives.close(), this.redemptions.close(), this.suppressions.close()])
  }
}

const none = (reason: DecisionReason, tier: string | null, experimentKey: string | null = null, arm: string | null = null): Decision => ({
  offer: null,
  experimentKey,
  arm,
  tier,
  reason,
})

function exposureRow(experimentId: string, customerId: string, arm: string, attributes: Record<string, unknown>, ts: number): ExposureRow {
  return { experiment_id: experimentId, customer_id: customerId, arm, ts, attributes: flattenAttributes(attributes), source: 'decide' }
}

function storeUnavailable(error: unknown): StoreError {
  log.error(errorFields(error), 'decision transaction failed')
  return new StoreError('unavailable', 'the control-plane store did not complete the decision; retry shortly')
}
