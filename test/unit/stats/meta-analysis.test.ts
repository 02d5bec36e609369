/**
 * Pooling across experiments (stats/meta-analysis.ts): fixed-effect and DerSimonian–Laird random-effects pools,
 * Cochran's Q, I² and τ², against numpy/scipy (test/fixtures/meta-analysis/generate.py writes the fixture, and
 * checks the published BCG-trials result; rerun it with `python3 test/fixtures/meta-analysis/generate.py`) to
 * 1e-9 relative; then by seeded simulation of a few experiments of binomial outcomes (absolute differences, as
 * the learning library pools them): with no heterogeneity the random-effects 95% interval covers the true effect
 * in ≥ 94% of runs, and with no effect it rejects in ≤ α + 3 Monte Carlo SE.
 */
import { describe, expect, it } from 'vitest'
import fixture from '../../fixtures/meta-analysis/meta-analysis.json'
import { metaAnalysis, type PooledEstimate } from '../../../stats/meta-analysis.ts'
import { compareProportions } from '../../../stats/index.ts'
import { expectClose, expectIntervalClose } from './support/close.ts'
import { Random } from './support/random.ts'
import { note } from './support/simulation.ts'

const REL = 1e-9

function expectPooled(got: PooledEstimate, want: (typeof fixture.tests)[number]['expected']['fixed'], scale: number) {
  expectClose(got.estimate, want.estimate, REL, scale)
  expectClose(got.standardError, want.standardError, REL)
  expectIntervalClose(got.ci, want.ci as [number, number], REL)
  expectClose(got.z, want.z, REL, 1e-9)
  expectClose(got.pValue, want.pValue, REL, 1e-300)
}

describe('meta-analysis against numpy/scipy', () => {
  it.each(fixture.tests.map((t) => [t.name, t] as const))('%s', (_, t) => {
    const got = metaAnalysis(t.studies, t.alpha)
    const want = t.expected
    const scale = Math.max(...t.studies.map((s) => s.standardError))
    expect(got.k).toBe(want.k)
    expect(got.df).toBe(want.df)
    expect(got.alpha).toBe(t.alpha)
    expectPooled(got.fixed, want.fixed, scale)
    expectPooled(got.random, want.random, scale)
    expectClose(got.q, want.q, REL, 1e-12)
    if (want.qPValue === null) expect(got.qPValue).toBeNull()
    else expectClose(got.qPValue, want.qPValue, REL, 1e-300)
    expectClose(got.iSquared, want.iSquared, REL, 1e-12)
    expectClose(got.tauSquared, want.tauSquared, REL, 1e-12 * scale * scale)
    got.weights.forEach((w, i) => expectClose(w, want.weights[i], REL, 1e-12))
  })

  it('reproduces the published DerSimonian–Laird result for the BCG trials (τ² = 0.3088, log RR = −0.7141)', () => {
    const bcg = fixture.tests.find((t) => t.name.startsWith('bcg'))!
    const got = metaAnalysis(bcg.studies)
    expect(got.tauSquared).toBeCloseTo(0.3088, 4)
    expect(got.random.estimate).toBeCloseTo(-0.7141, 4)
    expect(got.iSquared).toBeGreaterThan(0.9)
  })

  it('widens the interval when experiments disagree, and equals the fixed-effect pool when they do not', () => {
    const agree = metaAnalysis([
      { study: 'a', estimate: 0.03, standardError: 0.01 },
      { study: 'b', estimate: 0.028, standardError: 0.012 },
    ])
    expect(agree.tauSquared).toBe(0)
    expect(agree.random).toEqual(agree.fixed)
    const disagree = metaAnalysis([
      { study: 'a', estimate: 0.09, standardError: 0.01 },
      { study: 'b', estimate: 0.0, standardError: 0.01 },
    ])
    expect(disagree.tauSquared).toBeGreaterThan(0)
    expect(disagree.random.standardError).toBeGreaterThan(disagree.fixed.standardError * 2)
    // The fixed-effect pool calls it; the random-effects pool does not.
    expect(disagree.fixed.ci[0]).toBeGreaterThan(0)
    expect(disagree.random.ci[0]).toBeLessThan(0)
  })

  it('passes a single experiment through with no heterogeneity figures', () => {
    const one = metaAnalysis([{ study: 'a', estimate: 0.02, standardError: 0.01 }])
    expect(one).toMatchObject({ k: 1, q: 0, df: 0, qPValue: null, iSquared: 0, tauSquared: 0, weights: [1] })
    expect(one.random.estimate).toBe(0.02)
    expect(one.random.standardError).toBe(0.01)
  })

  it('keeps Q and τ² at 0 for one experiment whose pooled mean rounds off its estimate', () => {
    // Σwy/Σw = 0.027461165049619745 ≠ y: Q came out 1.4e-31 > df = 0 and τ² = Q/0.
    const one = metaAnalysis([{ study: 'a', estimate: 0.02746116504961975, standardError: 0.00930598813620324 }])
    expect(one.q).toBe(0)
    expect(one.tauSquared).toBe(0)
    expect(one.iSquared).toBe(0)
    expect(Number.isFinite(one.random.pValue)).toBe(true)
  })

  it('refuses no estimates, bad standard errors, non-finite estimates and α outside (0, 1)', () => {
    const ok = { study: 'a', estimate: 0.1, standardError: 0.01 }
    expect(() => metaAnalysis([])).toThrow(RangeError)
    expect(() => metaAnalysis([ok, { ...ok, study: 'b', standardError: 0 }])).toThrow(/study b/)
    expect(() => metaAnalysis([ok, { ...ok, study: 'b', standardError: Number.POSITIVE_INFINITY }])).toThrow(/study b/)
    expect(() => metaAnalysis([ok, { ...ok, study: 'b', estimate: Number.NaN }])).toThrow(/study b/)
    expect(() => metaAnalysis([ok], 0)).toThrow(RangeError)
    expect(() => metaAnalysis([ok], 1)).toThrow(RangeError)
  })
})

