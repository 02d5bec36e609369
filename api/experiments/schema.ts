import { z } from '@hono/zod-openapi'
import { NUMBER_LIMITS, OFFER_LIMITS } from '../contract/limits.ts'
import { MetricKey as CatalogueKey } from '../metrics/schema.ts'

export { OFFER_LIMITS }

/** Slugs name experiments and arms in URLs, SQL parameters and CSV files: keep them boring. */
export const Slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lowercase letters, digits, "-" and "_", starting with a letter or digit')

export const OfferType = z.enum(['none', 'percent_off', 'amount_off', 'free_shipping', 'loyalty_points', 'trial_extension', 'custom'])

const MAX_UNIT_COST = NUMBER_LIMITS['arms.*.offer.unitCost'].max

export const Offer = z
  .object({
    type: OfferType,
    value: z
      .number()
      .finite()
      .min(0, 'must not be negative')
      .max(1_000_000_000)
      .default(0)
      .describe('percent (0–100), amount (≤ 1,000,000), points (≤ 10,000,000) or days (≤ 365), by type'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
      .optional(),
    unitCost: z.number().finite().min(0, 'must not be negative').max(MAX_UNIT_COST).optional().describe('expected incentive cost per redemption (≤ 1,000,000)'),
    channel: z.string().max(32).optional(),
    description: z.string().max(500).optional(),
    validityDays: z
      .number()
      .int()
      .min(1, 'must be at least 1 day')
      .max(365, 'must be at most 365 days')
      .optional()
      .describe('days the offer can be redeemed after it is issued (default 14): its budget reservation is released then'),
  })
  .superRefine((o, ctx) => {
    const limit = OFFER_LIMITS[o.type as keyof typeof OFFER_LIMITS]
    if (limit && (o.value > limit.max || (limit.integer && !Number.isInteger(o.value)))) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `a ${o.type.replace('_', '-')} offer's value must be ${limit.words}` })
    }
  })
  .openapi('Offer')

export const Arm = z
  .object({
    key: Slug.refine((k) => k !== 'holdout' && k !== 'global_holdout', 'is reserved for holdouts'),
    name: z.string().min(1).max(200),
    weight: z.number().finite().gt(0).max(1),
    isControl: z.boolean().default(false),
    offer: Offer.default({ type: 'none', value: 0 }),
    tierOffers: z
      .record(z.string().min(1).max(64), Offer)
      .optional()
      .describe("offer by intent tier of the experiment's trigger (e.g. high: reminder only, low: 15% off); tiers not listed get `offer`"),
  })
  .openapi('Arm')

export const MetricKey = z.enum([
  'redemption',
  'reactivation',
  'repeat_purchase',
  'revenue',
  'ltv',
  'orders',
  'aov',
  'incentive_cost',
  'net_value',
  'time_to_purchase',
  'time_to_repurchase',
  'unsubscribe',
])
export type MetricKey = z.infer<typeof MetricKey>
export type SuccessCriteria = z.infer<typeof SuccessCriteria>
export type FamilyMethod = z.infer<typeof FamilyMethod>

const FamilyMethod = z.enum(['holm', 'bonferroni', 'bh', 'none'])

/**
 * Each family of tests has its own multiple-testing method (docs/statistics.md → Test families): the decision
 * family (primary metric, each variant vs control), guardrails (one-sided harm tests against a margin),
 * secondary metrics, and the comparisons against the experiment holdout.
 */
export const TestFamilies = z
  .object({
    decision: FamilyMethod.default('holm'),
    guardrails: FamilyMethod.default('holm'),
    secondary: FamilyMethod.default('bh'),
    holdout: FamilyMethod.default('holm'),
  })
  .openapi('TestFamilies')

/**
 * What the team agreed, before the test started, would make an arm worth shipping. Frozen at start and
 * evaluated by every report (met / not met / not yet known).
 */
