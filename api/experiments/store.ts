import type { Kysely, Selectable } from 'kysely'
import type { Database, ExperimentTable, NoteTable } from '../stores/schema.ts'
import { DomainError, notFound } from '../domain-errors.ts'
import { recordAudit } from '../audit/log.ts'
import { checkPlannedEnd, checkUpdate, nextStatus, type Transition } from './lifecycle.ts'
import { pinCatalogueMetrics } from './catalogue-refs.ts'
import { Analysis, type Experiment, type ExperimentCreate, type ExperimentStatus, type ExperimentUpdate, type Note } from './schema.ts'

type Db = Kysely<Database>

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())

function toNote(r: Selectable<NoteTable>): Note {
  return {
    id: r.id,
    kind: r.kind as Note['kind'],
    body: r.body,
    chosenArm: r.chosen_arm,
    author: r.author,
    createdAt: new Date(r.created_at).toISOString(),
  }
}

function toExperiment(r: Selectable<ExperimentTable>, decision: Note | null): Experiment {
  return {
    id: r.id,
    name: r.name,
    hypothesis: r.hypothesis,
    status: r.status as ExperimentStatus,
    seed: r.seed,
    arms: r.arms as Experiment['arms'],
    holdoutPct: r.holdout_pct,
    coverage: r.coverage,
    targeting: r.targeting,
    namespace: r.namespace,
    // Parsing fills defaults added after the row was written.
    analysis: Analysis.parse(r.analysis),
    tags: r.tags,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    startedAt: iso(r.started_at),
    stoppedAt: iso(r.stopped_at),
    createdBy: r.created_by,
    decision,
    trigger: r.trigger_key,
    priority: r.priority,
    budget: r.budget ? { maxCostPerIncrementalConversion: null, reservation: 'expected_cost', ...r.budget, currency: r.budget.currency ?? 'USD' } : null,
    budgetExhaustedAt: iso(r.budget_exhausted_at),
  }
}

/**
 * An experiment bound to a trigger must name an existing trigger, and tier-specific offers must name tiers
 * that trigger defines.
 */
async function checkTrigger(db: Db, trigger: string | null | undefined, arms: Experiment['arms'] | undefined) {
  const tiered = (arms ?? []).flatMap((a, i) => Object.keys(a.tierOffers ?? {}).map((tier) => ({ i, tier })))
  if (!trigger) {
    if (tiered.length)
      throw new DomainError('invalid', 'invalid_input', 'tier-specific offers need the experiment to be bound to a trigger', `arms.${tiered[0].i}.tierOffers`)
    return
  }
  const row = await db.selectFrom('triggers').select(['key', 'tiers']).where('key', '=', trigger).executeTakeFirst()
  if (!row) throw new DomainError('invalid', 'invalid_input', `unknown trigger '${trigger}': create it with POST /v1/triggers first`, 'trigger')
  for (const { i, tier } of tiered) {
    if (!row.tiers.includes(tier))
      throw new DomainError(
        'invalid',
        'invalid_input',
        `tier '${tier}' is not defined on trigger '${trigger}' (tiers: ${row.tiers.join(', ') || 'none'})`,
        `arms.${i}.tierOffers.${tier}`,
      )
  }
}

export function slugify(name: string): string {
  const s = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 56)
  return s || 'experiment'
}

async function latestDecisions(db: Db, ids: string[]): Promise<Map<string, Note>> {
  const out = new Map<string, Note>()
  if (!ids.length) return out
  const rows = await db
    .selectFrom('experiment_notes')
    .selectAll()
    .where('kind', '=', 'decision')
    .where('experiment_id', 'in', ids)
    .orderBy('id', 'asc')
    .execute()
  for (const r of rows) out.set(r.experiment_id, toNote(r))
  return out
}

export async function getExperiment(db: Db, id: string): Promise<Experiment> {
  const row = await db.selectFrom('experiments').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) throw notFound('experiment', id)
  return toExperiment(row, (await latestDecisions(db, [id])).get(id) ?? null)
}

export async function listExperiments(db: Db, filter: { status?: ExperimentStatus } = {}): Promise<Experiment[]> {
  let q = db.selectFrom('experiments').selectAll().orderBy('created_at', 'desc')
  if (filter.status) q = q.where('status', '=', filter.status)
  const rows = await q.execute()
  const decisions = await latestDecisions(
    db,
    rows.map((r) => r.id),
  )
  return rows.map((r) => toExperiment(r, decisions.get(r.id) ?? null))
}

