/**
 * The engine both writers share: which experiment a customer is eligible for, when they are assigned, and
 * every event of their life (history, offer funnel, window outcomes, later purchases) as rows ready for the
 * events table or POST /v1/events. Timing goes through a `Timeline`, because the two writers place the same
 * relative story differently on the clock.
 */
import { assignCompiled, compileExperiment, evalCondition, type CompiledExperiment, type Condition, type GlobalHoldout } from '../api/assignment/index.ts'
import { ExperimentCreate } from '../api/experiments/schema.ts'
import { flattenAttributes, type ExposureRow } from '../api/exposures/writer.ts'
import { toRow, type EventRow } from '../api/ingest/event-schema.ts'
import type { PlannedExperiment, WorldPlan } from './experiments.ts'
import { streamFor, STREAM } from './random.ts'
import { backgroundPurchases, NO_MESSAGE, WINDOW_DAYS, windowEvents, type ArmEffect, type OfferSpec } from './simulate.ts'
import type { TruthArms, TruthBuilder } from './truth.ts'
import { customerAt, DAY, purchaseHistory, type Customer, type SimEvent } from './world.ts'

/** An experiment of the plan, ready for generation: targeting, offers and planted effects by arm key. */
export interface PlacedExperiment {
  id: string
  planned: PlannedExperiment
  targeting: Condition | null
  offers: Map<string, OfferSpec | null>
  /** When its assignment waves start (ms). */
  startMs: number
  truthArms: TruthArms
}

export function placeExperiments(plan: WorldPlan, startMsOf: (p: PlannedExperiment) => number): PlacedExperiment[] {
  return plan.experiments.map((planned) => {
    const def = planned.definition
    const offers = new Map<string, OfferSpec | null>(def.arms.map((a) => [a.key, (a.offer as OfferSpec | undefined) ?? null]))
    const keys = [...((def.holdoutPct ?? 0) > 0 ? ['holdout'] : []), ...def.arms.map((a) => a.key)]
    const truthArms: TruthArms = {
      id: def.id,
      name: def.name,
      status: planned.timeline.stopDaysAgo !== undefined ? 'stopped' : 'running',
      control: def.arms.find((a) => a.isControl)!.key,
      planted: planned.effects,
      arms: keys.map((key) => ({ key, offer: offers.get(key) ?? null, effectFor: (c: Customer) => effectOf(planned, key, c) })),
    }
    const targeting = def.targeting && Object.keys(def.targeting).length ? (def.targeting as Condition) : null
    return { id: def.id, planned, targeting, offers, startMs: startMsOf(planned), truthArms }
  })
}

/** The planted effect of an arm for this customer; the holdouts get no message. */
export function effectOf(planned: PlannedExperiment, arm: string, c: Customer): ArmEffect {
  return planned.effects[arm]?.[c.attributes.valueTier] ?? NO_MESSAGE
}

/** The first experiment whose targeting the customer meets (the demo's experiments target disjoint segments). */
export function placementOf(c: Customer, experiments: PlacedExperiment[]): PlacedExperiment | null {
  for (const e of experiments) if (e.targeting === null || evalCondition(c.attributes, e.targeting)) return e
  return null
}

/** When a customer is assigned in direct mode: a daily wave of the experiment, at some time of that day. */
export function waveTime(seed: number, c: Customer, e: PlacedExperiment): number {
  const rng = streamFor(seed, c.index, STREAM.wave)
  return e.startMs + Math.floor(rng() * e.planned.timeline.exposureDays) * DAY + Math.floor(rng() * DAY)
}

/** Places an event `offsetMs` after a customer's anchor on the clock, or null when it has not happened (yet). */
export interface Timeline {
  at(anchorMs: number, offsetMs: number): number | null
  /** Day (after the anchor) up to which ordinary buying is generated. */
  horizonDays(anchorMs: number): number
}

/** The story as it would have happened: events after `nowMs` are in the future and left out. */
export const realTimeline = (nowMs: number): Timeline => ({
  at: (anchor, offset) => (anchor + offset <= nowMs ? anchor + offset : null),
  horizonDays: (anchor) => (nowMs - anchor) / DAY,
})

/**
 * For a live API, which stamps exposures with its own clock and refuses events more than a day ahead: the
 * history keeps its real dates, but the 30-day outcome window is squeezed into the time between the
 * assignment (anchor) and `postedAtMs`, keeping the order of events; nothing after the window is generated.
 */
export const compressedTimeline = (postedAtMs: number): Timeline => ({
  at: (anchor, offset) => {
    if (offset <= 0) return anchor + offset
    if (offset >= WINDOW_DAYS * DAY) return null
    const span = Math.max(0, postedAtMs - anchor - 1)
    return anchor + 1 + Math.floor((offset / (WINDOW_DAYS * DAY)) * span)
  },
  horizonDays: () => 0,
})

/**
 * Every event of one customer as event rows: the year of history before the anchor; when assigned (`arm`:
 * an arm key, 'holdout' or 'global_holdout'), the window after it; then ordinary buying up to the horizon.
 */
