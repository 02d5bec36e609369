import { firstExposuresSql, inSlice, wholeRange, type CustomerSlice } from '../reports/sql/customer-window.ts'
import type { MetricDefinitionInput, MetricSource, MetricValue } from './schema.ts'
import { Binder, PropertyColumns, sourceSql, valueSql } from './event-sql.ts'
import type { StoredPropertyColumns } from '../stores/property-columns.ts'

/**
 * Catalogue definitions compiled to ClickHouse: one query per experiment that measures every requested metric for
 * every customer in one GROUP BY over their joined events (the shape of the report's per-customer table,
 * reports/sql/customer-window.ts), caps the per-customer values, and sums them per arm into the sufficient
 * statistics the stats module takes. docs/metrics.md states the semantics.
 *
 * Nothing a definition holds reaches the SQL text: event types, property paths, filter values, windows and caps
 * are bound parameters named `{m0_f1_v:String}`, `{prop_0_k0:String}` …; only code-made identifiers and parameter names are spliced.
 */

export type MeanMetric = Extract<MetricDefinitionInput, { kind: 'mean' }>
export type SourceMetric = Extract<MetricDefinitionInput, { kind: 'proportion' | 'retention' | 'mean' | 'time_to_event' }>
/** A ratio with the mean metrics its keys name, resolved by the caller. */
export type ResolvedRatio = Extract<MetricDefinitionInput, { kind: 'ratio' }> & { parts: { numerator: MeanMetric; denominator: MeanMetric } }
/** What this module compiles (quantiles are not compiled yet: they need another interval, see docs/metrics.md). */
export type CompilableMetric = SourceMetric | ResolvedRatio

const DAY_MS = 86_400_000
/** Time-to-event day indexes of metric j travel in one `metric_survival` map as j × SURVIVAL_KEY_STRIDE + day. */
export const SURVIVAL_KEY_STRIDE = 1000

export interface CompileOptions {
  /** Add each mean's pre-exposure sums (CUPED covariate over the lookback {lookbackMs}) when the definition asks. */
  cuped: boolean
  /**
   * The column whose groups each take their own percentile cap (the program KPIs' scope); without it the cap is
   * the percentile over every customer of the pass (one experiment's).
   */
  capPartition?: string
  /** The events table's property columns (stores/property-columns.ts `storedPropertyColumns`); none without. */
  stored?: StoredPropertyColumns
}

/** One compiled metric: where its columns are in the arm rows. */
export interface CompiledMetric {
  def: CompilableMetric
  /** Prefix of its columns and parameters: `m0`, `m1` … */
  id: string
  /** Its position in the definitions (and in the `metric_survival` map's keys). */
  index: number
  /** Means: whether `${id}_pre_sum`, `${id}_pre_ss` and `${id}_cross` are there. */
  cuped: boolean
}

export interface CompiledQuery {
  metrics: CompiledMetric[]
  /** The per-arm statistics query over one customer slice (bound: exp, asOf, enrolledUntil, includeImmature, …). */
  sql(slice?: CustomerSlice): string
  /** The definitions' bound parameters (merge with `metricQueryParams`). */
  params: Record<string, unknown>
  /** A percentile cap needs every customer in one pass. */
  singlePass: boolean
}

/** The window in ms from first exposure, bound; with the maturity of the customer for it. */
function windowOf(b: Binder, window: { startDays: number; endDays: number }) {
  const start = b.bind('start', 'Int64', Math.round(window.startDays * DAY_MS))
  const end = b.bind('end', 'Int64', Math.round(window.endDays * DAY_MS))
  return { inWindow: `dt >= ${start} AND dt < ${end}`, end, counted: `({includeImmature:UInt8} OR exposed_ms + ${end} <= {asOf:Int64})` }
}

