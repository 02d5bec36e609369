/**
 * Test families (issue 15 items 1–2): the level of each displayed interval agrees with the family's verdict,
 * significant ⇔ adjusted p < α ⇔ p < level, for none, Bonferroni, Holm and BH (with Benjamini–Yekutieli levels),
 * ties, nulls and textbook boundaries (p = α/m, jα/m) included; and the one-sided guardrail tests.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { adjustPValues, compareProportions, familyLevels, guardrailTest, type FamilyMethod } from '../../../stats/index.ts'

const METHODS: FamilyMethod[] = ['none', 'bonferroni', 'holm', 'bh']
const ALPHAS = [0.05, 0.1, 0.01, 0.2]

/** p-values with ties and the textbook boundaries jα/m, (α/(m − j + 1)) for small m, which rounding puts on either side. */
const boundaries = ALPHAS.flatMap((a) => [1, 2, 3, 4, 5, 6].flatMap((m) => [1, 2, 3, 4, 5, 6].flatMap((j) => [(j * a) / m, a / (m - j + 1), a * (j / m)])))
const pValue = fc.oneof(
  { weight: 3, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 3, arbitrary: fc.constantFrom(...boundaries.filter((p) => p > 0 && p <= 1)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 200 }).map((k) => k / 1000) },
  { weight: 1, arbitrary: fc.constant(null) },
)

describe('familyLevels: significant ⇔ adjusted p < α ⇔ p < level (fast-check, seeded)', () => {
  it.each(METHODS)('%s', (method) => {
    fc.assert(
      fc.property(fc.array(pValue, { minLength: 1, maxLength: 12 }), fc.constantFrom(...ALPHAS), (ps, alpha) => {
        const { adjustedPValues, levels, significant } = familyLevels(ps, method, alpha)
        expect(adjustedPValues).toHaveLength(ps.length)
        ps.forEach((p, i) => {
          if (p === null) {
            expect(levels[i]).toBeNull()
            expect(adjustedPValues[i]).toBeNull()
            expect(significant[i]).toBe(false)
            return
          }
          const level = levels[i] as number
          expect(significant[i]).toBe((adjustedPValues[i] as number) < alpha)
          expect(significant[i]).toBe(p < level)
          expect(level).toBeGreaterThan(0)
          expect(level).toBeLessThanOrEqual(alpha)
        })
      }),
      { numRuns: 2500, seed: 2005 },
    )
  })

  it('returns the textbook levels away from rounding', () => {
    const m = 8
    const ps = [0.001, 0.004, 0.005, 0.0065, 0.02, 0.2, 0.5, null, 0.9]
    const holm = familyLevels(ps, 'holm', 0.05)
    // Holm: 0.001 < 0.05/8, 0.004 < 0.05/7, 0.005 < 0.05/6, 0.0065 < 0.05/5 = 0.01, 0.02 ≥ 0.05/4 → r = 4.
    expect(holm.significant).toEqual([true, true, true, true, false, false, false, false, false])
    expect(holm.levels).toEqual([0.05 / 8, 0.05 / 7, 0.05 / 6, 0.05 / 5, 0.05 / 4, 0.05 / 4, 0.05 / 4, null, 0.05 / 4])
    expect(holm.adjustedPValues).toEqual(adjustPValues(ps, 'holm'))
    const bh = familyLevels(ps, 'bh', 0.05)
    // BH: p₍₅₎ = 0.02 < 5·0.05/8 = 0.03125 and p₍₆₎ = 0.2 ≥ 6·0.05/8 → R = 5; BY level 5·0.05/8 for all.
    expect(bh.significant).toEqual([true, true, true, true, true, false, false, false, false])
    expect(bh.levels).toEqual(ps.map((p) => (p === null ? null : (5 * 0.05) / m)))
    expect(familyLevels(ps, 'bonferroni', 0.05).levels).toEqual(ps.map((p) => (p === null ? null : 0.05 / m)))
    expect(familyLevels(ps, 'none', 0.05).levels).toEqual(ps.map((p) => (p === null ? null : 0.05)))
    expect(familyLevels([0.3, 0.6], 'bh', 0.05).levels).toEqual([0.025, 0.025])
  })

  it('keeps the example of the doc comment', () => {
    const holm = familyLevels([0.01, 0.04, 0.03], 'holm', 0.05)
    expect(holm.significant).toEqual([true, false, false])
    expect(holm.levels).toEqual([0.05 / 3, 0.05 / 2, 0.05 / 2])
  })

  it('moves a level by one rounding step where p sits on its textbook boundary', () => {
    // 3 · (0.05/3) rounds to 0.05000000000000001 ≥ α: not significant, so the level must not exceed p.
    const p = 0.05 / 3
    const { significant, levels, adjustedPValues } = familyLevels([p, 0.5, 0.7], 'bonferroni', 0.05)
    expect(significant[0]).toBe((adjustedPValues[0] as number) < 0.05)
    expect(p < (levels[0] as number)).toBe(significant[0])
  })

  it('refuses an α outside (0, 1) and unknown methods', () => {
    expect(() => familyLevels([0.1], 'holm', 0)).toThrow(RangeError)
    expect(() => familyLevels([0.1], 'sidak' as FamilyMethod, 0.05)).toThrow(RangeError)
    expect(familyLevels([], 'holm', 0.05)).toEqual({ adjustedPValues: [], levels: [], significant: [] })
  })
})

