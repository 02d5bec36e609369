/**
 * Published worked examples, and brute-force recomputations over raw rows for the formulas that only ever
 * see sums in production (delta method, ratio metrics, CUPED).
 */
import { describe, expect, it } from 'vitest'
import {
  compareCuped,
  compareMeans,
  compareProportions,
  compareRatios,
  kaplanMeier,
  type CompareOptions,
  type CupedStats,
  type RatioStats,
} from '../../../stats/index.ts'
import { expectClose, expectIntervalClose } from './support/close.ts'
import { Random } from './support/random.ts'

/** Values printed with d decimals agree with ours rounded the same way (half a unit in the last place). */
function expectRounded(actual: number | null | undefined, printed: number, decimals: number): void {
  expect(actual).toBeTypeOf('number')
  expect(Math.abs((actual as number) - printed)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12)
}

function meanAndVariance(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)
  return { mean, variance }
}

describe("GrowthBook gbstats' own test cases (packages/stats/tests/frequentist/test_tests.py), printed to 5 decimals", () => {
  const a = { n: 3407, sum: 1396.87, sumSquares: 52377.9767 }
  const b = { n: 3461, sum: 2422.7, sumSquares: 134698.29 }

  it('relative lift: gbstats estimate 0.70732 and delta-method SE 0.37879; the p-value of the absolute test 0.02016 with its Fieller interval [0.09406, 1.70869]', () => {
    const c = compareMeans(a, b)
    expectRounded(c.estimate, 0.70732, 5)
    expectRounded(c.standardError, 0.37879, 5)
    // gbstats prints the delta-method interval [-0.03526, 1.44989] with p = 0.06191, which disagrees with its own
    // absolute test (p = 0.02016); the Fieller interval (Fieller 1954, solved with mpmath) agrees with it.
    expectRounded(c.ci?.[0], 0.09406, 5)
    expectRounded(c.ci?.[1], 1.70869, 5)
    expectRounded(c.pValue, 0.02016, 5)
    expect(c.significant).toBe(true)
  })

  it('absolute difference: 0.29 ± 0.12478, CI [0.04538, 0.53462], p = 0.02016', () => {
    const c = compareMeans(a, b, { kind: 'absolute' })
    expectRounded(c.estimate, 0.29, 5)
    expectRounded(c.standardError, 0.12478, 5)
    expectRounded(c.ci?.[0], 0.04538, 5)
    expectRounded(c.ci?.[1], 0.53462, 5)
    expectRounded(c.pValue, 0.02016, 5)
  })

  it('proportions 14/28 vs 16/30: 0.06667 ± 0.2717 (delta method); absolute p = 0.80045, Fieller interval [-0.36945, 0.85978]', () => {
    const c = compareProportions({ n: 28, sum: 14 }, { n: 30, sum: 16 })
    expectRounded(c.estimate, 0.06667, 5)
    expectRounded(c.standardError, 0.2717, 5)
    expectRounded(c.ci?.[0], -0.36945, 5)
    expectRounded(c.ci?.[1], 0.85978, 5)
    expectRounded(c.pValue, 0.80045, 5)
  })

  it('sequential, tuning 1000: gbstats estimate and SE; Fieller interval with c = 3.18465 [-0.30300, 2.41591], p = 1', () => {
    const c = compareMeans({ ...a, n: 3000 }, b, { sequential: { tuning: 1000 } })
    expectRounded(c.estimate, 0.50336, 5)
    expectRounded(c.standardError, 0.33341, 5)
    expectRounded(c.ci?.[0], -0.303, 5)
    expectRounded(c.ci?.[1], 2.41591, 5)
    expect(c.pValue).toBe(1)
  })

  it('sequential proportions 1396/3000 vs 2422/3461, default tuning 5000: Fieller interval [0.40599, 0.61241], p ≈ 0', () => {
    const c = compareProportions({ n: 3000, sum: 1396 }, { n: 3461, sum: 2422 }, { sequential: {} })
    expectRounded(c.estimate, 0.50386, 5)
    expectRounded(c.standardError, 0.03386, 5)
    expectRounded(c.ci?.[0], 0.40599, 5)
    expectRounded(c.ci?.[1], 0.61241, 5)
    expectRounded(c.pValue, 0, 5)
    expect(c.significant).toBe(true)
  })
})