/**
 * Which events qualify and what they are worth, decided on the events' own rows before the join with the exposures:
 * a UInt8 flag per distinct source (`ev_q0` …) and a Float64 per distinct source and value (`ev_v1` …, 0 on an event
 * that does not qualify). Every column the join carries is copied for each of the ~10M joined rows and read again by
 * the customer GROUP BY, so metrics share their columns (a ratio's count denominator and a retention metric on the
 * same purchases read one flag), a mean carries its value alone (sumIf over the window then adds the zeros of the
 * events that do not qualify), a count carries only its flag, and a flag is a plain UInt8 — `type IN …` on the
 * LowCardinality type is LowCardinality(UInt8), slower to carry and to test. Measured at 1M/10M in the report's
 * pass: see docs/metrics.md.
 */
class EventColumns {
  readonly params: Record<string, unknown> = {}
  /** The expressions, in the order they were made (a value reads its source's flag). */
  readonly columns: string[] = []
  /** The aliases the customer columns read: the join carries these. */
  readonly carried = new Set<string>()
  private readonly aliases = new Map<string, string>()
  constructor(private readonly props: PropertyColumns) {}
  /** Whether an event qualifies for the source (1 or 0). */
  flag(source: MetricSource): string {
    return this.carry(this.flagColumn(source))
  }
  /** What an event contributes to a sum of the value over the source: the value when it qualifies, else 0. */
  value(source: MetricSource, value: MetricValue): string {
    const flag = this.flagColumn(source)
    return this.carry(this.once(['value', source, value], 'v', source, (b) => `if(${flag}, toFloat64(${valueSql(b, value)}), 0)`))
  }
  /**
   * A source of event types alone is tested where it is read, on the `type` the join carries anyway (the
   * report's own columns need it): no flag column to carry.
   */
  private flagColumn(source: MetricSource): string {
    if (!source.filters.length)
      return this.once(['types', source.eventTypes], 't', source, (b) => `(type IN ${b.bind('types', 'Array(String)', source.eventTypes)})`)
    return this.once(['flag', source], 'q', source, (b) => `CAST(${sourceSql(b, source)} AS UInt8)`)
  }
  private carry(ref: string): string {
    if (!ref.startsWith('(')) this.carried.add(ref)
    return ref
  }
  /**
   * The column for `key` (a source and what is read of it), made the first time it is asked for; a `t` is an
   * expression over `type`, returned as itself.
   */
  private once(key: unknown[], kind: 'q' | 'v' | 't', source: MetricSource, expression: (b: Binder) => string): string {
    const id = JSON.stringify(key)
    let ref = this.aliases.get(id)
    if (!ref) {
      const alias = `ev_${kind}${this.aliases.size}`
      const b = new Binder(alias, this.props, source.eventTypes)
      ref = kind === 't' ? expression(b) : alias
      if (kind !== 't') this.columns.push(`${expression(b)} AS ${alias}`)
      Object.assign(this.params, b.params)
      this.aliases.set(id, ref)
    }
    return ref
  }
}

interface Columns {
  customer: string[]
  capped: string[]
  arm: string[]
  survival?: { key: string; events: string; censored: string }
}

/** Per customer: the capped sum of the value (and its pre-exposure sum); per arm: n, Σx, Σx² (and CUPED's sums). */
function meanColumns(b: Binder, id: string, def: MeanMetric, cuped: boolean, events: EventColumns, capOver: string, withArmColumns = true): Columns {
  const w = windowOf(b, def.window)
  // A count is the number of flagged events (exact in a Float64 far beyond any customer's count).
  const sumOver = (when: string) =>
    def.value.of === 'count' ? `toFloat64(countIf(${events.flag(def.source)} AND ${when}))` : `sumIf(${events.value(def.source, def.value)}, ${when})`
  const customer = [`${sumOver(w.inWindow)} AS ${id}_value`, `${w.counted} AS ${id}_counted`]
  if (cuped) customer.push(`${sumOver('dt < 0 AND dt >= -{lookbackMs:Int64}')} AS ${id}_pre`)
  const cap = (col: string) => {
    const c = def.capping
    if (c.type === 'absolute') return `least(${col}, ${b.float('cap', c.value)})`
    if (c.type === 'percentile') return `least(${col}, quantileExactInclusiveIf(${b.float('cap', c.percentile)})(${col}, ${id}_counted) OVER (${capOver}))`
    return col
  }
  const capped = [`${id}_counted`, `${cap(`${id}_value`)} AS ${id}_x`, ...(cuped ? [`${cap(`${id}_pre`)} AS ${id}_pre_x`] : [])]
  const c = `${id}_counted`
  const arm = withArmColumns
    ? [
        `countIf(${c}) AS ${id}_n`,
        `sumIf(${id}_x, ${c}) AS ${id}_sum`,
        `sumIf(${id}_x * ${id}_x, ${c}) AS ${id}_ss`,
        ...(cuped
          ? [
              `sumIf(${id}_pre_x, ${c}) AS ${id}_pre_sum`,
              `sumIf(${id}_pre_x * ${id}_pre_x, ${c}) AS ${id}_pre_ss`,
              `sumIf(${id}_x * ${id}_pre_x, ${c}) AS ${id}_cross`,
            ]
          : []),
      ]
    : []
  return { customer, capped, arm }
}

