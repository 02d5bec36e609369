/**
 * The numeric bounds of an experiment and of a catalogue metric as the API enforces them (experiments/schema.ts,
 * metrics/schema.ts), as plain values the dashboard imports at run time to check a form beside each field before it
 * is sent. This is the contract's one runtime module: data only and no imports, so importing it brings no server
 * code into the dashboard (test/unit/ui/wire-contract.test.ts). Shares are fractions as on the wire (0.5 = 50%);
 * test/unit/ui/form-checks.test.ts holds the zod schemas to exactly these numbers.
 */

/** A closed range unless an end is marked exclusive; `max` absent means no upper bound. */
export interface Bound {
  min: number
  max?: number
  minExclusive?: boolean
  maxExclusive?: boolean
  integer?: boolean
}

/** The largest sensible value of one offer, by type: what a typo (150% off, 1e12 points) runs into. */
export const OFFER_LIMITS = {
  percent_off: { max: 100, integer: false, words: 'a percentage between 0 and 100 (15 = 15% off)' },
  amount_off: { max: 1_000_000, integer: false, words: 'an amount between 0 and 1,000,000' },
  loyalty_points: { max: 10_000_000, integer: true, words: 'a whole number of points between 0 and 10,000,000' },
  trial_extension: { max: 365, integer: true, words: 'a whole number of days between 0 and 365' },
} as const

/** Numbers of an ExperimentCreate body by dot path; `*` stands for any arm index, tier name or range end. */
export const NUMBER_LIMITS = {
  'arms.*.weight': { min: 0, minExclusive: true, max: 1 },
  /** Any offer type; the types in OFFER_LIMITS are bounded further. */
  'arms.*.offer.value': { min: 0, max: 1_000_000_000 },
  'arms.*.offer.unitCost': { min: 0, max: 1_000_000 },
  holdoutPct: { min: 0, max: 0.5 },
  coverage: { min: 0, max: 1 },
  'namespace.range.*': { min: 0, max: 1 },
  'analysis.alpha': { min: 0, minExclusive: true, max: 0.2 },
  'analysis.attributionDays': { min: 1, max: 365, integer: true },
  'analysis.ltvDays': { min: 1, max: 730, integer: true },
  'analysis.cuped.lookbackDays': { min: 1, max: 730, integer: true },
  'analysis.winsorize.percentile': { min: 0.5, minExclusive: true, max: 1, maxExclusive: true },
  'analysis.mde': { min: 0, minExclusive: true, max: 10 },
  'analysis.defaultMarginRate': { min: 0, max: 1 },
  priority: { min: 0, max: 10_000, integer: true },
  'budget.amount': { min: 0 },
  'budget.maxCostPerIncrementalConversion': { min: 0 },
} as const satisfies Record<string, Bound>

/** Longest text by dot path, in characters. */
export const TEXT_LIMITS = { name: 200, hypothesis: 5000, 'arms.*.key': 64, 'arms.*.name': 200, 'namespace.name': 64 } as const

/** An experiment has 2 to 10 arms, the control included. */
export const ARM_COUNT = { min: 2, max: 10 } as const

/** How many of each part a catalogue metric may have, and how long its texts (metrics/schema.ts). */
export const METRIC_LIMITS = {
  eventTypes: 10,
  filters: 10,
  /** Values of one `in` / `not_in` filter. */
  inValues: 100,
  /** Characters of one text value a filter compares with. */
  stringValue: 256,
  /** Property paths such as `category` or `item.category`: at most this many dot-separated keys. */
  pathDepth: 3,
  tags: 10,
  /** Characters of one tag. */
  tagLength: 40,
  name: 120,
  description: 2000,
  owner: 120,
} as const

/**
 * `GET /v1/kpis?metrics=`: at most this many catalogue metrics (each adds columns to one pass over the events),
 * each `key` or `key@version` (METRIC_REF).
 */
export const KPI_METRICS_MAX = 8
/** A catalogue metric named in a query string: its key (metrics/schema.ts → MetricKey), optionally `@version`. */
export const METRIC_REF = /^([a-z][a-z0-9_]{1,63})(?:@(\d{1,6}))?$/

/** The API's words for a property path it refuses (too deep, or not letters, digits and underscores). */
export const PROPERTY_PATH_WORDS = `must be a property name of letters, digits and underscores, or a path of at most ${METRIC_LIMITS.pathDepth} such names joined by dots (item.category)`

/** Numbers of a metric definition by dot path; percentiles and quantiles are fractions as on the wire. */
export const METRIC_NUMBER_LIMITS = {
  minEvents: { min: 1, max: 1000, integer: true },
  'window.startDays': { min: 0, max: 730 },
  /** And after `window.startDays`. */
  'window.endDays': { min: 0, minExclusive: true, max: 730 },
  'capping.value': { min: 0, minExclusive: true },
  'capping.percentile': { min: 0.5, minExclusive: true, max: 1, maxExclusive: true },
  quantile: { min: 0, minExclusive: true, max: 1, maxExclusive: true },
} as const satisfies Record<string, Bound>
