/**
 * Segment heterogeneity (stats/heterogeneity.ts): Cochran's Q, I², τ², leave-one-out deviations and their
 * Benjamini–Hochberg / Benjamini–Yekutieli family, against scipy (test/fixtures/heterogeneity/generate.py writes
 * the fixture; rerun it with `python3 test/fixtures/heterogeneity/generate.py`) to 1e-9 relative; then by seeded
 * simulation over 1,000 reports of 2 variants × 5 segments (binomial outcomes, relative lifts with their
 * delta-method standard errors, as the report tests them): with one common lift on baselines that differ by segment,
 * the share of reports that flag any segment stays ≤ α + 3 Monte Carlo SE, and a planted deviation is found.
 */
import { describe, expect, it } from 'vitest'
import fixture from '../../fixtures/heterogeneity/heterogeneity.json'
import { adjustDeviations, homogeneityTest, type HomogeneityTest } from '../../../stats/heterogeneity.ts'
import { compareProportions } from '../../../stats/index.ts'
import { expectClose, expectIntervalClose } from './support/close.ts'
import { Random } from './support/random.ts'
import { note } from './support/simulation.ts'

const REL = 1e-9
const tests = new Map(fixture.tests.map((t) => [t.name, t]))
const computed = new Map(fixture.tests.map((t) => [t.name, homogeneityTest(t.effects)]))

describe('homogeneity test against numpy/scipy', () => {
  it.each(fixture.tests.map((t) => [t.name, t] as const))('%s', (name, t) => {
    const got = computed.get(name)!
    const want = t.expected
    const scale = Math.max(...t.effects.map((e) => e.standardError))
    expect(got.k).toBe(want.k)
    expect(got.df).toBe(want.df)
    expectClose(got.pooled.estimate, want.pooled.estimate, REL, scale)
    expectClose(got.pooled.standardError, want.pooled.standardError, REL)
    expectClose(got.q, want.q, REL, 1e-12)
    expectClose(got.pValue, want.pValue, REL)
    expectClose(got.iSquared, want.iSquared, REL, 1e-12)
    expectClose(got.tauSquared, want.tauSquared, REL, 1e-12 * scale * scale)
    got.segments.forEach((s, i) => {
      const w = want.segments[i]
      expect(s.segment).toBe(w.segment)
      expectClose(s.rest.estimate, w.rest.estimate, REL, scale)
      expectClose(s.rest.standardError, w.rest.standardError, REL)
      expectClose(s.deviation, w.deviation, REL, scale)
      expectClose(s.deviationStandardError, w.deviationStandardError, REL)
      expectClose(s.z, w.z, REL, 1e-9)
      expectClose(s.pValue, w.pValue, REL)
    })
  })

  it('refuses fewer than two segments and standard errors that are not positive', () => {
    const ok = { segment: 'a', estimate: 0.1, standardError: 0.01 }
    expect(() => homogeneityTest([ok])).toThrow(RangeError)
    expect(() => homogeneityTest([ok, { ...ok, segment: 'b', standardError: 0 }])).toThrow(/segment b/)
    expect(() => homogeneityTest([ok, { ...ok, segment: 'b', estimate: Number.NaN }])).toThrow(/segment b/)
  })
})

describe('deviations adjusted as one family (BH verdicts, BY intervals) against scipy', () => {
  it.each(fixture.families.map((f, i) => [`family ${i + 1}: ${f.tests.join(', ')} at α = ${f.alpha}`, f] as const))('%s', (_, f) => {
    const got = adjustDeviations(
      f.tests.map((n) => computed.get(n)!),
      f.alpha,
    )
    got.forEach((row, i) =>
      row.forEach((d, j) => {
        const w = f.expected[i][j]
        expectClose(d.adjustedPValue, w.adjustedPValue, REL)
        expectClose(d.level, w.level, REL)
        expectIntervalClose(d.ci, w.ci as [number, number], REL)
        expect(d.differs).toBe(w.differs)
        expect(d.direction).toBe(w.direction)
        expect(d.ci[0] > 0 || d.ci[1] < 0).toBe(d.differs)
      }),
    )
  })

  it('flags the planted segment in the fixture, above the rest', () => {
    const [row] = adjustDeviations([computed.get('one deviates')!], 0.05)
    expect(row.filter((d) => d.differs).map((d) => [d.segment, d.direction])).toEqual([['181-365', 'above']])
    expect(tests.get('one deviates')!.effects).toHaveLength(5)
  })

  it('keeps the verdict and the interval together at the rounding boundary', () => {
    // Two mirrored segments with SE(d) = 1: BH rejects both (level α) exactly when |z| > z_{0.975}. Walk the
    // deviation across that boundary ulp by ulp; whichever way rounding falls, verdict and interval agree.
    const se = Math.SQRT1_2
    let x = 1.959963984540054 * (1 - 64 * Number.EPSILON)
    let both = 0
    for (let i = 0; i < 256; i++, x *= 1 + Number.EPSILON) {
      const test = homogeneityTest([
        { segment: 'a', estimate: x, standardError: se },
        { segment: 'b', estimate: 0, standardError: se },
      ])
      for (const d of adjustDeviations([test], 0.05)[0]) {
        expect(d.ci[0] > 0 || d.ci[1] < 0).toBe(d.differs)
        if (d.differs) both++
      }
    }
    // The walk crosses the boundary: some steps differ, some do not.
    expect(both).toBeGreaterThan(0)
    expect(both).toBeLessThan(512)
  })
})