/**
 * Creates a draft experiment. The id defaults to a slug of the name (suffixed when taken); an explicit id
 * that exists already is a 409 rather than a silent overwrite.
 */
export async function createExperiment(db: Db, input: ExperimentCreate, actor: string, now = new Date()): Promise<Experiment> {
  checkPlannedEnd(input.analysis, now, 'today')
  return db.transaction().execute(async (trx) => {
    await checkTrigger(trx, input.trigger, input.arms)
    const analysis = { ...input.analysis, catalogueMetrics: await pinCatalogueMetrics(trx, input.analysis.catalogueMetrics) }
    await checkNameFree(trx, input.name)
    let id = input.id
    if (id) {
      const exists = await trx.selectFrom('experiments').select('id').where('id', '=', id).executeTakeFirst()
      if (exists) throw new DomainError('conflict', 'already_exists', `experiment '${id}' already exists`, 'id')
    } else {
      const base = slugify(input.name)
      const taken = new Set((await trx.selectFrom('experiments').select('id').where('id', 'like', `${base}%`).execute()).map((r) => r.id))
      id = base
      for (let i = 2; taken.has(id); i++) id = `${base}-${i}`
    }
    await trx
      .insertInto('experiments')
      .values({
        id,
        name: input.name,
        hypothesis: input.hypothesis,
        status: 'draft',
        seed: input.seed ?? id,
        arms: JSON.stringify(input.arms),
        holdout_pct: input.holdoutPct,
        coverage: input.coverage,
        targeting: JSON.stringify(input.targeting),
        namespace: JSON.stringify(input.namespace),
        analysis: JSON.stringify(analysis),
        tags: JSON.stringify(input.tags),
        created_at: now,
        updated_at: now,
        started_at: null,
        stopped_at: null,
        created_by: actor,
        trigger_key: input.trigger,
        priority: input.priority,
        budget: JSON.stringify(input.budget),
        budget_exhausted_at: null,
      })
      .execute()
    if (input.hypothesis) {
      await trx
        .insertInto('experiment_notes')
        .values({ experiment_id: id, kind: 'hypothesis', body: input.hypothesis, chosen_arm: null, author: actor, created_at: now })
        .execute()
    }
    const created = await getExperiment(trx, id)
    await recordAudit(trx, { actor, action: 'experiment.create', entityType: 'experiment', entityId: id, after: created }, now)
    return created
  })
}

/**
 * Two experiments with one name cannot be told apart in lists, reports and digests: a name in use (ignoring case
 * and surrounding spaces) is refused with a free one to use instead.
 */
async function checkNameFree(trx: Db, name: string, exceptId?: string) {
  const key = (n: string) => n.trim().toLowerCase()
  const names = (await trx.selectFrom('experiments').select(['id', 'name']).execute()).filter((r) => r.id !== exceptId).map((r) => key(r.name))
  if (!names.includes(key(name))) return
  const taken = new Set(names)
  let i = 2
  while (taken.has(key(`${name.trim()} (${i})`))) i++
  throw new DomainError('conflict', 'name_taken', `an experiment is already named '${name.trim()}'; choose another name, e.g. '${name.trim()} (${i})'`, 'name')
}

export async function updateExperiment(db: Db, id: string, update: ExperimentUpdate, actor: string, now = new Date()): Promise<Experiment> {
  return db.transaction().execute(async (trx) => {
    const before = await getExperiment(trx, id)
    checkUpdate(before, update, now)
    if (update.trigger !== undefined || update.arms !== undefined)
      await checkTrigger(trx, update.trigger !== undefined ? update.trigger : before.trigger, update.arms ?? before.arms)
    const values: Record<string, unknown> = { updated_at: now }
    if (update.name !== undefined) {
      await checkNameFree(trx, update.name, id)
      values.name = update.name
    }
    if (update.hypothesis !== undefined) values.hypothesis = update.hypothesis
    if (update.arms !== undefined) values.arms = JSON.stringify(update.arms)
    if (update.holdoutPct !== undefined) values.holdout_pct = update.holdoutPct
    if (update.coverage !== undefined) values.coverage = update.coverage
    if (update.targeting !== undefined) values.targeting = JSON.stringify(update.targeting)
    if (update.namespace !== undefined) values.namespace = JSON.stringify(update.namespace)
    if (update.seed !== undefined) values.seed = update.seed
    if (update.analysis !== undefined)
      values.analysis = JSON.stringify({
        ...update.analysis,
        catalogueMetrics: await pinCatalogueMetrics(trx, update.analysis.catalogueMetrics, before.analysis.catalogueMetrics),
      })
    if (update.tags !== undefined) values.tags = JSON.stringify(update.tags)
    if (update.trigger !== undefined) values.trigger_key = update.trigger
    if (update.priority !== undefined) values.priority = update.priority
    if (update.budget !== undefined) {
      values.budget = JSON.stringify(update.budget)
      // A raised budget reopens the incentive arms; spend is re-checked on the next redemption.
      values.budget_exhausted_at = null
      // Counters exist only while there is a budget: a budget set again later recounts from the ledger.
      if (update.budget === null) await trx.deleteFrom('budget_arms').where('experiment_id', '=', id).execute()
    }
    await trx.updateTable('experiments').set(values).where('id', '=', id).execute()
    const after = await getExperiment(trx, id)
    await recordAudit(trx, { actor, action: 'experiment.update', entityType: 'experiment', entityId: id, before, after }, now)
    return after
  })
}

