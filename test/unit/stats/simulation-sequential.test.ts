/**
 * Peeking: an A/A experiment looked at every day for 30 days. The fixed-horizon test declares a winner on
 * some day far more often than α; the always-valid confidence sequence (Waudby-Smith et al. 2023) keeps the
 * chance of any false declaration over all 30 looks at or below α.
 */
import { describe, expect, it } from 'vitest'
import { compareMeans, compareProportions, type CompareOptions, type MeanStats, type ProportionStats } from '../../../stats/index.ts'
import { Random } from './support/random.ts'
import { note } from './support/simulation.ts'

const DAYS = 30
const RUNS = 3000

interface PeekingOutcome {
  fixed: number
  sequential: number
}

function peekingRates(runs: number, experiment: (peek: (significant: (opts: CompareOptions) => boolean) => void) => void): PeekingOutcome {
  let fixed = 0
  let sequential = 0
  for (let r = 0; r < runs; r++) {
    let fixedHit = false
    let sequentialHit = false
    experiment((significant) => {
      fixedHit ||= significant({})
      sequentialHit ||= significant({ sequential: {} })
    })
    if (fixedHit) fixed++
    if (sequentialHit) sequential++
  }
  return { fixed: fixed / runs, sequential: sequential / runs }
}

describe('daily peeking over 30 looks at α = 0.05', () => {
  it('conversion 10% in both arms, 150 new customers per arm per day', () => {
    const rng = new Random(303)
    const rates = peekingRates(RUNS, (peek) => {
      const a: ProportionStats = { n: 0, sum: 0 }
      const b: ProportionStats = { n: 0, sum: 0 }
      for (let day = 0; day < DAYS; day++) {
        a.n += 150
        a.sum += rng.binomial(150, 0.1)
        b.n += 150
        b.sum += rng.binomial(150, 0.1)
        peek((opts) => compareProportions(a, b, opts).significant)
      }
    })
    note('peeking, proportions: fixed-horizon false-positive rate', rates.fixed)
    note('peeking, proportions: sequential false-positive rate', rates.sequential)
    expect(rates.sequential).toBeLessThanOrEqual(0.05)
    expect(rates.fixed).toBeGreaterThan(0.1)
  })

  it('normal outcome in both arms, absolute difference, 100 new customers per arm per day', () => {
    const rng = new Random(304)
    const rates = peekingRates(RUNS, (peek) => {
      const a: MeanStats = { n: 0, sum: 0, sumSquares: 0 }
      const b: MeanStats = { n: 0, sum: 0, sumSquares: 0 }
      for (let day = 0; day < DAYS; day++) {
        for (const arm of [a, b]) {
          for (let i = 0; i < 100; i++) {
            const x = 20 + 5 * rng.normal()
            arm.n++
            arm.sum += x
            arm.sumSquares += x * x
          }
        }
        peek((opts) => compareMeans(a, b, { ...opts, kind: 'absolute' }).significant)
      }
    })
    note('peeking, normal: fixed-horizon false-positive rate', rates.fixed)
    note('peeking, normal: sequential false-positive rate', rates.sequential)
    expect(rates.sequential).toBeLessThanOrEqual(0.05)
    expect(rates.fixed).toBeGreaterThan(0.1)
  })

  it('the confidence sequence covers a planted lift on every one of the 30 days in ≥ 95% of runs', () => {
    const rng = new Random(305)
    let coveredThroughout = 0
    const runs = 2000
    for (let r = 0; r < runs; r++) {
      const a: ProportionStats = { n: 0, sum: 0 }
      const b: ProportionStats = { n: 0, sum: 0 }
      let ok = true
      for (let day = 0; day < DAYS; day++) {
        a.n += 150
        a.sum += rng.binomial(150, 0.1)
        b.n += 150
        b.sum += rng.binomial(150, 0.11)
        const c = compareProportions(a, b, { sequential: {} })
        // An unbounded Fieller set (the first days, when the baseline rate is not yet bounded away from 0) is shown as the whole line.
        if (!(c.ciUnbounded || (c.ci && c.ci[0] <= 0.1 && 0.1 <= c.ci[1]))) ok = false
      }
      if (ok) coveredThroughout++
    }
    note('sequential coverage on all 30 days', coveredThroughout / runs)
    expect(coveredThroughout / runs).toBeGreaterThanOrEqual(0.95)
  })
})
