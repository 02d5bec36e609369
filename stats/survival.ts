/**
 * Time to first purchase: the Kaplan–Meier estimator over pre-aggregated rows (ClickHouse groups customers by
 * day: how many first purchased on that day, how many were censored then), with Greenwood's variance, pointwise
 * confidence bands and the median survival time with a Brookmeyer–Crowley confidence interval.
 * References: Kaplan & Meier (1958), JASA 53; Greenwood (1926); Kalbfleisch & Prentice (1980) for the log-log
 * band; Brookmeyer & Crowley (1982), "A confidence interval for the median survival time", Biometrics 38.
 */
import { normalUpperQuantile } from './distributions.ts'
import type { NotEstimable } from './types.ts'

/** Customers whose first purchase (`events`) or end of follow-up (`censored`) falls at `time` (e.g. days). */
export interface SurvivalRow {
  time: number
  events: number
  censored: number
}

/** Scale on which the pointwise band is symmetric: log(−log S) (default), log S, or S itself. */
export type SurvivalTransform = 'log-log' | 'log' | 'plain'

export interface KaplanMeierOptions {
  alpha?: number
  transform?: SurvivalTransform
}

export interface KaplanMeierPoint {
  time: number
  atRisk: number
  events: number
  censored: number
  /** Ŝ(t) just after `time`. */
  survival: number
  /** Greenwood: Ŝ(t)·√Σ dᵢ/(nᵢ(nᵢ − dᵢ)); null once Ŝ = 0. */
  standardError: number | null
  lower: number
  upper: number
}

export interface KaplanMeierResult {
  points: KaplanMeierPoint[]
  n: number
  events: number
  /** Smallest time with Ŝ ≤ ½ (midpoint to the next drop when Ŝ = ½ exactly); null when never reached. */
  median: number | null
  /** Brookmeyer–Crowley interval from the pointwise band; an end is null when the band never reaches ½. */
  medianCi: [number | null, number | null]
  alpha: number
  transform: SurvivalTransform
  notEstimable?: NotEstimable
}

const TOLERANCE = Math.sqrt(Number.EPSILON)

function band(s: number, greenwood: number, z: number, transform: SurvivalTransform): [number, number] {
  if (s <= 0) return [0, 0]
  if (greenwood === 0 || s >= 1) return [s, s]
  const sdLog = Math.sqrt(greenwood)
  if (transform === 'plain') return [Math.max(0, s - z * s * sdLog), Math.min(1, s + z * s * sdLog)]
  if (transform === 'log') return [s * Math.exp(-z * sdLog), Math.min(1, s * Math.exp(z * sdLog))]
  // Var(log(−log Ŝ)) = Σ dᵢ/(nᵢ(nᵢ − dᵢ)) / (log Ŝ)², the interval maps back as Ŝ^exp(±z·sd).
  const sd = sdLog / Math.abs(Math.log(s))
  return [s ** Math.exp(z * sd), s ** Math.exp(-z * sd)]
}

/** R survival's rule (`minmin`): first time the curve is ≤ ½; on a flat stretch at exactly ½, the midpoint. */
function firstTimeAtOrBelowHalf(times: number[], values: number[]): number | null {
  const index = values.findIndex((v) => v < 0.5 + TOLERANCE)
  if (index < 0) return null
  if (Math.abs(values[index] - 0.5) < TOLERANCE) {
    const next = values.findIndex((v, i) => i > index && v < values[index] - TOLERANCE)
    if (next >= 0) return (times[index] + times[next]) / 2
  }
  return times[index]
}

function invalid(alpha: number, transform: SurvivalTransform, message: string): KaplanMeierResult {
  return { points: [], n: 0, events: 0, median: null, medianCi: [null, null], alpha, transform, notEstimable: { code: 'invalid_input', message } }
}

/**
 * Kaplan–Meier curve Ŝ(t) = Π_{tᵢ ≤ t} (1 − dᵢ/nᵢ) with nᵢ at risk (censored at tᵢ still count as at risk at
 * tᵢ), Greenwood variance Var Ŝ = Ŝ² Σ dᵢ/(nᵢ(nᵢ − dᵢ)), a (1 − α) pointwise band on the chosen scale, and
 * the median with the Brookmeyer–Crowley interval {t : ½ inside the band at t}: from the first time the lower
 * band reaches ½ to the first time the upper band does. Rows may repeat a time; they are merged.
 * @example kaplanMeier([{ time: 6, events: 3, censored: 1 }, { time: 7, events: 1, censored: 0 }, { time: 10, events: 0, censored: 17 }]).points[0].survival // 18/21
 */
export function kaplanMeier(rows: SurvivalRow[], options: KaplanMeierOptions = {}): KaplanMeierResult {
  const alpha = options.alpha ?? 0.05
  const transform = options.transform ?? 'log-log'
  if (!(alpha > 0 && alpha < 1)) return invalid(alpha, transform, `alpha must lie strictly between 0 and 1, got ${alpha}`)
  const merged = new Map<number, { events: number; censored: number }>()
  for (const row of rows) {
    const ok = Number.isFinite(row.time) && row.time >= 0 && Number.isInteger(row.events) && row.events >= 0 && Number.isInteger(row.censored) && row.censored >= 0
    if (!ok) return invalid(alpha, transform, `rows need a finite time ≥ 0 and non-negative integer counts, got ${JSON.stringify(row)}`)
    const at = merged.get(row.time) ?? { events: 0, censored: 0 }
    at.events += row.events
    at.censored += row.censored
    merged.set(row.time, at)
  }
  const times = [...merged.keys()].sort((x, y) => x - y)
  const n = times.reduce((s, t) => s + (merged.get(t)?.events ?? 0) + (merged.get(t)?.censored ?? 0), 0)
  const z = normalUpperQuantile(alpha / 2)
  let atRisk = n
  let survival = 1
  let greenwood = 0
  let events = 0
  const points: KaplanMeierPoint[] = []
  for (const time of times) {
    const at = merged.get(time) ?? { events: 0, censored: 0 }
    if (at.events + at.censored === 0) continue
    if (at.events > 0) {
      survival *= 1 - at.events / atRisk
      greenwood = at.events < atRisk ? greenwood + at.events / (atRisk * (atRisk - at.events)) : Infinity
      events += at.events
    }
    const dead = survival <= 0
    const [lower, upper] = dead ? [0, 0] : band(survival, greenwood, z, transform)
    points.push({ time, atRisk, events: at.events, censored: at.censored, survival: dead ? 0 : survival, standardError: dead ? null : survival * Math.sqrt(greenwood), lower, upper })
    atRisk -= at.events + at.censored
  }
  const pointTimes = points.map((p) => p.time)
  return {
    points,
    n,
    events,
    median: firstTimeAtOrBelowHalf(pointTimes, points.map((p) => p.survival)),
    medianCi: [firstTimeAtOrBelowHalf(pointTimes, points.map((p) => p.lower)), firstTimeAtOrBelowHalf(pointTimes, points.map((p) => p.upper))],
    alpha,
    transform,
  }
}
