import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { recordAudit } from '../audit/log.ts'
import type { ExperimentCache } from '../experiments/cache.ts'
import type { Experiment } from '../experiments/schema.ts'

/**
 * Incentive spend per experiment (Σ cost of its redemptions, each event counted once) against its budget.
 * When spend reaches the budget the experiment is marked exhausted (audited): from then on its incentive
 * arms receive no new customers, while control and holdout go on.
 */
export class BudgetTracker {
  private spend = new Map<string, number>()

  constructor(
    private readonly db: Kysely<Database>,
    private readonly experiments: ExperimentCache,
  ) {}

  async init(): Promise<void> {
    const rows = await this.db
      .selectFrom('redemptions')
      .select(['experiment_id', (eb) => eb.fn.sum<number>('cost').as('spent')])
      .groupBy('experiment_id')
      .execute()
    this.spend = new Map(rows.map((r) => [r.experiment_id, Number(r.spent)]))
  }

  spent(experimentId: string): number {
    return this.spend.get(experimentId) ?? 0
  }

  /** Whether an experiment's incentives must stop: its budget is marked exhausted or its spend has reached it. */
  exhausted(experiment: Experiment): boolean {
    return !!experiment.budgetExhaustedAt || (!!experiment.budget && this.spent(experiment.id) >= experiment.budget.amount)
  }

  /**
   * Adds new redemption costs; returns the experiments whose budget just ran out. Only an experiment that the
   * in-memory experiment cache shows as having just crossed its budget costs a database round trip.
   */
  async add(costs: Array<{ experimentId: string; cost: number }>, now = new Date()): Promise<string[]> {
    const touched = new Set<string>()
    for (const c of costs) {
      this.spend.set(c.experimentId, this.spent(c.experimentId) + c.cost)
      touched.add(c.experimentId)
    }
    const crossing = [...touched].filter((id) => {
      const experiment = this.experiments.get(id)?.experiment
      return !!experiment && !experiment.budgetExhaustedAt && this.exhausted(experiment)
    })
    if (!crossing.length) return []
    // The cache may lag another process's edit: the stored budget decides.
    const candidates = await this.db
      .selectFrom('experiments')
      .select(['id', 'budget'])
      .where('id', 'in', crossing)
      .where('budget', 'is not', null)
      .where('budget_exhausted_at', 'is', null)
      .execute()
    const exhausted = candidates.filter((e) => e.budget && this.spent(e.id) >= e.budget.amount).map((e) => e.id)
    for (const id of exhausted) {
      await this.db.transaction().execute(async (trx) => {
        await trx.updateTable('experiments').set({ budget_exhausted_at: now, updated_at: now }).where('id', '=', id).execute()
        await recordAudit(
          trx,
          { actor: 'system', action: 'experiment.budget_exhausted', entityType: 'experiment', entityId: id, after: { spent: this.spent(id) } },
          now,
        )
      })
    }
    return exhausted
  }
}