describe('Kaplan–Meier on the Freireich et al. (1963) leukaemia trial (Gehan 1965)', () => {
  const rows = (events: number[], censored: number[]) => [
    ...events.map((time) => ({ time, events: 1, censored: 0 })),
    ...censored.map((time) => ({ time, events: 0, censored: 1 })),
  ]
  const sixMp = rows([6, 6, 6, 7, 10, 13, 16, 22, 23], [6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35])
  const placebo = rows([1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23], [])

  // Kleinbaum & Klein, Survival Analysis: A Self-Learning Text (3rd ed., 2012), ch. 2; R `summary(survfit(...))`
  // on MASS::gehan (log band): time, at risk, Ŝ, Greenwood SE, 95% band.
  const published = [
    [6, 21, 0.8571, 0.0764, 0.72, 1.0],
    [7, 17, 0.8067, 0.0869, 0.653, 0.996],
    [10, 15, 0.7529, 0.0963, 0.586, 0.968],
    [13, 12, 0.6902, 0.1068, 0.51, 0.935],
    [16, 11, 0.6275, 0.1141, 0.439, 0.896],
    [22, 7, 0.5378, 0.1282, 0.337, 0.858],
    [23, 6, 0.4482, 0.1346, 0.249, 0.807],
  ]

  it('reproduces the 6-MP survival estimates, Greenwood standard errors and log-scale band', () => {
    const km = kaplanMeier(sixMp, { transform: 'log' })
    const atEvents = km.points.filter((p) => p.events > 0)
    expect(atEvents).toHaveLength(published.length)
    atEvents.forEach((p, i) => {
      const [time, atRisk, survival, se, lower, upper] = published[i]
      expect(p.time).toBe(time)
      expect(p.atRisk).toBe(atRisk)
      expectRounded(p.survival, survival, 4)
      expectRounded(p.standardError, se, 4)
      expectRounded(p.lower, lower, 3)
      expectRounded(p.upper, upper, 3)
    })
  })

  it('gives median 23 weeks [16, not reached] for 6-MP and 8 weeks [4, 12] for placebo, as R prints for MASS::gehan', () => {
    const mp = kaplanMeier(sixMp, { transform: 'log' })
    expect(mp.median).toBe(23)
    expect(mp.medianCi).toEqual([16, null])
    const control = kaplanMeier(placebo, { transform: 'log' })
    expect(control.median).toBe(8)
    expect(control.medianCi).toEqual([4, 12])
    expect(control.n).toBe(21)
    expect(control.events).toBe(21)
  })
})