function columnsOf(
  def: CompilableMetric,
  id: string,
  index: number,
  cuped: boolean,
  events: EventColumns,
  props: PropertyColumns,
  capOver: string,
): { columns: Columns; params: Record<string, unknown> } {
  const b = new Binder(id, props, def.kind === 'ratio' ? [] : def.source.eventTypes)
  if (def.kind === 'mean') return { columns: meanColumns(b, id, def, cuped, events, capOver), params: b.params }
  if (def.kind === 'ratio') {
    const bn = new Binder(`${id}n`, props, def.parts.numerator.source.eventTypes)
    const bd = new Binder(`${id}d`, props, def.parts.denominator.source.eventTypes)
    const num = meanColumns(bn, `${id}n`, def.parts.numerator, false, events, capOver, false)
    const den = meanColumns(bd, `${id}d`, def.parts.denominator, false, events, capOver, false)
    // Σnum/Σden over the customers counted for both windows (the delta method pairs each customer's two values).
    const c = `${id}n_counted AND ${id}d_counted`
    const arm = [
      `countIf(${c}) AS ${id}_n`,
      `sumIf(${id}n_x, ${c}) AS ${id}_num_sum`,
      `sumIf(${id}n_x * ${id}n_x, ${c}) AS ${id}_num_ss`,
      `sumIf(${id}d_x, ${c}) AS ${id}_den_sum`,
      `sumIf(${id}d_x * ${id}d_x, ${c}) AS ${id}_den_ss`,
      `sumIf(${id}n_x * ${id}d_x, ${c}) AS ${id}_cross`,
    ]
    return {
      columns: { customer: [...num.customer, ...den.customer], capped: [...num.capped, ...den.capped], arm },
      params: { ...bn.params, ...bd.params },
    }
  }
  const w = windowOf(b, def.window)
  const qualifying = `${events.flag(def.source)} AND ${w.inWindow}`
  const customer = [`countIf(${qualifying}) AS ${id}_hits`, `${w.counted} AS ${id}_counted`]
  const c = `${id}_counted`
  if (def.kind === 'proportion') {
    const atLeast = b.bind('min', 'UInt32', def.minEvents)
    return {
      columns: { customer, capped: [c, `${id}_hits`], arm: [`countIf(${c}) AS ${id}_n`, `countIf(${c} AND ${id}_hits >= ${atLeast}) AS ${id}_sum`] },
      params: b.params,
    }
  }
  if (def.kind === 'retention')
    return {
      columns: { customer, capped: [c, `${id}_hits`], arm: [`countIf(${c}) AS ${id}_n`, `countIf(${c} AND ${id}_hits > 0) AS ${id}_sum`] },
      params: b.params,
    }
  // Time to event, as the report's time to purchase: the first qualifying event's day index, or the (rounded-up)
  // days the customer was followed — to the window's end, or to asOf for a recent exposure — when censored.
  customer.push(`minIf(dt, ${qualifying}) AS ${id}_first`, `least(${w.end}, {asOf:Int64} - exposed_ms) AS ${id}_observed`)
  const day = `if(${id}_hits > 0, intDiv(${id}_first, ${DAY_MS}), intDiv(greatest(${id}_observed, 0) + ${DAY_MS - 1}, ${DAY_MS}))`
  return {
    columns: {
      customer,
      capped: [c, `${id}_hits`, `${id}_first`, `${id}_observed`],
      arm: [`countIf(${c}) AS ${id}_n`, `countIf(${c} AND ${id}_hits > 0) AS ${id}_events`],
      survival: {
        key: `toUInt32(${index * SURVIVAL_KEY_STRIDE} + ${day})`,
        events: `toUInt64(${c} AND ${id}_hits > 0)`,
        censored: `toUInt64(${c} AND ${id}_hits = 0)`,
      },
    },
    params: b.params,
  }
}