const ALPHA = 0.05
const RUNS = 1000
const MC = 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / RUNS)
const BASELINES = [0.05, 0.08, 0.12, 0.2, 0.3]
const N = 2000

/** One report: each of 2 variants vs control in 5 segments (relative lift), variant 1 multiplied by `extra[s]` too. */
function simulatedReport(rng: Random, lift: number, extra: number[]): HomogeneityTest[] {
  const control = BASELINES.map((p) => ({ n: N, sum: rng.binomial(N, p) }))
  return [0, 1].map((v) => {
    const effects = BASELINES.map((p, s) => {
      const c = compareProportions(control[s], { n: N, sum: rng.binomial(N, p * lift * (v === 0 ? extra[s] : 1)) })
      return { segment: `s${s}`, estimate: c.estimate!, standardError: c.standardError! }
    })
    return homogeneityTest(effects)
  })
}

describe('by simulation, 1,000 reports of 2 variants × 5 segments', () => {
  it('with one common lift (+20% on every segment’s baseline) flags a segment in ≤ α + 3 SE of reports, and Q rejects at ≈ α', () => {
    const rng = new Random(2005)
    let anyFlagged = 0
    let rawAny = 0
    let qRejects = 0
    for (let r = 0; r < RUNS; r++) {
      const report = simulatedReport(rng, 1.2, [1, 1, 1, 1, 1])
      const adjusted = adjustDeviations(report, ALPHA).flat()
      for (const d of adjusted) expect(d.ci[0] > 0 || d.ci[1] < 0).toBe(d.differs)
      if (adjusted.some((d) => d.differs)) anyFlagged++
      if (adjusted.some((d) => d.pValue < ALPHA)) rawAny++
      qRejects += report.filter((t) => t.pValue < ALPHA).length
    }
    note('heterogeneity null: reports flagging any segment (BH)', anyFlagged / RUNS)
    note('heterogeneity null: reports with any unadjusted p < α', rawAny / RUNS)
    note('heterogeneity null: Q rejection rate', qRejects / (2 * RUNS))
    expect(anyFlagged / RUNS).toBeLessThanOrEqual(ALPHA + MC)
    // Without the correction this would be a fishing list.
    expect(rawAny / RUNS).toBeGreaterThan(3 * ALPHA)
    const qSe = 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / (2 * RUNS))
    expect(Math.abs(qRejects / (2 * RUNS) - ALPHA)).toBeLessThanOrEqual(qSe + 0.005)
  })

  it('finds a segment whose lift is planted at +80% (the others +20%) in most reports, and rarely flags the rest', () => {
    const rng = new Random(1995)
    let found = 0
    let falseDiscoveryProportions = 0
    for (let r = 0; r < RUNS; r++) {
      const report = simulatedReport(rng, 1.2, [1, 1, 1.5, 1, 1])
      const [variant1, variant2] = adjustDeviations(report, ALPHA)
      const planted = variant1.find((d) => d.segment === 's2')!
      if (planted.differs && planted.direction === 'above') found++
      // Only variant 1 is heterogeneous (its other segments' rest includes the planted one, so their contrasts
      // are not null either); every flag in variant 2 is a false discovery.
      const flags = [...variant1, ...variant2].filter((d) => d.differs).length
      const falseFlags = variant2.filter((d) => d.differs).length
      falseDiscoveryProportions += flags ? falseFlags / flags : 0
    }
    note('heterogeneity planted: power to find the planted segment', found / RUNS)
    note('heterogeneity planted: false discovery rate (variant 2 flags)', falseDiscoveryProportions / RUNS)
    expect(found / RUNS).toBeGreaterThan(0.9)
    expect(falseDiscoveryProportions / RUNS).toBeLessThanOrEqual(ALPHA + MC)
  })
})
