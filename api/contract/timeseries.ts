/** GET /v1/experiments/:id/timeseries: cumulative lift and its interval at each cut since the start. */
import type { MetricKey } from '../experiments/schema.ts'
import type { MetricFormat } from './report.ts'

export interface TimeseriesPoint {
  at: string
  arm: string
  against: 'control' | 'holdout'
  n: number
  value: number | null
  estimate: number | null
  ci: [number, number] | null
  significant: boolean
}

export interface LiftTimeseries {
  experimentId: string
  asOf: string
  /** Days between cuts (1 when the experiment is younger than the number of points asked for). */
  stepDays: number
  sequential: boolean
  /** Built-in metrics, then the experiment's catalogue metrics asked for (by key) that have a series. */
  series: Array<{ metric: MetricKey | string; label: string; format: MetricFormat; control: string; points: TimeseriesPoint[] }>
}
