/**
 * Degenerate inputs get an explicit reason and null numbers, never NaN or Infinity (which JSON cannot carry).
 */
import { describe, expect, it } from 'vitest'
import {
  adjustPValues,
  applyAdjustment,
  chanceToWin,
  compareCuped,
  compareMeans,
  compareProportions,
  compareRatios,
  expectedLoss,
  kaplanMeier,
  meanOf,
  minimumDetectableEffect,
  ratioMean,
  sampleSizePerArm,
  srmTest,
  winsorize,
  winsorizeCap,
  type CompareOptions,
  type Comparison,
} from '../../../stats/index.ts'
import { Random } from './support/random.ts'

/** Every number anywhere in the value is finite. */
function expectJsonSafe(value: unknown, path = 'result'): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true)
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => expectJsonSafe(v, `${path}[${i}]`))
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) expectJsonSafe(v, `${path}.${k}`)
  }
}

function expectNotEstimable(c: Comparison, code: string): void {
  expect(c.notEstimable?.code).toBe(code)
  expect(c.notEstimable?.message.length).toBeGreaterThan(10)
  expect(c.estimate).toBeNull()
  expect(c.ci).toBeNull()
  expect(c.pValue).toBeNull()
  expect(c.standardError).toBeNull()
  expect(c.chanceToWin).toBeNull()
  expect(c.risk).toBeNull()
  expect(c.significant).toBe(false)
  expectJsonSafe(c)
  expect(JSON.parse(JSON.stringify(c))).toEqual(c)
}

/** Sums accumulated one value at a time, with the rounding a real query would have. */
function constantArm(value: number, n: number) {
  let sum = 0
  let sumSquares = 0
  for (let i = 0; i < n; i++) {
    sum += value
    sumSquares += value * value
  }
  return { n, sum, sumSquares }
}

describe('zero conversions in the control', () => {
  it('makes the relative lift not estimable (zero_baseline) but keeps the means', () => {
    const c = compareProportions({ n: 1000, sum: 0 }, { n: 1000, sum: 7 })
    expectNotEstimable(c, 'zero_baseline')
    expect(c.baselineMean).toBe(0)
    expect(c.variantMean).toBe(0.007)
  })

  it('still allows the absolute difference', () => {
    const c = compareProportions({ n: 1000, sum: 0 }, { n: 1000, sum: 7 }, { kind: 'absolute' })
    expect(c.notEstimable).toBeUndefined()
    expect(c.estimate).toBeCloseTo(0.007, 12)
    expect(c.df).toBeCloseTo(999, 6)
    expectJsonSafe(c)
  })

  it('reports zero_variance when neither arm converted', () => {
    expectNotEstimable(compareProportions({ n: 1000, sum: 0 }, { n: 1000, sum: 0 }, { kind: 'absolute' }), 'zero_variance')
  })

  it('reports zero_variance for a relative lift when the variant has no conversions (delta-method SE is 0)', () => {
    expectNotEstimable(compareProportions({ n: 1000, sum: 20 }, { n: 1000, sum: 0 }), 'zero_variance')
  })
})

describe('all-equal values', () => {
  it.each([['relative'], ['absolute']] as const)('give zero_variance (%s), despite rounding in the sums', (kind) => {
    expectNotEstimable(compareMeans(constantArm(7.3, 1234), constantArm(7.3, 987), { kind }), 'zero_variance')
    expectNotEstimable(compareMeans(constantArm(0.1, 5000), constantArm(0.3, 5000), { kind }), 'zero_variance')
  })

  it('in one arm only still leave a testable difference', () => {
    const c = compareMeans(constantArm(5, 30), { n: 40, sum: 240, sumSquares: 1480 }, { kind: 'absolute' })
    expect(c.notEstimable).toBeUndefined()
    expect(c.df).toBeCloseTo(39, 9)
  })
})