export type QuantileMetric = Extract<MetricDefinitionInput, { kind: 'quantile' }>

/**
 * A quantile's qualifying events, for the queries of metrics/quantile-values.ts: the per-event flag `q_q` and value
 * `q_v` (as a mean's), the window test on `dt` and the customer's maturity for it (on `exposed_ms`), all bound.
 */
export function quantileEventColumns(
  def: QuantileMetric,
  stored?: StoredPropertyColumns,
): { eventColumns: string[]; params: Record<string, unknown>; inWindow: string; counted: string } {
  const props = new PropertyColumns(stored)
  const b = new Binder('q', props, def.source.eventTypes)
  const event = [`(${sourceSql(b, def.source)}) AS q_q`, `if(q_q, toFloat64(${valueSql(b, def.value)}), 0) AS q_v`]
  const w = windowOf(b, def.window)
  return {
    eventColumns: [...props.eventColumns(), ...event],
    params: { metricTypes: def.source.eventTypes, ...props.params, ...b.params },
    inWindow: w.inWindow,
    counted: w.counted,
  }
}

/** The source metrics the definitions read: each, or a ratio's numerator and denominator. */
export const sourcesOf = (defs: CompilableMetric[]) => defs.flatMap((d) => (d.kind === 'ratio' ? [d.parts.numerator, d.parts.denominator] : [d]))

/**
 * Catalogue metrics as columns of a per-customer pass: what the customer GROUP BY adds (`customer`), what the
 * capping step carries (`capped`), the per-arm sums (`arm`, and `survival` — one `metric_survival` map for every
 * time to event) and the per-event columns (`eventColumns`, of which the join carries `carried`). The experiment
 * report adds them to its own pass (reports/sql/arm-stats.ts); `compileMetrics` wraps them in a query of their own.
 */
export interface CompiledColumns {
  metrics: CompiledMetric[]
  params: Record<string, unknown>
  customer: string[]
  capped: string[]
  arm: string[]
  /** `sumMap(…) AS metric_survival`, or '' without a time to event. */
  survival: string
  /** Expressions over the events table's columns for the events subquery (each property path extracted once, then `ev_q0` …). */
  eventColumns: string[]
  /** The aliases among them that the join carries to the customer GROUP BY. */
  carried: string[]
  /** A percentile cap needs every customer in one pass. */
  singlePass: boolean
}

/** The catalogue's day counts column (the report's own time to purchase is `survival`). */
export const METRIC_SURVIVAL = 'metric_survival'