export const SuccessCriteria = z
  .object({
    minimumLift: z
      .number()
      .finite()
      .gt(0, 'must be a positive relative lift, e.g. 0.1 for +10%')
      .max(10)
      .describe('minimum worthwhile relative lift on the primary metric (0.1 = +10%)'),
    targetRate: z.number().finite().min(0).optional().describe('target value of the primary metric in the winning arm (a rate in 0–1 for rate metrics)'),
    netValueObjective: z
      .object({ amount: z.number().finite(), per: z.enum(['total', 'per_1000']).default('per_1000') })
      .optional()
      .describe('incremental net value the winning arm must earn within the planned period, in total or per 1,000 customers'),
    maxCostPerIncrementalConversion: z.number().finite().min(0, 'must not be negative').optional(),
    plannedEndDate: z.iso.date('must be a date such as 2027-01-31').optional(),
    plannedSampleSizePerArm: z
      .number()
      .int()
      .min(2)
      .max(100_000_000)
      .optional()
      .describe('customers per arm with a completed window (from the power calculator)'),
  })
  .openapi('SuccessCriteria')

/** Catalogue metrics an experiment reports beside the built-in ones: at most this many. */
export const MAX_CATALOGUE_METRICS = 10

/**
 * A metric of the catalogue reported as a secondary metric, by key and version. The version is pinned when the
 * experiment is created or updated (the latest, when omitted), so a later version of the definition leaves this
 * experiment's results as they were.
 */
export const CatalogueMetricRef = z
  .object({
    key: CatalogueKey.refine((k) => !(MetricKey.options as string[]).includes(k), 'is a built-in metric: every report shows it already'),
    version: z.number().int().min(1).max(1_000_000).optional().describe('the definition version to use; defaults to the latest when saved'),
  })
  .openapi('CatalogueMetricRef')
export type CatalogueMetricRef = z.infer<typeof CatalogueMetricRef>

export const Analysis = z
  .object({
    primaryMetric: CatalogueKey.default('reactivation').describe('a built-in metric, or a catalogue metric this experiment lists in catalogueMetrics'),
    guardrails: z
      .array(CatalogueKey)
      .max(20)
      .default(['unsubscribe'])
      .describe('built-in metrics, or catalogue metrics this experiment lists in catalogueMetrics, tested one-sided for harm'),
    catalogueMetrics: z
      .array(CatalogueMetricRef)
      .max(MAX_CATALOGUE_METRICS, `at most ${MAX_CATALOGUE_METRICS} catalogue metrics`)
      .default([])
      .describe('secondary metrics from the catalogue (GET /v1/metrics), adjusted with the built-in secondary metrics'),
    attributionDays: z.number().int().min(1).max(365).default(30),
    ltvDays: z.number().int().min(1).max(730).default(90),
    alpha: z.number().gt(0).max(0.2).default(0.05),
    cuped: z
      .object({ enabled: z.boolean().default(true), lookbackDays: z.number().int().min(1).max(730).default(90) })
      .default({ enabled: true, lookbackDays: 90 }),
    sequential: z.object({ enabled: z.boolean().default(false), tuning: z.number().positive().default(5000) }).default({ enabled: false, tuning: 5000 }),
    winsorize: z
      .object({ enabled: z.boolean().default(false), percentile: z.number().gt(0.5).lt(1).default(0.99) })
      .default({ enabled: false, percentile: 0.99 }),
    multipleTesting: z.enum(['holm', 'bh', 'none']).default('holm').describe('deprecated: see families'),
    families: TestFamilies.default(TestFamilies.parse({})),
    guardrailMargins: z
      .record(CatalogueKey, z.number().finite().min(0, 'must not be negative: the harm allowed, in the metric’s units'))
      .default({})
      .describe('harm each guardrail may show before it counts as harmed, in the metric’s units (0.003 = 0.3 pp for a rate); default 0'),
    successCriteria: SuccessCriteria.nullable().default(null),
    mde: z.number().gt(0).max(10).default(0.05).describe('relative minimum detectable effect for the power calculator'),
    defaultMarginRate: z.number().min(0).max(1).default(0.3).describe('margin as a share of revenue when purchases carry no margin'),
  })
  .superRefine((a, ctx) => {
    for (const key of Object.keys(a.guardrailMargins)) {
      if (!a.guardrails.includes(key))
        ctx.addIssue({
          code: 'custom',
          path: ['guardrailMargins', key],
          message: `is set on ${key}, which is not a guardrail of this experiment (guardrails: ${a.guardrails.join(', ') || 'none'})`,
        })
    }
    const builtIn = MetricKey.options as string[]
    if (!builtIn.includes(a.primaryMetric) && !a.catalogueMetrics.some((m) => m.key === a.primaryMetric))
      ctx.addIssue({
        code: 'custom',
        path: ['primaryMetric'],
        message: `'${a.primaryMetric}' is neither a built-in metric nor one of this experiment's catalogue metrics: add it to catalogueMetrics first`,
      })
    a.guardrails.forEach((key, i) => {
      if (!builtIn.includes(key) && !a.catalogueMetrics.some((m) => m.key === key))
        ctx.addIssue({
          code: 'custom',
          path: ['guardrails', i],
          message: `'${key}' is neither a built-in metric nor one of this experiment's catalogue metrics: add it to catalogueMetrics first`,
        })
      if (a.guardrails.indexOf(key) < i) ctx.addIssue({ code: 'custom', path: ['guardrails', i], message: `'${key}' is listed twice` })
    })
    if (a.guardrails.includes(a.primaryMetric))
      ctx.addIssue({ code: 'custom', path: ['guardrails'], message: `the primary metric ${a.primaryMetric} cannot also be a guardrail` })
    a.catalogueMetrics.forEach((m, i) => {
      if (a.catalogueMetrics.findIndex((x) => x.key === m.key) < i)
        ctx.addIssue({ code: 'custom', path: ['catalogueMetrics', i, 'key'], message: `'${m.key}' is listed twice` })
    })
  })
  .openapi('Analysis')

