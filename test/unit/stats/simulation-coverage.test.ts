/**
 * Interval coverage by simulation (seeded): a planted true lift must fall inside the 95% interval in 94–96%
 * of runs. With R runs the Monte Carlo standard error of a rate near 0.95 is √(0.95·0.05/R): 0.0022 at
 * R = 10,000 and 0.0024 at R = 8,000, so the band is ±4 standard errors around the nominal 0.95.
 */
import { describe, expect, it } from 'vitest'
import { compareMeans, compareProportions, type Comparison } from '../../../stats/index.ts'
import { meanStatsOf, Random } from './support/random.ts'
import { note, rate, revenue } from './support/simulation.ts'

function covers(c: Comparison, truth: number): boolean {
  return c.ci !== null && c.ci[0] <= truth && truth <= c.ci[1]
}

describe('95% intervals cover a planted relative lift in [0.94, 0.96] of runs', () => {
  it('conversion 5% → 5.5% (+10%), 20,000 per arm, 10,000 runs', () => {
    const rng = new Random(201)
    const coverage = rate(10_000, () =>
      covers(compareProportions({ n: 20_000, sum: rng.binomial(20_000, 0.05) }, { n: 20_000, sum: rng.binomial(20_000, 0.055) }), 0.1),
    )
    note('coverage, proportions (relative)', coverage)
    expect(coverage).toBeGreaterThanOrEqual(0.94)
    expect(coverage).toBeLessThanOrEqual(0.96)
  })

  it('normal outcome 100 → 105 (+5%), sd 40, 1,000 per arm, 10,000 runs', () => {
    const rng = new Random(202)
    const coverage = rate(10_000, () =>
      covers(
        compareMeans(
          meanStatsOf(() => 100 + 40 * rng.normal(), 1000),
          meanStatsOf(() => 105 + 40 * rng.normal(), 1000),
        ),
        0.05,
      ),
    )
    note('coverage, normal (relative)', coverage)
    expect(coverage).toBeGreaterThanOrEqual(0.94)
    expect(coverage).toBeLessThanOrEqual(0.96)
  })

  it('log-normal revenue with 70% zeros, spend +5%, 5,000 per arm, 8,000 runs', () => {
    const rng = new Random(203)
    const coverage = rate(8_000, () => covers(compareMeans(meanStatsOf(revenue(rng, 1), 5000), meanStatsOf(revenue(rng, 1.05), 5000)), 0.05))
    note('coverage, log-normal revenue (relative)', coverage)
    expect(coverage).toBeGreaterThanOrEqual(0.94)
    expect(coverage).toBeLessThanOrEqual(0.96)
  })

  it('and the absolute interval covers the planted difference too (revenue, 5,000 per arm, 4,000 runs)', () => {
    const rng = new Random(204)
    const truth = 0.05 * 0.3 * Math.exp(3 + 1.2 ** 2 / 2)
    const coverage = rate(4_000, () =>
      covers(compareMeans(meanStatsOf(revenue(rng, 1), 5000), meanStatsOf(revenue(rng, 1.05), 5000), { kind: 'absolute' }), truth),
    )
    note('coverage, log-normal revenue (absolute)', coverage)
    expect(coverage).toBeGreaterThanOrEqual(0.935)
    expect(coverage).toBeLessThanOrEqual(0.965)
  })
})