export function compileColumns(defs: CompilableMetric[], opts: CompileOptions): CompiledColumns {
  const metrics: CompiledMetric[] = []
  const props = new PropertyColumns(opts.stored)
  const events = new EventColumns(props)
  const parts = defs.map((def, i) => {
    const id = `m${i}`
    const cuped = def.kind === 'mean' && opts.cuped && def.cuped
    metrics.push({ def, id, index: i, cuped })
    return columnsOf(def, id, i, cuped, events, props, opts.capPartition ? `PARTITION BY ${opts.capPartition}` : '')
  })
  const survival = parts.flatMap((p) => (p.columns.survival ? [p.columns.survival] : []))
  const types = [...new Set(sourcesOf(defs).flatMap((d) => d.source.eventTypes))]
  return {
    metrics,
    params: Object.assign({ metricTypes: types }, props.params, events.params, ...parts.map((p) => p.params)),
    customer: parts.flatMap((p) => p.columns.customer),
    capped: parts.flatMap((p) => p.columns.capped),
    arm: parts.flatMap((p) => p.columns.arm),
    survival: survival.length
      ? `sumMap([${survival.map((s) => s.key).join(', ')}], [${survival.map((s) => s.events).join(', ')}], [${survival.map((s) => s.censored).join(', ')}]) AS ${METRIC_SURVIVAL}`
      : '',
    eventColumns: [...props.eventColumns(), ...events.columns],
    carried: [...events.carried],
    singlePass: defs.some((d) => [d, ...(d.kind === 'ratio' ? [d.parts.numerator, d.parts.denominator] : [])].some(hasPercentileCap)),
  }
}

/**
 * Compiles catalogue metrics into one per-arm statistics query of their own (the metric preview's). Columns per
 * metric `mN`: `mN_n` and, by kind, `mN_sum` (proportion, retention: customers meeting it); `mN_sum`, `mN_ss`
 * [+ `mN_pre_sum`, `mN_pre_ss`, `mN_cross`] (mean); `mN_num_sum`, `mN_num_ss`, `mN_den_sum`, `mN_den_ss`,
 * `mN_cross` (ratio); `mN_events` and the day counts in `metric_survival` (time to event).
 *
 * @example
 * const q = compileMetrics([def], { cuped: true })
 * await ch.client.query({ query: q.sql(), query_params: { ...metricQueryParams(p), ...q.params }, format: 'JSONEachRow' })
 */
export function compileMetrics(defs: CompilableMetric[], opts: CompileOptions): CompiledQuery {
  const c = compileColumns(defs, opts)
  const sql = (slice: CustomerSlice = wholeRange) => `WITH ${firstExposuresSql(slice)},
metric_events AS (
  SELECT f.cust AS cust, f.arm AS arm, f.t0 AS t0, toUnixTimestamp64Milli(e.ts) - f.t0 AS dt, e.type AS type${c.carried.map((col) => `, e.${col} AS ${col}`).join('')}
  FROM (
    SELECT cityHash64(customer_id) AS cust, ts, type${c.eventColumns.map((col) => `, ${col}`).join('')}
    FROM events FINAL
    WHERE ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') AND type IN {metricTypes:Array(String)}${inSlice(slice)}
  ) AS e
  RIGHT JOIN first_exposures AS f ON f.cust = e.cust
),
metric_customers AS (
  SELECT cust, any(arm) AS arm, any(t0) AS exposed_ms,
    ${c.customer.join(',\n    ')}
  FROM metric_events
  GROUP BY cust
),
metric_capped AS (
  SELECT arm, ${c.capped.join(', ')}
  FROM metric_customers
)
SELECT arm,
  ${[...c.arm, ...(c.survival ? [c.survival] : [])].join(',\n  ')}
FROM metric_capped
GROUP BY arm
ORDER BY arm`
  return { metrics: c.metrics, sql, params: c.params, singlePass: c.singlePass }
}

const hasPercentileCap = (d: CompilableMetric | MeanMetric) => d.kind === 'mean' && d.capping.type === 'percentile'

/** The query-wide parameters: the experiment, asOf, who is enrolled, maturity, the CUPED lookback and margin rate. */
export const metricQueryParams = (p: {
  experimentId: string
  asOfMs: number
  enrolledUntilMs: number
  includeImmature: boolean
  lookbackMs: number
  marginRate: number
}) => ({
  exp: p.experimentId,
  asOf: p.asOfMs,
  enrolledUntil: p.enrolledUntilMs,
  includeImmature: p.includeImmature ? 1 : 0,
  lookbackMs: p.lookbackMs,
  marginRate: String(p.marginRate),
})
