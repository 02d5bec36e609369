import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { adjustPValues, familyLevels, guardrailTest, type FamilyMethod } from '../../../stats/index.ts'

const pValue = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0.01, 0.0125, 0.025, 0.05, 0.001), fc.constant(null))

describe('familyLevels', () => {
  for (const method of ['none', 'bonferroni', 'holm', 'bh'] as FamilyMethod[]) {
    it(`${method}: significant ⇔ adjusted p < α ⇔ p < its interval level, ties and nulls included`, () => {
      fc.assert(
        fc.property(fc.array(pValue, { minLength: 1, maxLength: 12 }), fc.constantFrom(0.05, 0.1, 0.01), (ps, alpha) => {
          const { adjustedPValues, levels, significant } = familyLevels(ps, method, alpha)
          ps.forEach((p, i) => {
            if (p === null) {
              expect(levels[i]).toBeNull()
              expect(significant[i]).toBe(false)
              return
            }
            expect(significant[i]).toBe(adjustedPValues[i]! < alpha)
            expect(significant[i]).toBe(p < levels[i]!)
            expect(levels[i]!).toBeLessThanOrEqual(alpha)
          })
        }),
        { numRuns: 2000 },
      )
    })
  }

  it('gives Holm the step levels and BH the Benjamini–Yekutieli level R·α/m', () => {
    const holm = familyLevels([0.01, 0.04, 0.03], 'holm', 0.05)
    expect(holm.significant).toEqual([true, false, false])
    expect(holm.levels).toEqual([0.05 / 3, 0.05 / 2, 0.05 / 2])
    expect(holm.adjustedPValues).toEqual(adjustPValues([0.01, 0.04, 0.03], 'holm'))
    const bh = familyLevels([0.01, 0.03, 0.02, 0.2], 'bh', 0.05)
    // BH at q = 0.05, m = 4: sorted 0.01 < 0.0125, 0.02 < 0.025, 0.03 < 0.0375, 0.2 ≥ 0.05 → R = 3.
    expect(bh.significant).toEqual([true, true, true, false])
    expect(bh.levels.map((l) => +l!.toFixed(12))).toEqual([0.0375, 0.0375, 0.0375, 0.0375])
  })
})

describe('guardrailTest', () => {
  it('calls harm beyond the margin exactly when the interval lies beyond it, and safety when it lies short of it', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 1e-4, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.constantFrom('increase' as const, 'decrease' as const), fc.oneof(fc.constant(null), fc.integer({ min: 3, max: 5000 })), (estimate, se, margin, dir, df) => {
        const g = guardrailTest({ estimate, standardError: se, df }, margin, 0.05, dir)
        const [lo, hi] = g.ci
        const harmLo = dir === 'increase' ? lo : -hi
        const harmHi = dir === 'increase' ? hi : -lo
        const tol = 1e-9 * Math.max(1, Math.abs(margin))
        if (Math.abs(harmLo - margin) > tol) expect(g.status === 'harmed').toBe(harmLo > margin)
        if (Math.abs(harmHi - margin) > tol) expect(g.status === 'within_margin').toBe(harmHi < margin)
      }),
      { numRuns: 2000 },
    )
  })

  it('flags a rise in unsubscribes of 1 pp (SE 0.2 pp) against a 0.3 pp margin as harm', () => {
    expect(guardrailTest({ estimate: 0.01, standardError: 0.002, df: null }, 0.003, 0.05, 'increase').status).toBe('harmed')
    expect(guardrailTest({ estimate: -0.01, standardError: 0.002, df: null }, 0.003, 0.05, 'increase').status).toBe('within_margin')
    expect(guardrailTest({ estimate: 0.003, standardError: 0.002, df: null }, 0.003, 0.05, 'increase').status).toBe('unclear')
  })
})