const ALPHA = 0.05
const RUNS = 2000
const MC = 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / RUNS)
/** Three experiments of unequal size and baseline, as the library sees one segment × offer pair. */
const EXPERIMENTS = [
  { n: 1500, baseline: 0.08 },
  { n: 3000, baseline: 0.1 },
  { n: 800, baseline: 0.12 },
]

function simulatedPool(rng: Random, effect: number) {
  const studies = EXPERIMENTS.map((e, i) => {
    const c = compareProportions({ n: e.n, sum: rng.binomial(e.n, e.baseline) }, { n: e.n, sum: rng.binomial(e.n, e.baseline + effect) }, { kind: 'absolute' })
    return { study: `e${i}`, estimate: c.estimate!, standardError: c.standardError! }
  })
  return metaAnalysis(studies, ALPHA)
}

describe('by simulation, 2,000 pools of 3 experiments with one common effect (no heterogeneity)', () => {
  it('covers a planted +2-point effect in ≥ 94% of runs (random effects, nominal 95%)', () => {
    const rng = new Random(1986)
    let covered = 0
    let fixedCovered = 0
    for (let r = 0; r < RUNS; r++) {
      const m = simulatedPool(rng, 0.02)
      if (m.random.ci[0] <= 0.02 && 0.02 <= m.random.ci[1]) covered++
      if (m.fixed.ci[0] <= 0.02 && 0.02 <= m.fixed.ci[1]) fixedCovered++
    }
    note('meta-analysis: random-effects coverage', covered / RUNS)
    note('meta-analysis: fixed-effect coverage', fixedCovered / RUNS)
    expect(covered / RUNS).toBeGreaterThanOrEqual(0.94)
    // τ² is truncated at 0, so the random-effects interval is never narrower than the fixed-effect one.
    expect(covered).toBeGreaterThanOrEqual(fixedCovered)
    expect(fixedCovered / RUNS).toBeGreaterThanOrEqual(0.94)
  })

  it('rejects no effect in ≤ α + 3 SE of runs, and Q rejects homogeneity at about α', () => {
    const rng = new Random(2002)
    let rejected = 0
    let qRejected = 0
    for (let r = 0; r < RUNS; r++) {
      const m = simulatedPool(rng, 0)
      if (m.random.pValue < ALPHA) rejected++
      expect(m.random.ci[0] > 0 || m.random.ci[1] < 0).toBe(m.random.pValue < ALPHA)
      if (m.qPValue! < ALPHA) qRejected++
    }
    note('meta-analysis: false-positive rate', rejected / RUNS)
    note('meta-analysis: Q rejection rate', qRejected / RUNS)
    expect(rejected / RUNS).toBeLessThanOrEqual(ALPHA + MC)
    expect(Math.abs(qRejected / RUNS - ALPHA)).toBeLessThanOrEqual(MC + 0.005)
  })

  it('finds a planted +2-point effect most of the time (the pool has power a single experiment lacks)', () => {
    const rng = new Random(7)
    let pooled = 0
    let smallest = 0
    for (let r = 0; r < 500; r++) {
      const m = simulatedPool(rng, 0.02)
      if (m.random.ci[0] > 0) pooled++
      // The smallest experiment alone, run again with the same effect.
      const small = EXPERIMENTS[2]
      const c = compareProportions(
        { n: small.n, sum: rng.binomial(small.n, small.baseline) },
        { n: small.n, sum: rng.binomial(small.n, small.baseline + 0.02) },
        { kind: 'absolute' },
      )
      if (c.ci![0] > 0) smallest++
    }
    note('meta-analysis: power of the pool at +2 points', pooled / 500)
    expect(pooled / 500).toBeGreaterThan(0.6)
    expect(pooled).toBeGreaterThan(2 * smallest)
  })
})
