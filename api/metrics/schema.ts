import { z } from '@hono/zod-openapi'
import { METRIC_LIMITS, METRIC_NUMBER_LIMITS, PROPERTY_PATH_WORDS, type Bound } from '../contract/limits.ts'

/**
 * A catalogue metric: what analysts define for themselves ("second order within 60 days", "still buying in days
 * 31–90", "support tickets per customer") and reports compile to ClickHouse (api/metrics/compile.ts). Every
 * definition is versioned; an experiment's report records the version it used. docs/metrics.md explains each part.
 */

/** A number within one of the contract's bounds, so the dashboard's form checks the very same range. */
function within(bound: Bound) {
  let n = bound.integer ? z.number().int() : z.number()
  n = bound.minExclusive ? n.gt(bound.min) : n.min(bound.min)
  if (bound.max !== undefined) n = bound.maxExclusive ? n.lt(bound.max) : n.max(bound.max)
  return n
}

export const MetricKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]{1,63}$/, 'must be 2–64 characters: lowercase letters, digits and underscores, starting with a letter')
  // The dashboard's create page is /metrics/new: a metric of that name could never be opened.
  .refine((k) => k !== 'new', 'is reserved: choose another key')

/** Built-in event types and the caller's own (the same rule as POST /v1/events). */
export const EventTypeName = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be a lowercase event type such as purchase or support_ticket')

/**
 * A key into an event's `properties` (JSON object): letters, digits and underscores per level, at most
 * METRIC_LIMITS.pathDepth levels joined by dots. Keys reach ClickHouse as bound parameters, never in the SQL text.
 */