describe('delta method recomputed by brute force over raw rows', () => {
  const rng = new Random(77)
  const rowsA = Array.from({ length: 3000 }, () => (rng.uniform() < 0.25 ? Math.exp(3 + rng.normal()) : 0))
  const rowsB = Array.from({ length: 3200 }, () => (rng.uniform() < 0.27 ? Math.exp(3 + rng.normal()) : 0))
  const sums = (xs: number[]) => ({ n: xs.length, sum: xs.reduce((s, x) => s + x, 0), sumSquares: xs.reduce((s, x) => s + x * x, 0) })

  it('relative lift: the variance of the linearised (influence) values equals the closed form', () => {
    const a = meanAndVariance(rowsA)
    const b = meanAndVariance(rowsB)
    // Influence of one customer on μB/μA − 1: (y − μB)/μA in B, −μB(y − μA)/μA² in A.
    const infB = meanAndVariance(rowsB.map((y) => (y - b.mean) / a.mean))
    const infA = meanAndVariance(rowsA.map((y) => (-b.mean * (y - a.mean)) / a.mean ** 2))
    const se = Math.sqrt(infB.variance / rowsB.length + infA.variance / rowsA.length)
    const c = compareMeans(sums(rowsA), sums(rowsB))
    expectClose(c.estimate, b.mean / a.mean - 1, 1e-9)
    expectClose(c.standardError, se, 1e-9)
  })

  it('relative lift: the bootstrap standard error agrees within 10%', () => {
    const boot = new Random(78)
    const resampleMean = (xs: number[]) => {
      let s = 0
      for (let i = 0; i < xs.length; i++) s += xs[Math.floor(boot.uniform() * xs.length)]
      return s / xs.length
    }
    const lifts = Array.from({ length: 2000 }, () => resampleMean(rowsB) / resampleMean(rowsA) - 1)
    const c = compareMeans(sums(rowsA), sums(rowsB))
    expectClose(c.standardError, Math.sqrt(meanAndVariance(lifts).variance), 0.1)
  })

  it('ratio metric (revenue per order): linearisation over customers and the bootstrap', () => {
    const customers = (n: number, spend: number) =>
      Array.from({ length: n }, () => {
        const orders = rng.binomial(6, 0.3)
        let revenue = 0
        for (let k = 0; k < orders; k++) revenue += spend * Math.exp(2.5 + 0.8 * rng.normal())
        return { num: revenue, den: orders }
      })
    const armA = customers(2500, 1)
    const armB = customers(2500, 1.04)
    const stats = (rows: { num: number; den: number }[]): RatioStats => ({
      n: rows.length,
      numSum: rows.reduce((s, r) => s + r.num, 0),
      numSumSquares: rows.reduce((s, r) => s + r.num * r.num, 0),
      denSum: rows.reduce((s, r) => s + r.den, 0),
      denSumSquares: rows.reduce((s, r) => s + r.den * r.den, 0),
      crossSum: rows.reduce((s, r) => s + r.num * r.den, 0),
    })
    // Linearisation of R = ΣN/ΣD per customer: (Nᵢ − R·Dᵢ)/μD; Var(R̂) = s²/n (Deng, Knoblich, Lu 2018, §3).
    const linearised = (rows: { num: number; den: number }[]) => {
      const ratio = rows.reduce((s, r) => s + r.num, 0) / rows.reduce((s, r) => s + r.den, 0)
      const muD = rows.reduce((s, r) => s + r.den, 0) / rows.length
      return { ratio, variance: meanAndVariance(rows.map((r) => (r.num - ratio * r.den) / muD)).variance / rows.length }
    }
    const la = linearised(armA)
    const lb = linearised(armB)
    const absolute = compareRatios(stats(armA), stats(armB), { kind: 'absolute' })
    expectClose(absolute.estimate, lb.ratio - la.ratio, 1e-9)
    expectClose(absolute.standardError, Math.sqrt(la.variance + lb.variance), 1e-9)
    expectClose(absolute.baselineMean, la.ratio, 1e-12)

    const boot = new Random(79)
    const resampleRatio = (rows: { num: number; den: number }[]) => {
      let num = 0
      let den = 0
      for (let i = 0; i < rows.length; i++) {
        const r = rows[Math.floor(boot.uniform() * rows.length)]
        num += r.num
        den += r.den
      }
      return num / den
    }
    const diffs = Array.from({ length: 2000 }, () => resampleRatio(armB) - resampleRatio(armA))
    expectClose(absolute.standardError, Math.sqrt(meanAndVariance(diffs).variance), 0.1)
  })
})

