import { z } from '@hono/zod-openapi'
import { Offer, OfferType, Slug } from '../experiments/schema.ts'
import { CustomerId } from '../http/ids.ts'

export const Trigger = z
  .object({
    key: Slug,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).default(''),
    tiers: z
      .array(Slug)
      .max(10)
      .default([])
      .refine((t) => new Set(t).size === t.length, 'tiers must be unique')
      .describe('intent tiers, ordered (e.g. low, medium, high)'),
  })
  .openapi('Trigger')
export type Trigger = z.infer<typeof Trigger>
/** A trigger as the API answers it: the saved fields and their timestamps. */
export const TriggerRecord = Trigger.extend({ createdAt: z.string(), updatedAt: z.string() })
export type TriggerRecord = z.infer<typeof TriggerRecord>
export const TriggerUpdate = z
  .object({ name: z.string().min(1).max(200), description: z.string().max(2000), tiers: z.array(Slug).max(10) })
  .partial()
  .openapi('TriggerUpdate')

const IncentiveType = OfferType.exclude(['none'])
const positive = (what: string) => z.number().finite().gt(0, `${what} must be positive`)
const nonNegative = (what: string) => z.number().finite().min(0, `${what} must not be negative`)

const policyFields = {
  name: z.string().min(1).max(200),
  offerTypes: z
    .union([z.literal('all'), z.array(IncentiveType).min(1)])
    .default('all')
    .describe("incentive types this policy caps: 'all' or a list (percent_off, free_shipping…)"),
  // Stored in a Postgres integer column: an unbounded count reached it as a 500 (value out of range).
  maxIncentives: z
    .number()
    .int()
    .min(0, 'maxIncentives must not be negative')
    .max(1_000_000, 'maxIncentives must be at most 1,000,000')
    .nullable()
    .default(null)
    .describe('at most N incentives per customer per rolling window (≤ 1,000,000)'),
  windowDays: positive('windowDays').nullable().default(null),
  cooldownDays: nonNegative('cooldownDays').nullable().default(null).describe('no incentive for this long after a redemption'),
  minGapHours: nonNegative('minGapHours').nullable().default(null).describe('minimum time between any two incentives'),
  quietHours: z
    .object({ startHour: z.number().int().min(0).max(23), endHour: z.number().int().min(0).max(23) })
    .nullable()
    .default(null)
    .describe('UTC hours [start, end) in which no incentive is issued'),
  enabled: z.boolean().default(true),
}

const windowNeeded = (p: { maxIncentives?: number | null; windowDays?: number | null }, ctx: z.RefinementCtx) => {
  if (p.maxIncentives != null && p.windowDays == null)
    ctx.addIssue({ code: 'custom', path: ['windowDays'], message: 'a cap of maxIncentives needs the rolling windowDays it applies to' })
}

export const PolicyCreate = z
  .object({ id: Slug, ...policyFields })
  .superRefine(windowNeeded)
  .openapi('PolicyCreate')
export const PolicyUpdate = z
  .object({
    name: policyFields.name,
    offerTypes: z.union([z.literal('all'), z.array(IncentiveType).min(1)]),
    maxIncentives: z.number().int().min(0, 'maxIncentives must not be negative').max(1_000_000, 'maxIncentives must be at most 1,000,000').nullable(),
    windowDays: positive('windowDays').nullable(),
    cooldownDays: nonNegative('cooldownDays').nullable(),
    minGapHours: nonNegative('minGapHours').nullable(),
    quietHours: policyFields.quietHours.unwrap().unwrap().nullable(),
    enabled: z.boolean(),
  })
  .partial()
  .openapi('PolicyUpdate')
export const Policy = z.object({ id: z.string(), ...policyFields, createdAt: z.string(), updatedAt: z.string() }).openapi('Policy')
export type Policy = z.infer<typeof Policy>
export type PolicyCreate = z.infer<typeof PolicyCreate>
export type PolicyUpdate = z.infer<typeof PolicyUpdate>

// Strict like an event: a misspelt field (`tierr`) is refused rather than silently ignored.
export const DecideRequest = z
  .strictObject({
    customerId: CustomerId,
    trigger: z.string().min(1).max(64),
    tier: z.string().min(1).max(64).optional(),
    attributes: z
      .record(z.string().max(128), z.unknown())
      .refine((a) => Object.keys(a).length <= 100, 'at most 100 attributes')
      .optional(),
  })
  .openapi('DecideRequest')

export const DecisionReason = z.enum(['pacing', 'cooldown', 'budget', 'holdout', 'not_targeted', 'no_experiment'])
export type DecisionReason = z.infer<typeof DecisionReason>

export const Decision = z
  .object({
    offer: Offer.nullable().describe('what to send; type none is a message without incentive; null for nothing'),
    experimentKey: z.string().nullable(),
    arm: z.string().nullable(),
    tier: z.string().nullable(),
    reason: DecisionReason.nullable().describe('why there is no offer (or why the customer is held out)'),
  })
  .openapi('Decision')
export type Decision = z.infer<typeof Decision>