describe('sequential comparisons at an adjusted level', () => {
  it('keep the α-level p-value when ρ is tuned at the family α (designAlpha), so the interval at level L excludes 0 ⇔ p < L', () => {
    const a = { n: 4000, sum: 400 }
    let checked = 0
    for (let sum = 400; sum <= 560; sum += 4) {
      const b = { n: 4000, sum }
      const atAlpha = compareProportions(a, b, { sequential: {} })
      for (const level of [0.05 / 2, 0.05 / 3, 0.05 / 10, 0.05 * (3 / 10)]) {
        for (const kind of ['absolute', 'relative'] as const) {
          const shown = compareProportions(a, b, { alpha: level, kind, sequential: { designAlpha: 0.05 } })
          expect(shown.pValue).toBe(atAlpha.pValue)
          const [lo, hi] = shown.ci as [number, number]
          expect(lo > 0 || hi < 0).toBe((atAlpha.pValue as number) < level)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(300)
  })
})

describe('guardrailTest: one-sided harm tests against a margin', () => {
  it('harmed ⇔ harm p < level ⇔ the interval lies beyond the margin; within_margin ⇔ safe p < level ⇔ it lies short of it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }).map((k) => k / 1000),
        fc.integer({ min: 1, max: 1000 }).map((k) => k / 2000),
        fc.integer({ min: 0, max: 500 }).map((k) => k / 1000),
        fc.constantFrom(0.05, 0.025, 0.01, 0.1),
        fc.constantFrom('increase' as const, 'decrease' as const),
        fc.oneof(fc.constant(null), fc.integer({ min: 2, max: 5000 })),
        (estimate, se, margin, level, direction, df) => {
          const g = guardrailTest({ estimate, standardError: se, df }, margin, level, direction)
          const [lo, hi] = g.ci
          expect(lo).toBeLessThan(hi)
          const harmLow = direction === 'increase' ? lo : -hi
          const harmHigh = direction === 'increase' ? hi : -lo
          expect(g.status === 'harmed').toBe(g.harmPValue < level)
          expect(g.status === 'within_margin').toBe(g.safePValue < level)
          expect(g.harmPValue + g.safePValue).toBeCloseTo(1, 12)
          const tolerance = 1e-9 * Math.max(1, Math.abs(margin))
          if (Math.abs(harmLow - margin) > tolerance) expect(g.status === 'harmed').toBe(harmLow > margin)
          if (Math.abs(harmHigh - margin) > tolerance) expect(g.status === 'within_margin').toBe(harmHigh < margin)
        },
      ),
      { numRuns: 4000, seed: 1987 },
    )
  })

  it('reads a rise in unsubscribes of 1 pp (SE 0.2 pp) against a 0.3 pp margin as harm, and a fall as within the margin', () => {
    expect(guardrailTest({ estimate: 0.01, standardError: 0.002, df: null }, 0.003, 0.05, 'increase').status).toBe('harmed')
    expect(guardrailTest({ estimate: -0.01, standardError: 0.002, df: null }, 0.003, 0.05, 'increase').status).toBe('within_margin')
    expect(guardrailTest({ estimate: 0.003, standardError: 0.002, df: null }, 0.003, 0.05, 'increase').status).toBe('unclear')
  })

  it('measures harm downwards for metrics where lower is worse, with Student t tails', () => {
    const g = guardrailTest({ estimate: -2.5, standardError: 1, df: 10 }, 0.5, 0.05, 'decrease')
    // harm = 2.5, t = (2.5 − 0.5)/1 = 2 on 10 df: P(T₁₀ > 2) = 0.036694 (scipy.stats.t.sf(2, 10)).
    expect(g.harmPValue).toBeCloseTo(0.036694, 6)
    expect(g.status).toBe('harmed')
    // t_{0.95, 10} = 1.812461: interval −2.5 ± 1.812461.
    expect(g.ci[0]).toBeCloseTo(-4.312461, 5)
    expect(g.ci[1]).toBeCloseTo(-0.687539, 5)
  })

  it('refuses a level outside (0, 0.5) or a non-positive standard error', () => {
    expect(() => guardrailTest({ estimate: 1, standardError: 0, df: null }, 0, 0.05, 'increase')).toThrow(RangeError)
    expect(() => guardrailTest({ estimate: 1, standardError: 1, df: null }, 0, 0.5, 'increase')).toThrow(RangeError)
  })
})
