import { expect } from 'vitest'

/** |actual − expected| ≤ rel·max(|expected|, scale): relative agreement, with a scale for values near 0. */
export function expectClose(actual: number | null | undefined, expected: number, rel = 1e-6, scale = 0): void {
  expect(actual, `expected ${expected}`).toBeTypeOf('number')
  const a = actual as number
  const tolerance = rel * Math.max(Math.abs(expected), scale)
  if (!(Math.abs(a - expected) <= tolerance)) {
    expect.fail(`${a} differs from ${expected} by ${Math.abs(a - expected)} (> ${tolerance}, rel ${Math.abs(a - expected) / Math.abs(expected)})`)
  }
}

/** Interval endpoints compared relative to the larger of the endpoint and the interval's half-width. */
export function expectIntervalClose(actual: [number, number] | null, expected: [number, number], rel = 1e-6): void {
  expect(actual).not.toBeNull()
  const halfWidth = Math.abs(expected[1] - expected[0]) / 2
  expectClose(actual?.[0], expected[0], rel, halfWidth)
  expectClose(actual?.[1], expected[1], rel, halfWidth)
}