export const Namespace = z
  .object({ name: Slug, range: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]) })
  .refine((n) => n.range[0] < n.range[1], { message: 'range must be [start, end) with start < end', path: ['range'] })
  .openapi('Namespace')

const Condition = z.record(z.string(), z.unknown()).openapi('Condition', {
  description: 'MongoDB-style condition over assignment attributes ($eq $ne $gt $gte $lt $lte $in $nin $exists $regex $and $or $not, dot paths)',
})

export const Budget = z
  .object({
    amount: z.number().finite().min(0, 'must not be negative'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
      .default('USD'),
    maxCostPerIncrementalConversion: z.number().finite().min(0, 'must not be negative').nullable().default(null),
    reservation: z
      .enum(['expected_cost', 'max_cost'])
      .default('expected_cost')
      .describe(
        "what each issued incentive reserves until it is redeemed or expires: its unit cost × the arm's redemption rate (a conservative upper estimate), or its whole unit cost",
      ),
  })
  .openapi('Budget', {
    description: 'incentive budget: when redemption costs plus the reservations of open offers reach `amount`, incentive arms stop receiving new customers',
  })

const experimentFields = {
  name: z.string().min(1).max(200),
  hypothesis: z.string().max(5000).default(''),
  arms: z.array(Arm).min(2, 'an experiment needs 2 to 10 arms').max(10, 'an experiment needs 2 to 10 arms'),
  holdoutPct: z.number().min(0).max(0.5).default(0),
  coverage: z.number().min(0).max(1).default(1),
  targeting: Condition.nullable().default(null),
  namespace: Namespace.nullable().default(null),
  seed: z.string().min(1).max(128).optional().describe('hash seed; defaults to the experiment id'),
  analysis: Analysis.default(Analysis.parse({})),
  tags: z.array(z.string().max(64)).max(20).default([]),
  trigger: z.string().min(1).max(64).nullable().default(null).describe('behavioural trigger this experiment answers in /v1/decide'),
  priority: z.number().int().min(0).max(10_000).default(100).describe('lower runs first among experiments on the same trigger'),
  budget: Budget.nullable().default(null),
}

/** Arms must form one experiment: unique keys, exactly one control, weights summing to 1. */
export function checkArms(arms: z.infer<typeof Arm>[], ctx: z.RefinementCtx): void {
  const controls = arms.filter((a) => a.isControl).length
  if (controls !== 1) ctx.addIssue({ code: 'custom', path: ['arms'], message: `exactly one arm must be the control (found ${controls})` })
  const seen = new Set<string>()
  arms.forEach((a, i) => {
    if (seen.has(a.key)) ctx.addIssue({ code: 'custom', path: ['arms', i, 'key'], message: `duplicate arm key '${a.key}'` })
    seen.add(a.key)
  })
  const total = arms.reduce((s, a) => s + a.weight, 0)
  if (Math.abs(total - 1) > 1e-6) ctx.addIssue({ code: 'custom', path: ['arms'], message: `weights must sum to 1 (they sum to ${+total.toFixed(6)})` })
}

export const ExperimentCreate = z
  .object({ id: Slug.optional().describe('defaults to a slug of the name'), ...experimentFields })
  .superRefine((e, ctx) => checkArms(e.arms, ctx))
  .openapi('ExperimentCreate')

export const ExperimentUpdate = z
  .object({
    name: experimentFields.name,
    hypothesis: z.string().max(5000),
    arms: experimentFields.arms,
    holdoutPct: z.number().min(0).max(0.5),
    coverage: z.number().min(0).max(1),
    targeting: Condition.nullable(),
    namespace: Namespace.nullable(),
    seed: z.string().min(1).max(128),
    analysis: Analysis,
    tags: z.array(z.string().max(64)).max(20),
    trigger: z.string().min(1).max(64).nullable(),
    priority: z.number().int().min(0).max(10_000),
    budget: Budget.nullable(),
  })
  // No defaults here: an omitted field means "unchanged", never "reset to the default".
  .partial()
  .superRefine((e, ctx) => {
    if (e.arms) checkArms(e.arms, ctx)
  })
  .openapi('ExperimentUpdate')

export const ExperimentStatus = z.enum(['draft', 'running', 'paused', 'stopped'])

export const Note = z
  .object({
    id: z.number(),
    kind: z.enum(['hypothesis', 'note', 'decision']),
    body: z.string(),
    chosenArm: z.string().nullable(),
    author: z.string(),
    createdAt: z.string(),
  })
  .openapi('Note')

export const NoteCreate = z
  .object({
    kind: z.enum(['hypothesis', 'note', 'decision']),
    body: z.string().min(1).max(10_000),
    chosenArm: z.string().optional().describe('required for a decision: the arm key chosen'),
  })
  .openapi('NoteCreate')

export const Experiment = z
  .object({
    id: z.string(),
    name: z.string(),
    hypothesis: z.string(),
    status: ExperimentStatus,
    seed: z.string(),
    arms: z.array(Arm),
    holdoutPct: z.number(),
    coverage: z.number(),
    targeting: Condition.nullable(),
    namespace: Namespace.nullable(),
    analysis: Analysis,
    tags: z.array(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    startedAt: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    createdBy: z.string(),
    decision: Note.nullable(),
    trigger: z.string().nullable(),
    priority: z.number(),
    budget: Budget.nullable(),
    budgetExhaustedAt: z.string().nullable(),
  })
  .openapi('Experiment')

export type ExperimentCreate = z.infer<typeof ExperimentCreate>
export type ExperimentUpdate = z.infer<typeof ExperimentUpdate>
export type Experiment = z.infer<typeof Experiment>
export type Analysis = z.infer<typeof Analysis>
export type Arm = z.infer<typeof Arm>
export type Note = z.infer<typeof Note>
export type ExperimentStatus = z.infer<typeof ExperimentStatus>
