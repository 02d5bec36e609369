/**
 * Seeds a world straight into the stores, with real dates: experiments that started weeks ago, exposures on
 * the days their waves went out, a year of history before them and the outcomes after them. The control
 * plane goes through the same store functions the API routes call; the data plane is inserted in bulk.
 * Arms come from the API's own pure assignment (compileExperiment + assignCompiled with the global holdout
 * from settings), so every customer is in the arm POST /v1/assign would answer.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../api/stores/schema.ts'
import type { ClickHouse } from '../api/stores/clickhouse.ts'
import { compileExperiment, type CompiledExperiment, type GlobalHoldout } from '../api/assignment/index.ts'
import { ExperimentCreate } from '../api/experiments/schema.ts'
import { addNote, createExperiment, transitionExperiment } from '../api/experiments/store.ts'
import { getSettings, updateSettings } from '../api/settings/store.ts'
import { insertExposures, type ExposureRow } from '../api/stores/exposures-table.ts'
import { insertEvents, type EventRow } from '../api/stores/events-table.ts'
import { demoPlan, DEMO_CUSTOMERS, type WorldPlan } from './experiments.ts'
import { placeExperiments, SeedError, worldChunks, type PlacedExperiment, type SeedSummary } from './generate.ts'
import { TruthBuilder, type Truth } from './truth.ts'
import { DAY } from './world.ts'

export interface SeedOptions {
  seed?: number
  customers?: number
  plan?: WorldPlan
  /** "Now" of the world (ms); defaults to the real clock. */
  now?: number
  /** Called after every chunk with customers done and rows written so far. */
  onProgress?: (customers: number, events: number) => void
  onWarning?: (message: string) => void
}

const ACTOR = 'seed'

/** Refuses to seed over experiments with the plan's ids: the world would mix two runs. */
export async function assertPlanIsNew(db: Kysely<Database>, plan: WorldPlan) {
  const ids = plan.experiments.map((e) => e.definition.id)
  const taken = await db.selectFrom('experiments').select('id').where('id', 'in', ids).execute()
  if (taken.length) {
    throw new SeedError(
      `experiment(s) ${taken.map((t) => t.id).join(', ')} already exist: seed into an empty data directory (npm run demo:reset rebuilds the demo)`,
    )
  }
}

/** Sets the plan's global holdout when it may still change; otherwise seeds with the one in force. */
export async function effectiveGlobalHoldout(db: Kysely<Database>, plan: WorldPlan, at: Date, warn: (m: string) => void): Promise<GlobalHoldout> {
  try {
    await updateSettings(db, { globalHoldoutPct: plan.globalHoldout.pct, globalHoldoutSeed: plan.globalHoldout.seed }, ACTOR, at)
  } catch (e) {
    warn(`keeping the current global holdout (${e instanceof Error ? e.message : e})`)
  }
  const s = await getSettings(db)
  return { pct: s.globalHoldoutPct, seed: s.globalHoldoutSeed }
}

/**
 * Seeds `customers` customers of the plan's world into the stores and returns the planted truth.
 *
 * There is no API to backdate an experiment's start, so this writes through the experiment store's clock
 * parameter instead: created_at, started_at, stopped_at, decision notes and their audit entries carry the
 * dates of the story (e.g. started 40 days ago). Only the seed does this; the API always uses the real clock.
 *
 * @example
 * const { truth, summary } = await seedDirect({ db, ch }, { seed: 42, customers: 40_000 })
 * summary.events // ≈ 400k rows
 */
export async function seedDirect(stores: { db: Kysely<Database>; ch: ClickHouse }, opts: SeedOptions = {}): Promise<{ summary: SeedSummary; truth: Truth }> {
  const { db, ch } = stores
  const started = performance.now()
  const seed = opts.seed ?? 42
  const total = opts.customers ?? DEMO_CUSTOMERS
  const plan = opts.plan ?? demoPlan
  const now = opts.now ?? Date.now()
  const warn = opts.onWarning ?? ((m: string) => console.warn(m))
  const daysAgo = (d: number) => new Date(now - d * DAY)

  await assertPlanIsNew(db, plan)
  const holdout = await effectiveGlobalHoldout(db, plan, daysAgo(Math.max(...plan.experiments.map((e) => e.timeline.startDaysAgo)) + 3), warn)
  const placed = placeExperiments(plan, (p) => now - p.timeline.startDaysAgo * DAY)
  const compiled = new Map<string, CompiledExperiment>()
  for (const e of placed) {
    const t = e.planned.timeline
    await createExperiment(db, ExperimentCreate.parse(e.planned.definition), ACTOR, daysAgo(t.startDaysAgo + 2))
    const running = await transitionExperiment(db, e.id, 'start', ACTOR, daysAgo(t.startDaysAgo))
    compiled.set(e.id, compileExperiment(running))
  }

  const truth = new TruthBuilder(seed, holdout)
  let exposureCount = 0
  let eventCount = 0
  let writing: Promise<void> = Promise.resolve()
  const chunks = worldChunks({ seed, customers: total, placed, compiled, holdout, nowMs: now, referenceMs: now - plan.referenceDaysAgo * DAY, truth })
  for (const chunk of chunks) {
    // One insert in flight while the next chunk is generated.
    await writing
    writing = insertRows(ch, chunk.exposures, chunk.events)
    exposureCount += chunk.exposures.length
    eventCount += chunk.events.length
    opts.onProgress?.(chunk.customersDone, eventCount)
  }
  await writing

  await concludeExperiments(db, placed, daysAgo)
  return {
    summary: {
      mode: 'direct',
      customers: total,
      experiments: placed.map((e) => e.id),
      exposures: exposureCount,
      events: eventCount,
      seconds: (performance.now() - started) / 1000,
    },
    truth: truth.build(),
  }
}

async function insertRows(ch: ClickHouse, exposures: ExposureRow[], events: EventRow[]) {
  await insertExposures(ch, exposures)
  await insertEvents(ch, events)
}

/** Stops the concluded experiments and records their decisions, on the days the plan says. */
async function concludeExperiments(db: Kysely<Database>, placed: PlacedExperiment[], daysAgo: (d: number) => Date) {
  for (const e of placed) {
    const { timeline, decision } = e.planned
    if (timeline.stopDaysAgo !== undefined) await transitionExperiment(db, e.id, 'stop', ACTOR, daysAgo(timeline.stopDaysAgo))
    if (decision) await addNote(db, e.id, { kind: 'decision', body: decision.body, chosenArm: decision.chosenArm }, ACTOR, daysAgo(decision.daysAgo))
  }
}
