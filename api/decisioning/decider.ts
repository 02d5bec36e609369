import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import { InsertBatcher } from '../stores/batcher.ts'
import { insertSuppressions, type SuppressionRow } from '../stores/suppressions-table.ts'
import { DomainError } from '../domain-errors.ts'
import { assignCompiled } from '../assignment/index.ts'
import type { CachedExperiment, ExperimentCache } from '../experiments/cache.ts'
import type { Arm } from '../experiments/schema.ts'
import { flattenAttributes, type ExposureWriter } from '../exposures/writer.ts'
import type { EventRow } from '../ingest/event-schema.ts'
import { IncentiveLedger } from './ledger.ts'
import { BudgetTracker } from './budget.ts'
import { policyVerdict } from './policy.ts'
import { listPolicies, listTriggers } from './store.ts'
import type { Decision, DecisionReason, Policy } from './schema.ts'
import { errorFields, log } from '../observability/log.ts'

type Offer = Arm['offer']
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

/**
 * `/v1/decide`: which offer, if any, a customer gets when a trigger fires. Running experiments bound to the
 * trigger are tried in priority order; for each, eligibility (targeting, namespace) and the global holdout come
 * first, then pacing and fatigue policies — the same verdict whatever arm the hash would give, so suppression
 * never biases a comparison — then the budget for incentive arms, then the arm. The exposure (and the issued
 * incentive) are durable before the answer.
 */
export class Decider {
  readonly ledger: IncentiveLedger
  readonly budgets: BudgetTracker
  readonly suppressions: InsertBatcher<SuppressionRow>
  private triggers = new Map<string, { key: string; tiers: string[] }>()
  private policies: Policy[] = []

  constructor(
    private readonly db: Kysely<Database>,
    ch: ClickHouse,
    private readonly experiments: ExperimentCache,
    private readonly exposures: ExposureWriter,
  ) {
    this.ledger = new IncentiveLedger(db)
    this.budgets = new BudgetTracker(db, experiments)
    this.suppressions = new InsertBatcher<SuppressionRow>({
      write: (rows) => insertSuppressions(ch, rows),
      maxBatchRows: 50_000,
      maxPendingRows: 200_000,
      concurrency: ch.embedded ? 1 : 2,
    })
  }

  async init(now = Date.now()) {
    await Promise.all([this.ledger.init(now), this.budgets.init(), this.refresh()])
  }

  /** Reloads triggers and policies (after a local write, or when polled). */
  async refresh() {
    const [triggers, policies] = await Promise.all([listTriggers(this.db), listPolicies(this.db)])
    this.triggers = new Map(triggers.map((t) => [t.key, t]))
    this.policies = policies
  }

  /** Told of every decision made (the Prometheus counter of outcomes by reason, api/observability/metrics.ts). */
  onDecision?: (decision: Decision) => void

  async decide(input: { customerId: string; trigger: string; tier?: string; attributes?: Record<string, unknown> }, now: number): Promise<Decision> {
    const decision = await this.choose(input, now)
    this.onDecision?.(decision)
    return decision
  }

