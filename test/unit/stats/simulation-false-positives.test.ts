/**
 * False positives by simulation (seeded, so every run sees the same data): A/A experiments, where any
 * "significant" result is an error. With R runs the Monte Carlo standard error of a rate near 0.05 is
 * √(0.05·0.95/R): 0.0022 at R = 10,000 and 0.0024 at R = 8,000, so [0.04, 0.06] is ±4 standard errors.
 */
import { describe, expect, it } from 'vitest'
import { compareMeans, compareProportions } from '../../../stats/index.ts'
import { meanStatsOf, Random } from './support/random.ts'
import { note, rate, revenue } from './support/simulation.ts'

describe('A/A experiments: the false-positive rate at α = 0.05 lies in [0.04, 0.06]', () => {
  it('for conversion rates (10%, 2,000 per arm, 10,000 runs)', () => {
    const rng = new Random(101)
    const fpr = rate(10_000, () => compareProportions({ n: 2000, sum: rng.binomial(2000, 0.1) }, { n: 2000, sum: rng.binomial(2000, 0.1) }).significant)
    note('A/A false-positive rate, proportions', fpr)
    expect(fpr).toBeGreaterThanOrEqual(0.04)
    expect(fpr).toBeLessThanOrEqual(0.06)
  })

  it('for normal outcomes (500 per arm, 10,000 runs)', () => {
    const rng = new Random(102)
    const arm = () => meanStatsOf(() => 100 + 40 * rng.normal(), 500)
    const fpr = rate(10_000, () => compareMeans(arm(), arm()).significant)
    note('A/A false-positive rate, normal', fpr)
    expect(fpr).toBeGreaterThanOrEqual(0.04)
    expect(fpr).toBeLessThanOrEqual(0.06)
  })

  it('for heavy-tailed revenue (2,000 per arm, 8,000 runs)', () => {
    const rng = new Random(103)
    const arm = () => meanStatsOf(revenue(rng, 1), 2000)
    const fpr = rate(8_000, () => compareMeans(arm(), arm()).significant)
    note('A/A false-positive rate, revenue', fpr)
    expect(fpr).toBeGreaterThanOrEqual(0.04)
    expect(fpr).toBeLessThanOrEqual(0.06)
  })
})
