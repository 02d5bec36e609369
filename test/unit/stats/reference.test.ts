/**
 * Agreement with an independent reference: scipy 1.17 (test/fixtures/stats/generate.py writes the fixtures;
 * rerun it with `python3 test/fixtures/stats/generate.py`). Everything must match to 1e-6 relative. Relative lifts:
 * (μB − μA)/|μA| with the absolute test's p-value and the Fieller interval (solved in 60-digit arithmetic there).
 */
import { describe, expect, it } from 'vitest'
import distributions from '../../fixtures/stats/distributions.json'
import multiple from '../../fixtures/stats/multiple.json'
import proportions from '../../fixtures/stats/proportions.json'
import srm from '../../fixtures/stats/srm.json'
import survival from '../../fixtures/stats/survival.json'
import welch from '../../fixtures/stats/welch.json'
import winsorizeFixtures from '../../fixtures/stats/winsorize.json'
import {
  adjustPValues,
  chiSquareSf,
  compareMeans,
  compareProportions,
  kaplanMeier,
  normalSf,
  normalUpperQuantile,
  srmTest,
  studentTSf,
  studentTUpperQuantile,
  winsorizeCap,
  type Comparison,
} from '../../../stats/index.ts'
import { expectClose, expectIntervalClose } from './support/close.ts'

interface Expected {
  estimate: number
  standardError: number
  ci: number[] | null
  ciUnbounded?: boolean
  pValue: number
  df?: number
}

function expectComparison(actual: Comparison, expected: Expected | null): void {
  if (expected === null) {
    expect(actual.notEstimable).toBeDefined()
    return
  }
  expect(actual.notEstimable).toBeUndefined()
  expectClose(actual.estimate, expected.estimate, 1e-6, expected.standardError)
  expectClose(actual.standardError, expected.standardError)
  if (expected.ci === null) {
    expect(actual.ci).toBeNull()
    expect(actual.ciUnbounded).toBe(true)
  } else {
    expect(actual.ciUnbounded).toBeUndefined()
    expectIntervalClose(actual.ci, expected.ci as [number, number])
  }
  expectClose(actual.pValue, expected.pValue)
  if (expected.df !== undefined) expectClose(actual.df, expected.df)
}

describe('Welch t against scipy.stats.ttest_ind(equal_var=False) on the raw rows', () => {
  it.each(welch.cases.map((c) => [`${c.name}, α = ${c.alpha}`, c] as const))('%s', (_, c) => {
    expectComparison(compareMeans(c.baseline, c.variant, { kind: 'absolute', alpha: c.alpha }), c.absolute)
    expectComparison(compareMeans(c.baseline, c.variant, { kind: 'relative', alpha: c.alpha }), c.relative)
  })
})

describe('two-proportion tests against scipy.stats.ttest_ind_from_stats with variance p(1 − p)', () => {
  it.each(proportions.cases.map((c) => [`${c.name}, α = ${c.alpha}`, c] as const))('%s', (_, c) => {
    expectComparison(compareProportions(c.baseline, c.variant, { kind: 'absolute', alpha: c.alpha }), c.absolute)
    expectComparison(compareProportions(c.baseline, c.variant, { kind: 'relative', alpha: c.alpha }), c.relative)
  })
})

describe('distributions against scipy.stats at extreme α', () => {
  it('t quantiles t_{1−α/2, ν} for α down to 1e-15 and ν from 1 to 1e8', () => {
    for (const q of distributions.tQuantiles) expectClose(studentTUpperQuantile(q.alpha / 2, q.df), q.value)
  })
  it('normal quantiles z_{1−α/2} for α down to 1e-50', () => {
    for (const q of distributions.normalQuantiles) expectClose(normalUpperQuantile(q.alpha / 2), q.value)
  })
  it('t upper tails, including p-values far below 1e-20', () => {
    for (const q of distributions.tTails) expectClose(studentTSf(q.t, q.df), q.value)
  })
  it('normal upper tails out to z = 35', () => {
    for (const q of distributions.normalTails) expectClose(normalSf(q.z), q.value)
  })
  it('chi-square upper tails', () => {
    for (const q of distributions.chiSquareTails) expectClose(chiSquareSf(q.x, q.df), q.value)
  })
})

describe('sample ratio mismatch against scipy.stats.chisquare', () => {
  it.each(srm.cases.map((c) => [c.observed.join(' / '), c] as const))('%s', (_, c) => {
    const result = srmTest(c.observed, c.weights)
    expectClose(result.chiSquare, c.chiSquare, 1e-6, 1e-12)
    expect(result.df).toBe(c.df)
    expectClose(result.pValue, c.pValue)
    expect(result.mismatch).toBe(c.mismatch)
  })
})

describe('multiple-comparison adjustment', () => {
  it.each(multiple.cases.map((c, i) => [i, c] as const))('case %i: Holm (written out) and BH (scipy.stats.false_discovery_control)', (_, c) => {
    const holm = adjustPValues(c.pValues, 'holm')
    const bh = adjustPValues(c.pValues, 'bh')
    c.pValues.forEach((p, i) => {
      if (p === null) {
        expect(holm[i]).toBeNull()
        expect(bh[i]).toBeNull()
      } else {
        expectClose(holm[i], c.holm[i] as number)
        expectClose(bh[i], c.bh[i] as number)
      }
    })
  })
})

describe('Kaplan–Meier against scipy.stats.ecdf (Greenwood bands)', () => {
  it.each(survival.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    for (const [transform, band] of Object.entries(c.bands) as ['plain' | 'log-log', (typeof c.bands)['plain']][]) {
      const km = kaplanMeier(c.rows, { alpha: c.alpha, transform })
      expect(km.points.map((p) => p.time)).toEqual(c.times)
      km.points.forEach((p, i) => {
        expectClose(p.survival, c.survival[i], 1e-9, 1e-12)
        expectClose(p.lower, band.lower[i], 1e-6, 1e-12)
        expectClose(p.upper, band.upper[i], 1e-6, 1e-12)
      })
      expect(km.median).toBe(band.median)
      expect(km.medianCi).toEqual(band.medianCi)
    }
  })
})

describe('winsorization cap against numpy.percentile (linear interpolation)', () => {
  it.each(winsorizeFixtures.cases.map((c) => [c.percentile, c] as const))('percentile %s', (_, c) => {
    expectClose(winsorizeCap(c.values, c.percentile), c.cap, 1e-12)
  })
})
