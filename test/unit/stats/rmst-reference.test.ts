/**
 * Restricted mean survival time and purchase probability by day against test/fixtures/stats/rmst.json, written by
 * rmst_reference.py from per-customer data with numpy (the published formulas), scipy.stats.ecdf for the curve
 * and its bands, and a finite-difference delta method for the RMST variance. Agreement to 1e-6 relative.
 */
import { describe, expect, it } from 'vitest'
import fixture from '../../fixtures/stats/rmst.json'
import { comparePurchaseProbability, compareRestrictedMeans, purchaseProbabilityBy, restrictedMeanSurvival } from '../../../stats/index.ts'
import { expectClose, expectIntervalClose } from './support/close.ts'

describe('restricted mean survival time against the numpy reference', () => {
  it.each(fixture.arms.map((c) => [c.name, c] as const))('%s', (_, c) => {
    for (const h of c.rmst) {
      const r = restrictedMeanSurvival(c.rows, h.tau, { alpha: c.alpha })
      expect(r.notEstimable).toBeUndefined()
      expect(r.tauUsed).toBe(h.tauUsed)
      expect(r.truncated).toBe(h.truncated)
      expectClose(r.estimate, h.estimate, 1e-6, 1e-12)
      expectClose(r.standardError, h.standardError, 1e-6, 1e-12)
      expectIntervalClose(r.ci, h.ci as [number, number])
    }
  })
})

describe('purchase probability by day against the numpy reference and scipy bands', () => {
  it.each(fixture.arms.map((c) => [c.name, c] as const))('%s', (_, c) => {
    for (const p of c.purchase) {
      const plain = purchaseProbabilityBy(c.rows, p.day, { alpha: c.alpha, transform: 'plain' })
      const logLog = purchaseProbabilityBy(c.rows, p.day, { alpha: c.alpha })
      expectClose(plain.estimate, p.estimate, 1e-6, 1e-12)
      expectClose(plain.standardError, p.standardError, 1e-6, 1e-12)
      expectIntervalClose(plain.ci, p.plain as [number, number])
      expectIntervalClose(logLog.ci, p.logLog as [number, number])
    }
    for (const day of c.purchaseUndefinedDays) {
      const r = purchaseProbabilityBy(c.rows, day)
      expect(r.estimate).toBeNull()
      expect(r.notEstimable?.code).toBe('insufficient_sample')
    }
  })
})

describe('two-arm comparisons against the numpy reference', () => {
  it.each(fixture.comparisons.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const rm = compareRestrictedMeans(c.a, c.b, c.tau, { alpha: c.alpha })
    const pp = comparePurchaseProbability(c.a, c.b, c.day, { alpha: c.alpha })
    for (const [mine, theirs] of [
      [rm, c.rmst],
      [pp, c.purchase],
    ] as const) {
      if (theirs === null) {
        expect(mine).toMatchObject({ estimate: null, ci: null, pValue: null, standardError: null, significant: false })
        expect(mine.notEstimable?.code).toBe('zero_variance')
        continue
      }
      expectClose(mine.estimate, theirs.estimate, 1e-6, 1e-12)
      expectClose(mine.standardError, theirs.standardError, 1e-6, 1e-12)
      expectIntervalClose(mine.ci, theirs.ci as [number, number])
      expectClose(mine.pValue, theirs.pValue, 1e-6, 1e-300)
      expect(mine.significant).toBe(theirs.pValue < c.alpha)
    }
    expect(rm.tauUsed).toBe(c.tauUsed)
  })
})