describe('CUPED recomputed by brute force over raw rows (Deng, Xu, Kohavi, Walker 2013)', () => {
  const rng = new Random(88)
  const makeRows = (n: number, lift: number) =>
    Array.from({ length: n }, () => {
      const pre = rng.uniform() < 0.4 ? Math.exp(3 + rng.normal()) : 0
      const post = 0.6 * pre + (rng.uniform() < 0.4 ? Math.exp(3 + rng.normal()) : 0) * lift
      return { pre, post }
    })
  const rowsA = makeRows(4000, 1)
  const rowsB = makeRows(4100, 1.1)
  const toStats = (rows: { pre: number; post: number }[]): CupedStats => ({
    n: rows.length,
    post: { sum: rows.reduce((s, r) => s + r.post, 0), sumSquares: rows.reduce((s, r) => s + r.post ** 2, 0) },
    pre: { sum: rows.reduce((s, r) => s + r.pre, 0), sumSquares: rows.reduce((s, r) => s + r.pre ** 2, 0) },
    crossSum: rows.reduce((s, r) => s + r.post * r.pre, 0),
  })

  it('matches θ from the pooled rows and a Welch test on the adjusted rows yᵢ − θ(xᵢ − x̄)', () => {
    const all = [...rowsA, ...rowsB]
    const pre = meanAndVariance(all.map((r) => r.pre))
    const post = meanAndVariance(all.map((r) => r.post))
    const cov = all.reduce((s, r) => s + (r.post - post.mean) * (r.pre - pre.mean), 0) / (all.length - 1)
    const theta = cov / pre.variance
    const adjust = (rows: typeof rowsA) => meanAndVariance(rows.map((r) => r.post - theta * (r.pre - pre.mean)))
    const a = adjust(rowsA)
    const b = adjust(rowsB)
    const se = Math.sqrt(a.variance / rowsA.length + b.variance / rowsB.length)
    const va = a.variance / rowsA.length
    const vb = b.variance / rowsB.length
    const df = (va + vb) ** 2 / (va ** 2 / (rowsA.length - 1) + vb ** 2 / (rowsB.length - 1))
    const unadjusted = meanAndVariance(rowsA.map((r) => r.post)).variance / rowsA.length + meanAndVariance(rowsB.map((r) => r.post)).variance / rowsB.length

    const c = compareCuped(toStats(rowsA), toStats(rowsB), { kind: 'absolute' })
    expectClose(c.theta, theta, 1e-9)
    expectClose(c.estimate, b.mean - a.mean, 1e-9)
    expectClose(c.standardError, se, 1e-9)
    expectClose(c.df, df, 1e-9)
    expectClose(c.varianceReduction, 1 - se ** 2 / unadjusted, 1e-9)
    expectClose(c.baselineMean, a.mean, 1e-12)

    const relative = compareCuped(toStats(rowsA), toStats(rowsB))
    expectClose(relative.estimate, b.mean / a.mean - 1, 1e-9)
    const relativeSe = Math.sqrt(b.variance / (rowsB.length * a.mean ** 2) + (b.mean ** 2 * a.variance) / (rowsA.length * a.mean ** 4))
    expectClose(relative.standardError, relativeSe, 1e-9)
  })

  it('removes a share ρ² of the variance, as Deng et al. derive (ρ = 0.7, 50,000 customers per arm)', () => {
    const big = new Random(89)
    const arm = (n: number): CupedStats => {
      const s: CupedStats = { n, post: { sum: 0, sumSquares: 0 }, pre: { sum: 0, sumSquares: 0 }, crossSum: 0 }
      for (let i = 0; i < n; i++) {
        const z = big.normal()
        const x = 10 + 3 * z
        const y = 20 + 3 * (0.7 * z + Math.sqrt(1 - 0.49) * big.normal())
        s.pre.sum += x
        s.pre.sumSquares += x * x
        s.post.sum += y
        s.post.sumSquares += y * y
        s.crossSum += x * y
      }
      return s
    }
    const c = compareCuped(arm(50_000), arm(50_000), { kind: 'absolute' })
    expect(Math.abs((c.varianceReduction as number) - 0.49)).toBeLessThan(0.01)
    expect(Math.abs((c.theta as number) - 0.7)).toBeLessThan(0.01)
  })
})

describe('interval and p-value are two views of one test', () => {
  it('significant (p < α) exactly when the interval excludes 0, fixed-horizon and sequential, α from 0.2 to 1e-10', () => {
    const rng = new Random(90)
    let significantSeen = 0
    for (let i = 0; i < 3000; i++) {
      const n = 20 + Math.floor(rng.uniform() * 20_000)
      const a = { n, sum: rng.binomial(n, 0.1) }
      const b = { n, sum: rng.binomial(n, 0.1 * (1 + 0.3 * rng.uniform())) }
      const alpha = [0.2, 0.05, 0.01, 1e-4, 1e-10][i % 5]
      const modes: CompareOptions['sequential'][] = [false, { tuning: 1000 + 9000 * rng.uniform() }]
      for (const sequential of modes) {
        const c = compareProportions(a, b, { alpha, sequential, kind: i % 2 ? 'absolute' : 'relative' })
        if (!c.ci) continue
        const excludesZero = c.ci[0] > 0 || c.ci[1] < 0
        expect(c.significant, JSON.stringify({ a, b, alpha, sequential, ci: c.ci, p: c.pValue })).toBe(excludesZero)
        if (c.significant) significantSeen++
      }
    }
    expect(significantSeen).toBeGreaterThan(500)
  })

  it('a fixed-horizon interval at the p-value as α has 0 exactly on its edge', () => {
    const a = { n: 500, sum: 10_200, sumSquares: 230_000 }
    const b = { n: 480, sum: 10_300, sumSquares: 240_000 }
    const p = compareMeans(a, b, { kind: 'absolute' }).pValue as number
    const atP = compareMeans(a, b, { alpha: p, kind: 'absolute' })
    expectIntervalClose(atP.ci, [0, 2 * (atP.estimate as number)], 1e-8)
  })

  it('so does the Fieller interval of the relative lift (the same test decides both kinds)', () => {
    const a = { n: 500, sum: 10_200, sumSquares: 230_000 }
    const b = { n: 480, sum: 10_300, sumSquares: 240_000 }
    const p = compareMeans(a, b).pValue as number
    expect(p).toBe(compareMeans(a, b, { kind: 'absolute' }).pValue)
    const atP = compareMeans(a, b, { alpha: p })
    expect(Math.abs((atP.ci as [number, number])[0])).toBeLessThan(1e-9)
  })
})
