/**
 * Test families by seeded simulation (issue 15 items 1–2), 1,000 reports each. The Monte Carlo standard error
 * of a rate near 0.05 over 1,000 runs is √(0.05·0.95/1000) = 0.0069; bounds are α (or q) + 3 SE.
 * - Decision family, A/A with 4 arms (3 variants vs one shared control, so the comparisons are positively
 *   correlated): Holm keeps the family-wise error rate ≤ α, where unadjusted tests do not.
 * - Decision family with planted effects: every Holm-level interval covers its planted lift ≥ 1 − α of the time,
 *   and all three at once ≥ 1 − α.
 * - Ten secondary metrics, five null and five with effects: BH keeps the false discovery rate ≤ q, and the
 *   Benjamini–Yekutieli intervals of the selected metrics miss their planted lift in ≤ α of selections (FCR).
 * Conversions are drawn as exact binomials; the comparisons are the report's default (relative lift, Fieller
 * interval at the family's level, absolute Welch p-value).
 */
import { describe, expect, it } from 'vitest'
import { compareProportions, familyLevels, type Comparison, type ProportionStats } from '../../../stats/index.ts'
import { Random } from './support/random.ts'
import { note } from './support/simulation.ts'

const ALPHA = 0.05
const RUNS = 1000
const MC = 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / RUNS)

function covers(c: Comparison, truth: number): boolean {
  if (c.ci === null) return c.ciUnbounded === true
  return c.ci[0] <= truth && truth <= c.ci[1]
}

/** One report of one family: each variant (rate·(1 + lift)) against its control, adjusted with `method`. */
function family(rng: Random, n: number, controls: ProportionStats[] | ProportionStats, rates: number[], lifts: number[], method: 'holm' | 'bh') {
  const control = (i: number) => (Array.isArray(controls) ? controls[i] : controls)
  const variants = rates.map((rate, i) => ({ n, sum: rng.binomial(n, rate * (1 + lifts[i])) }))
  const raw = variants.map((b, i) => compareProportions(control(i), b))
  const { levels, significant } = familyLevels(
    raw.map((c) => c.pValue),
    method,
    ALPHA,
  )
  const shown = variants.map((b, i) => compareProportions(control(i), b, { alpha: levels[i] ?? ALPHA }))
  shown.forEach((c, i) => {
    // The displayed interval agrees with the family's verdict.
    if (c.ci) expect(c.ci[0] > 0 || c.ci[1] < 0).toBe(significant[i])
  })
  return { raw, shown, significant }
}

describe('decision family (3 variants vs a shared control, Holm), 1,000 reports', () => {
  it('A/A at 10%, 3,000 per arm: family-wise false-positive rate ≤ α + 3 SE', () => {
    const rng = new Random(1979)
    let holmErrors = 0
    let rawErrors = 0
    for (let r = 0; r < RUNS; r++) {
      const control = { n: 3000, sum: rng.binomial(3000, 0.1) }
      const { raw, significant } = family(rng, 3000, control, [0.1, 0.1, 0.1], [0, 0, 0], 'holm')
      if (significant.some(Boolean)) holmErrors++
      if (raw.some((c) => c.significant)) rawErrors++
    }
    note('A/A 4 arms: family-wise error, Holm', holmErrors / RUNS)
    note('A/A 4 arms: family-wise error, unadjusted', rawErrors / RUNS)
    expect(holmErrors / RUNS).toBeLessThanOrEqual(ALPHA + MC)
    expect(rawErrors / RUNS).toBeGreaterThan(ALPHA + MC)
  })

  it('planted lifts 0, +10%, +20% at 10%, 3,000 per arm: Holm-level intervals cover them, one by one and all at once', () => {
    const rng = new Random(2008)
    const lifts = [0, 0.1, 0.2]
    let all = 0
    const each = [0, 0, 0]
    for (let r = 0; r < RUNS; r++) {
      const control = { n: 3000, sum: rng.binomial(3000, 0.1) }
      const { shown } = family(rng, 3000, control, [0.1, 0.1, 0.1], lifts, 'holm')
      const hit = shown.map((c, i) => covers(c, lifts[i]))
      hit.forEach((h, i) => (each[i] += h ? 1 : 0))
      if (hit.every(Boolean)) all++
    }
    each.forEach((c, i) => note(`Holm-level interval coverage, lift ${lifts[i]}`, c / RUNS))
    note('Holm-level intervals, all three cover', all / RUNS)
    for (const c of each) expect(c / RUNS).toBeGreaterThanOrEqual(1 - ALPHA - MC)
    expect(all / RUNS).toBeGreaterThanOrEqual(1 - ALPHA - MC)
  })
})

describe('secondary family (10 metrics, BH with Benjamini–Yekutieli intervals), 1,000 reports', () => {
  const rates = [0.05, 0.1, 0.2, 0.3, 0.08, 0.15, 0.04, 0.25, 0.12, 0.06]
  const lifts = [0, 0, 0, 0, 0, 0.1, 0.25, 0.08, 0.15, 0.3]

  it('10,000 per arm: false discovery rate ≤ q + 3 SE, false coverage rate of the selected ≤ α + 3 SE', () => {
    const rng = new Random(1995)
    const fdp: number[] = []
    const fcp: number[] = []
    let covered = 0
    let discoveries = 0
    for (let r = 0; r < RUNS; r++) {
      const controls = rates.map((rate) => ({ n: 10_000, sum: rng.binomial(10_000, rate) }))
      const { shown, significant } = family(rng, 10_000, controls, rates, lifts, 'bh')
      const selected = significant.flatMap((s, i) => (s ? [i] : []))
      discoveries += selected.length
      fdp.push(selected.length === 0 ? 0 : selected.filter((i) => lifts[i] === 0).length / selected.length)
      fcp.push(selected.length === 0 ? 0 : selected.filter((i) => !covers(shown[i], lifts[i])).length / selected.length)
      covered += shown.filter((c, i) => covers(c, lifts[i])).length
    }
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
    const se = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)) / xs.length)
    note('BH false discovery rate', mean(fdp))
    note('BH false discovery rate, MC SE', se(fdp))
    note('BY false coverage rate of the selected', mean(fcp))
    note('BY intervals, coverage per metric', covered / (RUNS * rates.length))
    note('BH discoveries per report', discoveries / RUNS)
    expect(mean(fdp)).toBeLessThanOrEqual(ALPHA + 3 * se(fdp))
    expect(mean(fcp)).toBeLessThanOrEqual(ALPHA + 3 * se(fcp))
    expect(covered / (RUNS * rates.length)).toBeGreaterThanOrEqual(1 - ALPHA)
    expect(discoveries / RUNS).toBeGreaterThan(2)
  })
})