describe('n = 1 and n = 0', () => {
  it('give insufficient_sample for every comparison', () => {
    expectNotEstimable(compareProportions({ n: 1, sum: 1 }, { n: 500, sum: 40 }), 'insufficient_sample')
    expectNotEstimable(compareMeans({ n: 1, sum: 3, sumSquares: 9 }, { n: 1, sum: 4, sumSquares: 16 }), 'insufficient_sample')
    const ratio = { n: 1, numSum: 30, numSumSquares: 900, denSum: 1, denSumSquares: 1, crossSum: 30 }
    expectNotEstimable(compareRatios(ratio, ratio), 'insufficient_sample')
    const cuped = compareCuped(
      { n: 1, post: { sum: 1, sumSquares: 1 }, pre: { sum: 1, sumSquares: 1 }, crossSum: 1 },
      { n: 0, post: { sum: 0, sumSquares: 0 }, pre: { sum: 0, sumSquares: 0 }, crossSum: 0 },
    )
    expectNotEstimable(cuped, 'insufficient_sample')
    expect(cuped.theta).toBeNull()
    expect(cuped.varianceReduction).toBeNull()
  })

  it('an empty arm has a null mean, not NaN', () => {
    const c = compareProportions({ n: 0, sum: 0 }, { n: 10, sum: 3 })
    expectNotEstimable(c, 'insufficient_sample')
    expect(c.baselineMean).toBeNull()
    expect(meanOf({ n: 0, sum: 0 })).toBeNull()
  })
})

describe('huge n (a billion per arm)', () => {
  it('stays finite and switches to the normal', () => {
    const p = compareProportions({ n: 1e9, sum: 1e8 }, { n: 1e9, sum: 1.0003e8 })
    expect(p.method).toBe('normal')
    expect(p.significant).toBe(true)
    expectJsonSafe(p)
    const m = compareMeans({ n: 1e9, sum: 5e10, sumSquares: 1e9 * 2900 }, { n: 1e9, sum: 5.00001e10, sumSquares: 1e9 * 2900.01 })
    expect(m.notEstimable).toBeUndefined()
    expectJsonSafe(m)
    const seq = compareProportions({ n: 1e9, sum: 1e8 }, { n: 1e9, sum: 1.0003e8 }, { sequential: {} })
    expect(seq.method).toBe('sequential')
    expectJsonSafe(seq)
  })
})

describe('tiny α (1e-10)', () => {
  it('widens the interval to t_{1 − 5e-11} and keeps p-value and interval consistent', () => {
    const a = { n: 200, sum: 20 }
    const b = { n: 200, sum: 45 }
    const c = compareProportions(a, b, { kind: 'absolute', alpha: 1e-10 })
    const usual = compareProportions(a, b, { kind: 'absolute' })
    expectJsonSafe(c)
    expect(usual.significant).toBe(true)
    expect(c.significant).toBe(false)
    expect((c.ci as number[])[0]).toBeLessThan(0)
    expect(((c.ci as number[])[1] - (c.estimate as number)) / (c.standardError as number)).toBeGreaterThan(6.4)
    const strong = compareProportions({ n: 100_000, sum: 1000 }, { n: 100_000, sum: 1600 }, { alpha: 1e-10, sequential: {} })
    expect(strong.significant).toBe(true)
    expect(strong.pValue).toBeLessThan(1e-10)
  })
})

