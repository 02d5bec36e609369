/**
 * The geometry of the small interval bar drawn in each metrics-table row: one shared scale for the displayed
 * interval, 0 and (for guardrails) the harm margin, so all three are always on screen.
 */

export interface IntervalBarGeometry {
  /** x of the interval's ends, the estimate, 0 and the margin (null when there is none), in px. */
  lo: number
  hi: number
  estimate: number | null
  zero: number
  margin: number | null
}

/**
 * `intervalBar([0.02, 0.08], 0.05, null, 120)` → positions inside [pad, width − pad], 0 included in the domain.
 * `include` adds values the scale must also cover, so that the rows of a table can share one scale (every row's
 * interval ends) and be compared by position. Returns null when there is no interval to draw.
 */
export function intervalBar(
  ci: [number, number] | null | undefined,
  estimate: number | null,
  margin: number | null,
  width: number,
  pad = 6,
  include: number[] = [],
): IntervalBarGeometry | null {
  if (!ci || !Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) return null
  const points = [ci[0], ci[1], 0, ...(margin !== null && Number.isFinite(margin) ? [margin] : []), ...include.filter(Number.isFinite)]
  let min = Math.min(...points)
  let max = Math.max(...points)
  if (max - min < 1e-12) {
    min -= 1
    max += 1
  }
  const span = max - min
  min -= span * 0.08
  max += span * 0.08
  const x = (v: number) => pad + ((v - min) / (max - min)) * (width - 2 * pad)
  return {
    lo: x(Math.min(ci[0], ci[1])),
    hi: x(Math.max(ci[0], ci[1])),
    estimate: estimate !== null && Number.isFinite(estimate) ? x(estimate) : null,
    zero: x(0),
    margin: margin !== null && Number.isFinite(margin) ? x(margin) : null,
  }
}