export function customerEventRows(
  seed: number,
  c: Customer,
  exp: PlacedExperiment | null,
  arm: string | null,
  anchorMs: number,
  timeline: Timeline,
): EventRow[] {
  const events: SimEvent[] = purchaseHistory(c, seed)
  const horizon = timeline.horizonDays(anchorMs)
  if (exp && arm) {
    const rng = streamFor(seed, c.index, STREAM.outcomes)
    const offer = arm === 'holdout' || arm === 'global_holdout' ? null : (exp.offers.get(arm) ?? null)
    events.push(...windowEvents(rng, c, exp.id, arm, effectOf(exp.planned, arm, c), offer))
    if (horizon > WINDOW_DAYS) events.push(...backgroundPurchases(streamFor(seed, c.index, STREAM.background), c, WINDOW_DAYS, horizon))
  } else if (horizon > 0) {
    events.push(...backgroundPurchases(streamFor(seed, c.index, STREAM.background), c, 0, horizon))
  }
  const rows: EventRow[] = []
  for (const e of events) {
    const ts = timeline.at(anchorMs, e.offsetMs)
    if (ts === null) continue
    rows.push(
      toRow({
        eventId: `${c.id}:${e.key}`,
        customerId: c.id,
        type: e.type,
        ts,
        experimentId: e.experimentId,
        arm: e.arm,
        revenue: e.revenue,
        margin: e.margin,
        cost: e.cost,
        orderId: e.orderId,
      }),
    )
  }
  return rows
}

/** The API's event shape (api/ingest/event-schema.ts) for a row, without empty optional fields. */
export function eventInput(r: EventRow): Record<string, unknown> {
  const e: Record<string, unknown> = { eventId: r.event_id, customerId: r.customer_id, type: r.type, ts: r.ts }
  if (r.experiment_id) e.experimentId = r.experiment_id
  if (r.arm) e.arm = r.arm
  if (r.type === 'purchase' || r.type === 'refund') e.revenue = r.revenue
  if (r.margin !== null) e.margin = r.margin
  if (r.type === 'offer_redeemed') e.cost = r.cost
  if (r.order_id) e.orderId = r.order_id
  return e
}

/**
 * An experiment definition compiled as the store would save it (seed defaults to the id) and as it ran
 * (status running): for assigning outside the API exactly as POST /v1/assign would.
 */
export function compileDefinition(planned: PlannedExperiment): CompiledExperiment {
  const def = ExperimentCreate.parse(planned.definition)
  return compileExperiment({ ...def, id: planned.definition.id, seed: def.seed ?? planned.definition.id, status: 'running' })
}

export interface WorldChunkOptions {
  seed: number
  customers: number
  placed: PlacedExperiment[]
  /** Compiled experiments by id (from the store, or compileDefinition). */
  compiled: Map<string, CompiledExperiment>
  holdout: GlobalHoldout
  nowMs: number
  /** Anchor of customers who enter no experiment. */
  referenceMs: number
  truth: TruthBuilder
  /** Events per chunk (about). */
  chunkRows?: number
}

/**
 * The world with real dates, in chunks of rows for the exposures and events tables: each eligible customer
 * assigned by the API's pure assignment on their wave's day, and everything up to `nowMs`. Records every
 * customer and assignment in `truth` as it goes.
 */
export function* worldChunks(o: WorldChunkOptions): Generator<{ exposures: ExposureRow[]; events: EventRow[]; customersDone: number }> {
  const timeline = realTimeline(o.nowMs)
  const chunkRows = o.chunkRows ?? 100_000
  let exposures: ExposureRow[] = []
  let events: EventRow[] = []
  for (const e of o.placed) o.truth.experiment(e.truthArms)
  for (let i = 0; i < o.customers; i++) {
    const c = customerAt(o.seed, i)
    o.truth.customer(c)
    const exp = placementOf(c, o.placed)
    let arm: string | null = null
    let anchor = o.referenceMs
    if (exp) {
      anchor = waveTime(o.seed, c, exp)
      const attributes = { ...c.attributes }
      const a = assignCompiled(o.compiled.get(exp.id)!, c.id, attributes, o.holdout)
      if (a.exposure) {
        arm = a.exposure.arm
        exposures.push({ experiment_id: exp.id, customer_id: c.id, arm, ts: anchor, attributes: flattenAttributes(attributes), source: 'seed' })
        o.truth.assigned(exp.truthArms, c, arm)
      }
    }
    for (const row of customerEventRows(o.seed, c, exp, arm, anchor, timeline)) events.push(row)
    if (events.length >= chunkRows || i === o.customers - 1) {
      yield { exposures, events, customersDone: i + 1 }
      exposures = []
      events = []
    }
  }
}

/** A problem the user can act on (a taken experiment id, a locked data directory, an unreachable API). */
export class SeedError extends Error {}

/** What a seeding run did. */
export interface SeedSummary {
  mode: 'direct' | 'api'
  customers: number
  experiments: string[]
  exposures: number
  events: number
  seconds: number
}
