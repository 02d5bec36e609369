/**
 * The metric catalogue on the wire: what /v1/metrics answers and what its forms send. Analysts' definitions are
 * the zod schema of metrics/schema.ts (inferred types); the built-in metrics are read-only entries that the report
 * code computes, described by name, kind, format and direction only.
 */
import type { z } from 'zod'
import type { MetricDefinition, MetricDefinitionInput, MetricKind } from '../metrics/schema.ts'
import type { MeanStats, ProportionStats, QuantileRankStats, RatioStats, SurvivalRow } from '../../stats/index.ts'
import type { MetricComparison } from './comparisons.ts'

export type { MetricCapping, MetricDefinition, MetricDefinitionInput, MetricFilter, MetricSource, MetricValue, MetricWindow } from '../metrics/schema.ts'
/** The catalogue's kinds (report.ts's `MetricKind` is the reports' own: its `survival` is `time_to_event` here). */
export type CatalogueMetricKind = MetricKind

/** What a form sends to POST /v1/metrics and POST /v1/metrics/:key/versions: defaults may be omitted. */
export type MetricDraft = z.input<typeof MetricDefinitionInput>

/** A version an analyst saved (`builtIn: false`): the whole definition, as the schema reads it. */
export type CustomMetric = MetricDefinition & { builtIn: false }

/** One of the metrics reports computed before the catalogue: read-only, always version 1, never archived. */
export interface BuiltInMetric {
  key: string
  name: string
  description: string
  owner: string
  tags: string[]
  /** The kinds the report code computes (its survival metrics are time_to_event). */
  kind: Extract<CatalogueMetricKind, 'proportion' | 'mean' | 'ratio' | 'time_to_event'>
  format: 'percent' | 'currency' | 'number' | 'days'
  direction: 'higher' | 'lower'
  builtIn: true
  version: number
  archived: boolean
  createdAt: string
  createdBy: string
}

/** A catalogue entry: tell the two apart by `builtIn`. */
export type CatalogueMetric = CustomMetric | BuiltInMetric

/** GET /v1/metrics: the latest version of each key, built-ins first, then by key. */
export interface MetricCatalogue {
  metrics: CatalogueMetric[]
}

/** GET /v1/metrics/:key/versions: every version of one key, newest first. */
export interface MetricVersionHistory {
  key: string
  versions: CatalogueMetric[]
}

/** An arm's sufficient statistics of one metric, as the stats module takes them. */
export type MetricArmStats =
  | ProportionStats
  | (MeanStats & { pre?: { sum: number; sumSquares: number; crossSum: number } })
  | RatioStats
  | { n: number; events: number; survival: SurvivalRow[] }
  /** Quantile: the qualifying events, the interval of the quantile and the per-customer sums it came from (stats/quantile.ts). */
  | { n: number; events: number; ci: [number, number] | null; rank: QuantileRankStats | null }

export interface MetricArmValue {
  arm: string
  /** Customers counted: those whose window for this metric has ended by asOf (all of them with include=immature). */
  n: number
  /**
   * Proportion and retention: the share meeting it; mean: per customer; ratio: Σnum/Σden; time to event: the
   * restricted mean days without the event up to the window's end; quantile: the quantile of the value over the
   * qualifying events. Null without customers (or, for a quantile, without events).
   */
  value: number | null
  stats: MetricArmStats
}

/** One catalogue metric on an experiment: each arm's value, and each variant against control. */
export interface MetricArmValues {
  key: string
  kind: CatalogueMetricKind
  values: MetricArmValue[]
  /** Each variant vs control (unadjusted: a preview is not a report's test family). */
  comparisons: MetricComparison[]
}

export interface MetricPreviewArm {
  key: string
  name: string
  isControl: boolean
  isHoldout: boolean
}

/** POST /v1/metrics/preview: a draft metric's per-arm values and comparisons with control on one experiment. */
export interface MetricPreview {
  experimentId: string
  asOf: string
  arms: MetricPreviewArm[]
  metric: MetricArmValues
}