describe('invalid input is a reason, not an exception', () => {
  const cases: [string, () => Comparison][] = [
    ['more conversions than customers', () => compareProportions({ n: 10, sum: 11 }, { n: 10, sum: 1 })],
    ['negative n', () => compareMeans({ n: -5, sum: 1, sumSquares: 1 }, { n: 10, sum: 1, sumSquares: 1 })],
    ['fractional n', () => compareProportions({ n: 10.5, sum: 1 }, { n: 10, sum: 1 })],
    ['NaN sum', () => compareMeans({ n: 5, sum: Number.NaN, sumSquares: 1 }, { n: 10, sum: 1, sumSquares: 1 })],
    ['α = 0', () => compareProportions({ n: 100, sum: 10 }, { n: 100, sum: 12 }, { alpha: 0 })],
    ['α = 1.5', () => compareProportions({ n: 100, sum: 10 }, { n: 100, sum: 12 }, { alpha: 1.5 })],
    ['negative tuning', () => compareProportions({ n: 100, sum: 10 }, { n: 100, sum: 12 }, { sequential: { tuning: -1 } })],
  ]
  it.each(cases)('%s', (_, run) => expectNotEstimable(run(), 'invalid_input'))
})

describe('ratio and CUPED degenerate cases', () => {
  it('a ratio whose denominator sums to 0 is zero_denominator', () => {
    const empty = { n: 50, numSum: 0, numSumSquares: 0, denSum: 0, denSumSquares: 0, crossSum: 0 }
    const some = { n: 50, numSum: 300, numSumSquares: 9000, denSum: 10, denSumSquares: 10, crossSum: 300 }
    expectNotEstimable(compareRatios(empty, some), 'zero_denominator')
    expect(ratioMean(empty)).toBeNull()
  })

  it('CUPED with a constant covariate falls back to θ = 0, the plain comparison', () => {
    const arm = (post: number[]) => ({
      n: post.length,
      post: { sum: post.reduce((s, x) => s + x, 0), sumSquares: post.reduce((s, x) => s + x * x, 0) },
      pre: { sum: 2 * post.length, sumSquares: 4 * post.length },
      crossSum: 2 * post.reduce((s, x) => s + x, 0),
    })
    const a = [1, 4, 2, 8, 5, 7]
    const b = [3, 9, 4, 6, 8, 10, 2]
    const c = compareCuped(arm(a), arm(b), { kind: 'absolute' })
    expect(c.theta).toBe(0)
    expect(c.varianceReduction).toBeCloseTo(0, 12)
    const plain = compareMeans(
      { n: a.length, sum: 27, sumSquares: a.reduce((s, x) => s + x * x, 0) },
      { n: b.length, sum: 42, sumSquares: b.reduce((s, x) => s + x * x, 0) },
      { kind: 'absolute' },
    )
    expect(c.ci?.[0]).toBeCloseTo(plain.ci?.[0] as number, 12)
  })
})