export const PropertyPath = z
  .string()
  .max(200)
  .regex(new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,63}(\\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,${METRIC_LIMITS.pathDepth - 1}}$`), PROPERTY_PATH_WORDS)

/** Event columns a filter or a value may read besides `properties`. */
export const EventField = z.enum(['revenue', 'margin', 'cost', 'order_id', 'experiment_id', 'arm'])
export type EventField = z.infer<typeof EventField>
const NUMERIC_FIELDS: readonly EventField[] = ['revenue', 'margin', 'cost']

const Scalar = z.union([z.string().max(METRIC_LIMITS.stringValue), z.number().finite()])

/** Where a filter looks: an event column, or a property of the event. */
const FilterTarget = z.discriminatedUnion('on', [
  z.object({ on: z.literal('field'), field: EventField }),
  z.object({ on: z.literal('property'), path: PropertyPath }),
])

export const MetricFilter = z
  .intersection(
    FilterTarget,
    z.discriminatedUnion('op', [
      z.object({ op: z.enum(['eq', 'neq']), value: Scalar }),
      z.object({ op: z.enum(['in', 'not_in']), values: z.array(Scalar).min(1).max(METRIC_LIMITS.inValues) }),
      z.object({ op: z.enum(['lt', 'lte', 'gt', 'gte']), value: z.number().finite() }),
      z.object({ op: z.literal('exists') }),
    ]),
  )
  .superRefine((f, ctx) => {
    if (f.on === 'field' && f.op === 'exists' && f.field !== 'margin')
      ctx.addIssue({ code: 'custom', path: ['op'], message: `${f.field} is always present: 'exists' applies to properties and margin` })
    if (f.on === 'field' && ['lt', 'lte', 'gt', 'gte'].includes(f.op) && !NUMERIC_FIELDS.includes(f.field))
      ctx.addIssue({ code: 'custom', path: ['op'], message: `${f.field} is text: compare it with eq, neq, in or not_in` })
  })
export type MetricFilter = z.infer<typeof MetricFilter>

/** Which events qualify: one or more types, all filters true. */
export const MetricSource = z.object({
  eventTypes: z.array(EventTypeName).min(1).max(METRIC_LIMITS.eventTypes),
  filters: z.array(MetricFilter).max(METRIC_LIMITS.filters).default([]),
})
export type MetricSource = z.infer<typeof MetricSource>

/** What each qualifying event contributes: 1 (a count), a money column, or a numeric property (missing: 0). */
export const MetricValue = z.discriminatedUnion('of', [
  z.object({ of: z.literal('count') }),
  z.object({ of: z.enum(['revenue', 'margin', 'cost']) }),
  z.object({ of: z.literal('property'), path: PropertyPath }),
])
export type MetricValue = z.infer<typeof MetricValue>

/** Days after the customer's first exposure: events with start ≤ (ts − exposure) < end count. */
export const MetricWindow = z
  .object({
    startDays: within(METRIC_NUMBER_LIMITS['window.startDays']).default(0),
    endDays: within(METRIC_NUMBER_LIMITS['window.endDays']),
  })
  .refine((w) => w.endDays > w.startDays, { path: ['endDays'], message: 'must be after startDays' })
export type MetricWindow = z.infer<typeof MetricWindow>

/** Per-customer values above the cap count as the cap: a fixed amount, or a percentile of all customers' values. */
export const MetricCapping = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('absolute'), value: within(METRIC_NUMBER_LIMITS['capping.value']) }),
  z.object({ type: z.literal('percentile'), percentile: within(METRIC_NUMBER_LIMITS['capping.percentile']) }),
])
export type MetricCapping = z.infer<typeof MetricCapping>

const common = {
  key: MetricKey,
  name: z.string().trim().min(1).max(METRIC_LIMITS.name),
  description: z.string().max(METRIC_LIMITS.description).default(''),
  owner: z.string().max(METRIC_LIMITS.owner).default(''),
  tags: z.array(z.string().trim().min(1).max(METRIC_LIMITS.tagLength)).max(METRIC_LIMITS.tags).default([]),
  direction: z.enum(['higher', 'lower']).default('higher').describe('which change is good'),
}

export const MetricDefinitionInput = z
  .discriminatedUnion('kind', [
    z.object({
      ...common,
      kind: z.literal('proportion').describe('share of customers with at least `minEvents` qualifying events in the window'),
      source: MetricSource,
      minEvents: within(METRIC_NUMBER_LIMITS.minEvents).default(1),
      window: MetricWindow,
      format: z.literal('percent').default('percent'),
    }),
    z.object({
      ...common,
      kind: z.literal('retention').describe('share of customers with any qualifying event in a later window (e.g. days 31–90)'),
      source: MetricSource,
      window: MetricWindow,
      format: z.literal('percent').default('percent'),
    }),
    z.object({
      ...common,
      kind: z.literal('mean').describe('per-customer sum of the value over qualifying events (0 for none), averaged over customers'),
      source: MetricSource,
      value: MetricValue,
      window: MetricWindow,
      capping: MetricCapping.default({ type: 'none' }),
      cuped: z.boolean().default(true).describe('adjust by the same value over the pre-exposure lookback'),
      format: z.enum(['currency', 'number', 'days']).default('number'),
    }),
    z.object({
      ...common,
      kind: z.literal('ratio').describe('Σ numerator / Σ denominator over customers (delta method), both mean metrics of the catalogue'),
      numerator: MetricKey,
      denominator: MetricKey,
      format: z.enum(['currency', 'number', 'percent', 'days']).default('number'),
    }),
    z.object({
      ...common,
      kind: z.literal('quantile').describe('a quantile of the value over qualifying events (e.g. median order value)'),
      source: MetricSource,
      value: MetricValue.refine((v) => v.of !== 'count', 'a quantile needs a value per event, not a count'),
      quantile: within(METRIC_NUMBER_LIMITS.quantile),
      window: MetricWindow,
      format: z.enum(['currency', 'number', 'days']).default('currency'),
    }),
    z.object({
      ...common,
      kind: z.literal('time_to_event').describe('days from first exposure to the first qualifying event (Kaplan–Meier)'),
      source: MetricSource,
      window: MetricWindow,
      format: z.literal('days').default('days'),
    }),
  ])
  .openapi('MetricDefinitionInput')
export type MetricDefinitionInput = z.infer<typeof MetricDefinitionInput>
export type MetricKind = MetricDefinitionInput['kind']

/** A stored version: the definition plus who made it and when. Versions are immutable; a change is a new version. */
export type MetricDefinition = MetricDefinitionInput & {
  version: number
  builtIn: boolean
  archived: boolean
  createdAt: string
  createdBy: string
}