  private async choose(input: { customerId: string; trigger: string; tier?: string; attributes?: Record<string, unknown> }, now: number): Promise<Decision> {
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
    const candidates = this.experiments
      .all()
      .filter((e) => e.experiment.status === 'running' && e.experiment.trigger === trigger.key)
      .sort((a, b) => a.experiment.priority - b.experiment.priority || (a.experiment.startedAt ?? '').localeCompare(b.experiment.startedAt ?? ''))
    const none = (reason: DecisionReason, experimentKey: string | null = null, arm: string | null = null): Decision => ({
      offer: null,
      experimentKey,
      arm,
      tier,
      reason,
    })
    if (!candidates.length) return none('no_experiment')

    // Tier is captured with the exposure so reports can show lift per intent tier.
    const attributes = tier ? { ...input.attributes, tier } : { ...input.attributes }
    return this.ledger.withCustomer(input.customerId, async () => {
      const ledger = await this.ledger.view(input.customerId, now)
      let suppressed: Decision | null = null
      for (const entry of candidates) {
        const exp = entry.experiment
        const a = assignCompiled(entry.compiled, input.customerId, attributes, this.experiments.globalHoldout)
        if (a.reason === 'not_eligible' || a.reason === 'namespace' || a.reason === 'coverage' || a.reason === 'not_running') continue
        if (a.reason === 'global_holdout') {
          if (a.exposure)
            await this.exposures.add([
              {
                experiment_id: exp.id,
                customer_id: input.customerId,
                arm: a.exposure.arm,
                ts: now,
                attributes: flattenAttributes(attributes),
                source: 'decide',
              },
            ])
          return none('holdout', exp.id, 'global_holdout')
        }
        const verdict = policyVerdict(this.policies, incentiveTypes(entry), ledger, now)
        const arm = exp.arms.find((x) => x.key === a.arm) ?? null
        const offer = arm ? offerFor(arm, tier) : null
        const reason: DecisionReason | null = verdict ?? (isIncentive(offer) && this.budgets.exhausted(exp) ? 'budget' : null)
        if (reason) {
          await this.suppressions.add([{ experiment_id: exp.id, customer_id: input.customerId, reason, trigger_key: trigger.key, tier: tier ?? '', ts: now }])
          suppressed ??= none(reason, exp.id)
          continue
        }
        const writes: Promise<void>[] = [
          this.exposures.add([
            { experiment_id: exp.id, customer_id: input.customerId, arm: a.arm!, ts: now, attributes: flattenAttributes(attributes), source: 'decide' },
          ]),
        ]
        if (arm && isIncentive(offer))
          writes.push(
            this.ledger.issue({ customerId: input.customerId, experimentId: exp.id, arm: arm.key, offerType: offer.type, trigger: trigger.key, tier, at: now }),
          )
        await Promise.all(writes)
        return arm ? { offer, experimentKey: exp.id, arm: arm.key, tier, reason: null } : none('holdout', exp.id, 'holdout')
      }
      return suppressed ?? none('not_targeted')
    })
  }

  /**
   * Ingestion hook: offer_redeemed events start cooldowns and add to their experiment's spend (once per
   * eventId); an experiment whose budget runs out is refreshed in the cache at once.
   */
  async onEvents(rows: EventRow[]) {
    const redemptions = rows
      .filter((r) => r.type === 'offer_redeemed')
      .map((r) => {
        const entry = r.experiment_id ? this.experiments.get(r.experiment_id) : undefined
        const armOffer = entry?.experiment.arms.find((x) => x.key === r.arm)?.offer
        const offerType = this.ledger.lastIssuedType(r.customer_id, r.experiment_id) ?? (isIncentive(armOffer) ? armOffer.type : 'unknown')
        return { eventId: r.event_id, customerId: r.customer_id, experimentId: r.experiment_id, offerType, cost: r.cost, at: r.ts }
      })
    if (!redemptions.length) return
    const added = await this.ledger.redeem(redemptions)
    // The budget ran out when the redemption that crossed it happened (the latest of this batch), not when it was ingested.
    const latest = new Date(Math.max(...added.map((r) => r.at), 0))
    const exhausted = added.length
      ? await this.budgets.add(
          added.filter((r) => r.experimentId).map((r) => ({ experimentId: r.experimentId, cost: r.cost })),
          latest,
        )
      : []
    if (exhausted.length) await this.experiments.refresh()
  }

  private timer: NodeJS.Timeout | null = null
  /** Other API processes may change triggers and policies: poll them like experiment configs. */
  start(pollMs = 5000) {
    this.timer = setInterval(() => this.refresh().catch((e) => log.error(errorFields(e), 'trigger/policy refresh failed')), pollMs)
    this.timer.unref()
  }

  async close() {
    if (this.timer) clearInterval(this.timer)
    await Promise.all([this.ledger.close(), this.suppressions.close()])
  }
}
