/**
 * The public entry point and the Bayesian summaries shown beside the frequentist result.
 */
import { describe, expect, it } from 'vitest'
import * as stats from '../../../stats/index.ts'
import { chanceToWin, compareProportions, expectedLoss, normalCdf, normalPdf } from '../../../stats/index.ts'
import { expectClose } from './support/close.ts'

describe('stats/index.ts', () => {
  it('exports the documented functions', () => {
    const names = [
      'compareProportions',
      'compareMeans',
      'compareRatios',
      'compareCuped',
      'srmTest',
      'adjustPValues',
      'applyAdjustment',
      'winsorizeCap',
      'winsorize',
      'sampleSizePerArm',
      'minimumDetectableEffect',
      'kaplanMeier',
      'ratioMean',
      'meanOf',
      'chanceToWin',
      'expectedLoss',
    ]
    for (const name of names) expect(typeof (stats as Record<string, unknown>)[name], name).toBe('function')
  })

  it('labels comparisons with the metric and arm names it is given', () => {
    const c = compareProportions({ n: 500, sum: 50 }, { n: 500, sum: 60 }, { metric: 'converted', baseline: 'control', variant: 'offer-10' })
    expect(c).toMatchObject({ metric: 'converted', baseline: 'control', variant: 'offer-10', kind: 'relative', alpha: 0.05, baselineN: 500, variantN: 500 })
  })
})

describe('Bayesian view with a flat prior', () => {
  it('chance to win is Φ(estimate / SE), so 1 − p/2 for a positive fixed-horizon z', () => {
    const c = compareProportions({ n: 1e9, sum: 1e8 }, { n: 1e9, sum: 1.00002e8 })
    expect(c.method).toBe('normal')
    expectClose(c.chanceToWin, 1 - (c.pValue as number) / 2, 1e-12)
  })

  it('expected loss equals the truncated-normal integral computed numerically', () => {
    const mu = 0.013
    const sigma = 0.02
    let baseline = 0
    let variant = 0
    const step = sigma / 2000
    for (let x = mu - 12 * sigma; x <= mu + 12 * sigma; x += step) {
      const density = normalPdf((x - mu) / sigma) / sigma
      baseline += Math.max(0, x) * density * step
      variant += Math.max(0, -x) * density * step
    }
    const risk = expectedLoss(mu, sigma)
    expectClose(risk.baseline, baseline, 1e-6)
    expectClose(risk.variant, variant, 1e-6)
    expectClose(risk.baseline - risk.variant, mu, 1e-12)
    expectClose(chanceToWin(mu, sigma), normalCdf(mu / sigma), 1e-15)
  })
})
