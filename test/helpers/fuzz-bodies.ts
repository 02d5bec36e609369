import fc from 'fast-check'

/**
 * Plausible bodies for the routes the fuzz suite knows, keyed like `POST /v1/experiments`: valid or nearly
 * so, naming the fixture world's experiments, trigger and policy, so that generated requests get past the
 * schema into the domain's own checks (arms, lifecycle, targeting, tiers, pacing, idempotency). Ids come from
 * small pools so that creating, reading, changing and deleting the same entity happen in one run.
 */
export interface FixtureNames {
  experiments: string[]
  trigger: string
  tiers: string[]
}

const DAY = 86_400_000
/** Mostly `valid`, sometimes one of `invalid`: the domain's own refusals are exercised without drowning the rest. */
const mostly = <T>(valid: T[], invalid: T[]) =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: fc.constantFrom(...invalid) })

const pool = (prefix: string, size: number) => fc.nat({ max: size - 1 }).map((i) => `${prefix}-${i}`)
const text = fc.string({ minLength: 1, maxLength: 30 })
const offerType = fc.constantFrom('none', 'percent_off', 'amount_off', 'free_shipping', 'loyalty_points', 'trial_extension', 'custom')
const offer = fc.record({ type: offerType, value: fc.constantFrom(0, 5, 15, 100), unitCost: fc.constantFrom(0, 2.5, 6) }, { requiredKeys: ['type'] })
const customerId = fc.oneof({ weight: 4, arbitrary: pool('c', 60) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) })
const attributes = fc.dictionary(
  fc.constantFrom('tier', 'country', 'recencyDays', 'email', 'plan', 'tags'),
  fc.oneof(
    fc.constantFrom('gold', 'FR', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'),
    fc.integer({ min: -5, max: 400 }),
    fc.boolean(),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  ),
  { maxKeys: 4 },
)
const condition = mostly<Record<string, unknown>>(
  [
    { recencyDays: { $gte: 0 } },
    { tier: { $in: ['gold', 'silver'] } },
    { email: { $regex: '^(a+)+$' } },
    { $or: [{ country: 'FR' }, { recencyDays: { $lt: 30 } }] },
    { tags: { $elemMatch: { $eq: 'x' } } },
    { 'a.b.c': { $exists: true } },
    { $not: { tier: 'gold' } },
  ],
  [{ email: { $regex: '(a)\\1' } }, { email: { $regex: '(?=a)' } }, { email: { $regex: '[' } }, { tier: { $bogus: 1 } }],
)
const arms = mostly(
  [
    [0.5, 0.5],
    [0.34, 0.33, 0.33],
    [0.2, 0.8],
  ],
  [[0.5, 0.6], [1]],
).chain((weights) =>
  fc.tuple(
    ...weights.map((w, i) =>
      fc.record(
        {
          key: fc.constant(i ? `arm${i}` : 'control'),
          name: text,
          weight: fc.constant(w),
          isControl: fc.constant(i === 0),
          offer,
          tierOffers: fc.constant({ high: { type: 'none' }, low: { type: 'percent_off', value: 15 } }),
        },
        { requiredKeys: ['key', 'name', 'weight', 'isControl'] },
      ),
    ),
  ),
)
const analysis = fc.record(
  {
    primaryMetric: fc.constantFrom('reactivation', 'revenue', 'redemption', 'net_value', 'time_to_purchase'),
    guardrails: mostly([['unsubscribe'], ['unsubscribe', 'incentive_cost']], [[], ['aov', 'aov']]),
    attributionDays: fc.constantFrom(1, 7, 30, 365),
    alpha: fc.constantFrom(0.05, 0.1, 0.2),
    cuped: fc.record({ enabled: fc.boolean(), lookbackDays: fc.constantFrom(1, 90, 730) }),
    sequential: fc.record({ enabled: fc.boolean() }),
    winsorize: fc.record({ enabled: fc.boolean(), percentile: fc.constantFrom(0.9, 0.99) }),
    families: fc.record({ decision: fc.constantFrom('holm', 'bonferroni', 'bh', 'none') }),
    guardrailMargins: mostly<Record<string, number>>([{}, { unsubscribe: 0.003 }], [{ revenue: 1 }, { unsubscribe: -1 }]),
    successCriteria: fc.option(
      fc.record(
        {
          minimumLift: fc.constantFrom(0.05, 0.1, 10),
          plannedEndDate: mostly(['2027-01-31'], ['2026-02-30']),
          plannedSampleSizePerArm: fc.constantFrom(2, 1000),
          netValueObjective: fc.record({ amount: fc.constantFrom(0, 1000), per: fc.constantFrom('total', 'per_1000') }),
        },
        { requiredKeys: ['minimumLift'] },
      ),
    ),
  },
  { requiredKeys: [] },
)

/** Tier offers are refused on an experiment without a trigger: keep them only where they can be valid. */
function tierOffersNeedATrigger<T extends { trigger?: string | null; arms?: Array<{ tierOffers?: unknown }> }>(e: T): T {
  return e.trigger || !e.arms ? e : { ...e, arms: e.arms.map(({ tierOffers: _, ...arm }) => arm) }
}

export function plausibleBodies(names: FixtureNames): Record<string, fc.Arbitrary<unknown>> {
  const experimentId = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...names.experiments) },
    { weight: 1, arbitrary: pool('fz-e', 4) },
    { weight: 1, arbitrary: fc.constant('nope') },
  )
  const trigger = fc.oneof({ weight: 3, arbitrary: fc.constant(names.trigger) }, { weight: 1, arbitrary: pool('fz-t', 3) })
  const tier = mostly(names.tiers, ['nope', 'HIGH'])
  const experimentFields = {
    name: text,
    hypothesis: fc.string({ maxLength: 40 }),
    arms,
    holdoutPct: fc.constantFrom(0, 0.1, 0.5),
    coverage: fc.constantFrom(0.5, 1),
    targeting: fc.option(condition),
    namespace: fc.option(
      fc.record({
        name: pool('ns', 2),
        range: mostly(
          [
            [0, 0.5],
            [0.5, 1],
          ],
          [[0.7, 0.2]],
        ),
      }),
    ),
    analysis,
    tags: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
    trigger: fc.option(trigger),
    priority: fc.constantFrom(0, 100, 10_000),
    budget: fc.option(fc.record({ amount: fc.constantFrom(0, 10, 2500), currency: mostly(['USD', 'EUR'], ['usd']) }, { requiredKeys: ['amount'] })),
  }
  const now = Date.now()
  const event = fc.record(
    {
      eventId: pool('fz-ev', 120),
      customerId,
      type: fc.constantFrom('purchase', 'offer_redeemed', 'offer_sent', 'refund', 'unsubscribe', 'custom_thing', 'Purchase'),
      ts: fc.oneof(fc.integer({ min: now - 40 * DAY, max: now }), fc.constantFrom(new Date(now - DAY).toISOString(), '2026-02-30T10:00:00Z', now + 400 * DAY)),
      experimentId,
      arm: fc.constantFrom('control', 'pct15', 'arm1', 'nope'),
      revenue: fc.constantFrom(0, 10, 42.5, 999_999_999),
      margin: fc.constantFrom(1, -3),
      cost: fc.constantFrom(0, 6, 2500),
      orderId: pool('o', 5),
      properties: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 2 }),
    },
    { requiredKeys: ['eventId', 'customerId', 'type', 'ts'] },
  )
  const policyFields = {
    name: text,
    offerTypes: fc.oneof(fc.constant('all'), fc.subarray(['percent_off', 'amount_off', 'free_shipping'], { minLength: 1 })),
    maxIncentives: fc.option(fc.constantFrom(0, 1, 3)),
    windowDays: fc.option(fc.constantFrom(0.5, 30)),
    cooldownDays: fc.option(fc.constantFrom(0, 7)),
    minGapHours: fc.option(fc.constantFrom(0, 12)),
    quietHours: fc.option(fc.record({ startHour: fc.constantFrom(0, 22), endHour: fc.constantFrom(6, 23) })),
    enabled: fc.boolean(),
  }
  // Metric definitions (issue 17): keys from a small pool (fz_mean exists), property paths and references
  // sometimes refused by pattern or by the catalogue, windows sometimes empty.
  const metricKey = mostly(['fz_m_0', 'fz_m_1', 'fz_m_2', 'fz_mean'], ['revenue', 'Bad-Key'])
  const propertyPath = mostly(['category', 'item.sku', 'a.b.c'], ["cat'", 'a.b.c.d', 'x{y:String}'])
  const metricFilter = fc.oneof(
    fc.record({ on: fc.constant('property'), path: propertyPath, op: fc.constantFrom('eq', 'neq'), value: fc.oneof(text, fc.integer()) }),
    fc.record({ on: fc.constant('property'), path: propertyPath, op: fc.constantFrom('in', 'not_in'), values: fc.array(text, { minLength: 1, maxLength: 3 }) }),
    fc.record({
      on: fc.constant('field'),
      field: fc.constantFrom('revenue', 'margin', 'arm'),
      op: mostly(['gt', 'lte', 'exists'], ['like']),
      value: fc.constantFrom(0, 10),
    }),
  )
  const metricSource = fc.record({
    eventTypes: fc.subarray(['purchase', 'refund', 'support_ticket'], { minLength: 1 }),
    filters: fc.array(metricFilter, { maxLength: 3 }),
  })
  const metricWindow = mostly<Record<string, number>>([{ endDays: 30 }, { startDays: 30, endDays: 90 }], [{ startDays: 30, endDays: 30 }])
  const metricCommon = {
    key: metricKey,
    name: text,
    description: fc.string({ maxLength: 20 }),
    tags: fc.array(text, { maxLength: 3 }),
    direction: fc.constantFrom('higher', 'lower'),
  }
  const metricDraft = fc.oneof(
    fc.record(
      { ...metricCommon, kind: fc.constant('proportion'), source: metricSource, window: metricWindow, minEvents: fc.constantFrom(1, 2) },
      { requiredKeys: ['key', 'name', 'kind', 'source', 'window'] },
    ),
    fc.record(
      {
        ...metricCommon,
        kind: fc.constant('mean'),
        source: metricSource,
        window: metricWindow,
        value: fc.constantFrom({ of: 'count' }, { of: 'revenue' }, { of: 'property', path: 'amount' }),
        capping: fc.constantFrom({ type: 'none' }, { type: 'absolute', value: 100 }, { type: 'percentile', percentile: 0.99 }),
      },
      { requiredKeys: ['key', 'name', 'kind', 'source', 'window', 'value'] },
    ),
    fc.record({
      ...metricCommon,
      kind: fc.constant('ratio'),
      numerator: mostly(['revenue', 'fz_mean'], ['reactivation']),
      denominator: mostly(['orders', 'fz_mean'], ['aov']),
    }),
    fc.record({
      ...metricCommon,
      kind: fc.constant('quantile'),
      source: metricSource,
      window: metricWindow,
      value: fc.constant({ of: 'revenue' }),
      quantile: mostly([0.5, 0.9], [0, 1]),
    }),
  )
  return {
    'POST /v1/experiments': fc.record({ id: pool('fz-e', 12), ...experimentFields }, { requiredKeys: ['name', 'arms'] }).map(tierOffersNeedATrigger),
    'PATCH /v1/experiments/{id}': fc.record(experimentFields, { requiredKeys: [] }).map(tierOffersNeedATrigger),
    'POST /v1/experiments/{id}/notes': fc.oneof(
      fc.record({ kind: fc.constantFrom('hypothesis', 'note'), body: text }),
      fc.record({ kind: fc.constant('decision'), body: text, chosenArm: mostly(['control', 'pct15'], ['nope']) }),
    ),
    'POST /v1/assign': fc.record({ experimentId, customerId, attributes }, { requiredKeys: ['experimentId', 'customerId'] }),
    'POST /v1/assign/batch': fc.record({
      experimentId,
      customers: fc.array(fc.record({ customerId, attributes }, { requiredKeys: ['customerId'] }), { minLength: 1, maxLength: 20 }),
    }),
    'POST /v1/events': fc.array(event, { minLength: 1, maxLength: 6 }),
    'POST /v1/triggers': fc.record(
      { key: pool('fz-t', 12), name: text, description: fc.string({ maxLength: 20 }), tiers: fc.subarray(['low', 'medium', 'high', 'Bad Tier']) },
      { requiredKeys: ['key', 'name'] },
    ),
    'PATCH /v1/triggers/{key}': fc.record(
      { name: text, description: fc.string({ maxLength: 20 }), tiers: fc.subarray(['low', 'medium', 'high']) },
      { requiredKeys: [] },
    ),
    'POST /v1/policies': fc.record({ id: pool('fz-p', 12), ...policyFields }, { requiredKeys: ['id', 'name'] }),
    'PATCH /v1/policies/{id}': fc.record(policyFields, { requiredKeys: [] }),
    'POST /v1/decide': fc.record({ customerId, trigger, tier, attributes }, { requiredKeys: ['customerId', 'trigger'] }),
    'POST /v1/keys': fc.record({ name: text, role: fc.constantFrom('admin', 'editor', 'ingest', 'viewer', 'root') }),
    'POST /v1/metrics': metricDraft,
    'POST /v1/metrics/{key}/versions': metricDraft,
    'PUT /v1/settings': fc.record({ globalHoldoutPct: fc.constantFrom(0, 0.05, 0.5, 0.6), globalHoldoutSeed: text }, { requiredKeys: [] }),
  }
}
