/**
 * Pure helpers the d3 charts share: which colour an arm gets and which part of the lift axis to show.
 * Colours: the control grey, variants in distinct hues (the allocation bar uses the same); green and red stay
 * reserved for significance.
 */

// Distinct hues that are neither the green nor the red of significance: navy, sky, violet, mauve, brown…
// Distinct hues, so overlapping interval bands stay tellable apart: blue, orange, purple, teal, rose, brown.
const VARIANT_COLOURS = ['#1f4e79', '#d97706', '#7b5ea7', '#0f766e', '#be185d', '#8c6d46', '#3d5a80', '#a58fcf', '#c08552', '#2f2d5f']
export const CONTROL_COLOUR = '#6b7280'
export const HOLDOUT_COLOUR = '#a0a7b2'

/** A colour per arm key: grey for the control, light grey for the holdout, blues for the variants in order. */
export function armColours(arms: Array<{ key: string; isControl: boolean; isHoldout: boolean }>): Map<string, string> {
  const colours = new Map<string, string>()
  let v = 0
  for (const arm of arms) {
    colours.set(arm.key, arm.isControl ? CONTROL_COLOUR : arm.isHoldout ? HOLDOUT_COLOUR : VARIANT_COLOURS[v++ % VARIANT_COLOURS.length])
  }
  return colours
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)

/**
 * The lift axis: every interval end and zero, padded by 8%, and never wider than `limits` (default −100% to
 * +200%) so one tiny arm's huge interval does not flatten the rest. Intervals beyond it are drawn clipped.
 */
export function liftDomain(values: Array<number | null | undefined>, limits: [number, number] = [-1, 2]): [number, number] {
  const xs = values.filter(finite)
  let lo = Math.min(0, ...xs)
  let hi = Math.max(0, ...xs)
  if (lo === hi) {
    lo -= 0.05
    hi += 0.05
  }
  const pad = (hi - lo) * 0.08
  return [Math.max(limits[0], lo - pad), Math.min(limits[1], hi + pad)]
}

/** A value clipped into a domain, with which side it was clipped on. */
export function clip(x: number, [lo, hi]: [number, number]): { value: number; clipped: 'low' | 'high' | null } {
  if (x < lo) return { value: lo, clipped: 'low' }
  if (x > hi) return { value: hi, clipped: 'high' }
  return { value: x, clipped: null }
}

/**
 * Tick values at whole days from 0 to `maxDays`, at most about `count` of them, at a step of 1, 2, 5, 7, 10, 14,
 * 30… days: `wholeDays(30, 4)` → [0, 10, 20, 30]. Fractional ticks ("2.5 days") never appear.
 */
export function wholeDays(maxDays: number, count = 8): number[] {
  const max = Math.max(0, Math.floor(maxDays))
  const steps = [1, 2, 5, 7, 10, 14, 30, 60, 90, 180, 365]
  const step = steps.find((s) => max / s <= Math.max(1, count)) ?? Math.ceil(max / Math.max(1, count))
  const ticks: number[] = []
  for (let d = 0; d <= max; d += step) ticks.push(d)
  return ticks
}

const WEEK = 7 * 86_400_000

/** Every week from the first to the last (Mondays, YYYY-MM-DD), so that a week without data is a gap in time. */
export function everyWeek(weeks: string[]): string[] {
  if (!weeks.length) return []
  const times = weeks.map((w) => Date.parse(`${w}T00:00:00Z`)).filter(Number.isFinite)
  const out: string[] = []
  for (let t = Math.min(...times); t <= Math.max(...times); t += WEEK) out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

/**
 * The weeks that get a tick: at most one per week and at most one per `minSpacing` px of the plot, counted back
 * from the latest week so that it always has its label. `weekTicks(13 weeks, 330)` → every third week.
 */
export function weekTicks(weeks: string[], plotWidth: number, minSpacing = 60): string[] {
  const room = Math.max(1, Math.floor(plotWidth / minSpacing))
  const step = Math.max(1, Math.ceil(weeks.length / room))
  return weeks.filter((_, i) => (weeks.length - 1 - i) % step === 0)
}