export async function transitionExperiment(db: Db, id: string, transition: Transition, actor: string, now = new Date()): Promise<Experiment> {
  return db.transaction().execute(async (trx) => {
    const before = await getExperiment(trx, id)
    const status = nextStatus(before.status, transition)
    const values: Record<string, unknown> = { status, updated_at: now }
    if (transition === 'start') {
      values.started_at = now
      try {
        checkPlannedEnd(before.analysis, now, 'start')
      } catch {
        throw new DomainError(
          'conflict',
          'planned_end_passed',
          `the planned end date ${before.analysis.successCriteria?.plannedEndDate} is not after today; move it before starting`,
          'analysis.successCriteria.plannedEndDate',
        )
      }
    }
    if (transition === 'stop') values.stopped_at = now
    await trx.updateTable('experiments').set(values).where('id', '=', id).execute()
    const after = await getExperiment(trx, id)
    await recordAudit(
      trx,
      { actor, action: `experiment.${transition}`, entityType: 'experiment', entityId: id, before: { status: before.status }, after: { status } },
      now,
    )
    return after
  })
}

export async function listNotes(db: Db, id: string): Promise<Note[]> {
  await getExperiment(db, id)
  const rows = await db.selectFrom('experiment_notes').selectAll().where('experiment_id', '=', id).orderBy('id', 'asc').execute()
  return rows.map(toNote)
}

/** Adds a hypothesis, note or decision. A decision names an arm of the experiment (or the holdout). */
export async function addNote(
  db: Db,
  id: string,
  input: { kind: Note['kind']; body: string; chosenArm?: string },
  actor: string,
  now = new Date(),
): Promise<Note> {
  return db.transaction().execute(async (trx) => {
    const exp = await getExperiment(trx, id)
    let chosenArm: string | null = null
    if (input.kind === 'decision') {
      const keys = [...exp.arms.map((a) => a.key), ...(exp.holdoutPct > 0 ? ['holdout'] : [])]
      if (!input.chosenArm) throw new DomainError('invalid', 'invalid_input', 'a decision must name the chosen arm', 'chosenArm')
      if (!keys.includes(input.chosenArm)) throw new DomainError('invalid', 'invalid_input', `chosenArm must be one of: ${keys.join(', ')}`, 'chosenArm')
      chosenArm = input.chosenArm
    } else if (input.chosenArm !== undefined) {
      throw new DomainError('invalid', 'invalid_input', 'only a decision names a chosen arm', 'chosenArm')
    }
    const row = await trx
      .insertInto('experiment_notes')
      .values({ experiment_id: id, kind: input.kind, body: input.body, chosen_arm: chosenArm, author: actor, created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow()
    if (input.kind === 'hypothesis') await trx.updateTable('experiments').set({ hypothesis: input.body, updated_at: now }).where('id', '=', id).execute()
    else await trx.updateTable('experiments').set({ updated_at: now }).where('id', '=', id).execute()
    const note = toNote(row)
    await recordAudit(trx, { actor, action: `experiment.${input.kind}`, entityType: 'experiment', entityId: id, after: note }, now)
    return note
  })
}

/** The newest change to any experiment: API processes poll it to refresh their cached configs. */
export async function experimentsVersion(db: Db): Promise<string> {
  const r = await db
    .selectFrom('experiments')
    .select((eb) => [eb.fn.max('updated_at').as('v'), eb.fn.countAll().as('n')])
    .executeTakeFirst()
  return `${r?.v ? new Date(r.v as Date).toISOString() : ''}:${r?.n ?? 0}`
}