describe('the other helpers at their edges', () => {
  it('SRM: customers in a zero-weight arm are a mismatch; no traffic is not', () => {
    expect(srmTest([100, 100, 5], [1, 1, 0])).toEqual({ chiSquare: null, df: 1, pValue: 0, mismatch: true })
    expect(srmTest([0, 0], [1, 1])).toEqual({ chiSquare: 0, df: 1, pValue: 1, mismatch: false })
    expect(() => srmTest([1, 2], [1])).toThrow(RangeError)
  })

  it('multiple comparisons: empty lists, all nulls, and comparisons without p-values', () => {
    expect(adjustPValues([], 'holm')).toEqual([])
    expect(adjustPValues([null, null], 'bh')).toEqual([null, null])
    const notEstimable = compareProportions({ n: 10, sum: 0 }, { n: 10, sum: 1 })
    const fine = compareProportions({ n: 1000, sum: 100 }, { n: 1000, sum: 150 })
    const [a, b] = applyAdjustment([notEstimable, fine], 'holm')
    expect(a.adjustedPValue).toBeNull()
    expect(a.significant).toBe(false)
    expect(b.adjustedPValue).toBe(fine.pValue)
    expect(b.adjustment).toBe('holm')
  })

  it('Kaplan–Meier: no rows, everyone censored, malformed rows', () => {
    expect(kaplanMeier([]).median).toBeNull()
    const censored = kaplanMeier([{ time: 30, events: 0, censored: 50 }])
    expect(censored.points[0].survival).toBe(1)
    expect(censored.median).toBeNull()
    expect(censored.medianCi).toEqual([null, null])
    expectJsonSafe(censored)
    const everyone = kaplanMeier([{ time: 1, events: 5, censored: 0 }])
    expect(everyone.points[0]).toMatchObject({ survival: 0, standardError: null, lower: 0, upper: 0 })
    expect(everyone.median).toBe(1)
    expect(kaplanMeier([{ time: -1, events: 1, censored: 0 }]).notEstimable?.code).toBe('invalid_input')
    expect(kaplanMeier([{ time: 1, events: 0.5, censored: 0 }]).notEstimable?.code).toBe('invalid_input')
  })

  it('planning: impossible rates and bad settings are reasons', () => {
    expect(
      sampleSizePerArm({ kind: 'proportion', baselineRate: 0 }, { mde: 0.1, mdeKind: 'relative', alpha: 0.05, power: 0.8, arms: 2 }).notEstimable?.code,
    ).toBe('invalid_input')
    expect(sampleSizePerArm({ kind: 'proportion', baselineRate: 0.6 }, { mde: 0.8, mdeKind: 'relative', alpha: 0.05, power: 0.8, arms: 2 }).perArm).toBeNull()
    expect(sampleSizePerArm({ kind: 'mean', mean: 10, sd: 2 }, { mde: 0.1, mdeKind: 'relative', alpha: 0.05, power: 0.8, arms: 1 }).notEstimable).toBeDefined()
    expect(minimumDetectableEffect({ kind: 'proportion', baselineRate: 0.5 }, { perArm: 2, mdeKind: 'absolute', alpha: 1e-10, power: 0.99 }).mde).toBeNull()
  })

  it('winsorization: empty input, bad percentile', () => {
    expect(winsorizeCap([], 0.99)).toBeNull()
    expect(() => winsorizeCap([1, 2], 99)).toThrow(RangeError)
    expect(winsorize([1, 500, 3], 100)).toEqual([1, 100, 3])
  })

  it('chance to win and expected loss with a zero standard error', () => {
    expect(chanceToWin(0.1, 0)).toBe(1)
    expect(expectedLoss(0.1, 0)).toEqual({ baseline: 0.1, variant: 0 })
  })
})

describe('no input whatsoever produces NaN or Infinity', () => {
  it('2,000 random (often absurd) inputs through every comparison and option', () => {
    const rng = new Random(606)
    const pick = <T>(xs: T[]): T => xs[Math.floor(rng.uniform() * xs.length)]
    const num = () => pick([0, 1, 2, -1, 0.5, 1e-300, 1e300, 1e9, 3, 17, 1e-12, Number.NaN, Number.POSITIVE_INFINITY, rng.uniform() * 1000])
    const count = () => pick([0, 1, 2, 3, 10, 1000, 1e9, -1, 2.5, rng.binomial(100, 0.5)])
    const options = (): CompareOptions => ({
      kind: pick(['absolute', 'relative'] as const),
      alpha: pick([0.05, 1e-10, 0.5, 0.999]),
      sequential: pick([false, {}, { tuning: 10 }]),
    })
    for (let i = 0; i < 2000; i++) {
      const opts = options()
      expectJsonSafe(compareProportions({ n: count(), sum: count() }, { n: count(), sum: count() }, opts))
      expectJsonSafe(compareMeans({ n: count(), sum: num(), sumSquares: num() }, { n: count(), sum: num(), sumSquares: num() }, opts))
      const ratio = () => ({ n: count(), numSum: num(), numSumSquares: num(), denSum: num(), denSumSquares: num(), crossSum: num() })
      expectJsonSafe(compareRatios(ratio(), ratio(), opts))
      const cuped = () => ({ n: count(), post: { sum: num(), sumSquares: num() }, pre: { sum: num(), sumSquares: num() }, crossSum: num() })
      expectJsonSafe(compareCuped(cuped(), cuped(), opts))
    }
  })
})
