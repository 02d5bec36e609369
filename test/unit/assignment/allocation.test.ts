import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { armShares, assignCompiled, compileExperiment, type AssignableExperiment, type Assignment } from '../../../api/assignment/assign.ts'
import { customerIds, globalHoldout, winbackExperiment } from './experiments.ts'

// jstat ships no types; a require with a local signature avoids a project-wide ambient declaration.
const jStat = createRequire(import.meta.url)('jstat') as {
  chisquare: { cdf(x: number, degreesOfFreedom: number): number }
}

/** Pearson chi-square goodness of fit of observed counts against expected shares; returns the p-value. */
function chiSquarePValue(observed: Record<string, number>, expectedShares: Record<string, number>): number {
  const keys = Object.keys(expectedShares)
  const total = keys.reduce((sum, key) => sum + (observed[key] ?? 0), 0)
  let statistic = 0
  for (const key of keys) {
    const expected = total * expectedShares[key]
    statistic += ((observed[key] ?? 0) - expected) ** 2 / expected
  }
  return 1 - jStat.chisquare.cdf(statistic, keys.length - 1)
}

function countBy(assignments: Assignment[], key: (a: Assignment) => string | null): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const assignment of assignments) {
    const k = key(assignment)
    if (k !== null) counts[k] = (counts[k] ?? 0) + 1
  }
  return counts
}

const ids = customerIds(100_000)
const assignAll = (experiment: AssignableExperiment, global = globalHoldout) => {
  const compiled = compileExperiment(experiment)
  return ids.map((id) => assignCompiled(compiled, id, {}, global))
}

describe('allocation over 100,000 customers', () => {
  const experiment = winbackExperiment({ holdoutPct: 0.1 })
  const assignments = assignAll(experiment)
  const enrolled = assignments.filter((a) => a.inExperiment)

  it('splits enrolled customers between holdout and arms as the weights say (chi-square p > 0.001)', () => {
    const observed = countBy(enrolled, (a) => a.arm)
    expect(Object.keys(observed).sort()).toEqual(['control', 'free_shipping', 'holdout', 'ten_off'])
    expect(chiSquarePValue(observed, armShares(experiment))).toBeGreaterThan(0.001)
  })

  it('keeps the global holdout share at its percentage (chi-square p > 0.001)', () => {
    const inGlobal = assignments.filter((a) => a.reason === 'global_holdout').length
    const p = chiSquarePValue({ global: inGlobal, rest: ids.length - inGlobal }, { global: globalHoldout.pct, rest: 1 - globalHoldout.pct })
    expect(p).toBeGreaterThan(0.001)
  })

  it('keeps the experiment holdout share at holdoutPct of enrolled customers (chi-square p > 0.001)', () => {
    const holdout = enrolled.filter((a) => a.arm === 'holdout').length
    const p = chiSquarePValue({ holdout, arms: enrolled.length - holdout }, { holdout: experiment.holdoutPct, arms: 1 - experiment.holdoutPct })
    expect(p).toBeGreaterThan(0.001)
  })

  it('logs exactly the enrolled customers plus the global holdout, each once', () => {
    const exposures = countBy(assignments, (a) => a.exposure?.arm ?? null)
    expect(exposures.global_holdout).toBe(assignments.filter((a) => a.reason === 'global_holdout').length)
    const armExposures = Object.entries(exposures).filter(([arm]) => arm !== 'global_holdout')
    expect(Object.fromEntries(armExposures)).toEqual(countBy(enrolled, (a) => a.arm))
  })

  it('detects a real imbalance (the check is not vacuous)', () => {
    const skewed = { ...armShares(experiment) }
    skewed.control += 0.01
    skewed.ten_off -= 0.01
    expect(
      chiSquarePValue(
        countBy(enrolled, (a) => a.arm),
        skewed,
      ),
    ).toBeLessThan(0.001)
  })
})

describe('coverage ramp', () => {
  it('never moves an assigned customer when coverage ramps 0.2 → 0.5 → 1.0', () => {
    const ramp = [0.2, 0.5, 1].map((coverage) => assignAll(winbackExperiment({ coverage })))
    for (let step = 1; step < ramp.length; step++) {
      const moved = ids.filter((_, i) => ramp[step - 1][i].inExperiment && ramp[step][i].arm !== ramp[step - 1][i].arm)
      expect(moved).toEqual([])
    }
    // Enrolment grows with coverage: about 0.2, 0.5 and 1.0 of the 95% outside the global holdout.
    const enrolledShares = ramp.map((assignments) => assignments.filter((a) => a.inExperiment).length / ids.length)
    expect(enrolledShares[0]).toBeCloseTo(0.95 * 0.2, 2)
    expect(enrolledShares[1]).toBeCloseTo(0.95 * 0.5, 2)
    expect(enrolledShares[2]).toBeCloseTo(0.95, 2)
  })

  it('keeps arm shares at the weights at every coverage step', () => {
    for (const coverage of [0.2, 0.5]) {
      const experiment = winbackExperiment({ coverage })
      const observed = countBy(
        assignAll(experiment).filter((a) => a.inExperiment),
        (a) => a.arm,
      )
      expect(chiSquarePValue(observed, armShares(experiment))).toBeGreaterThan(0.001)
    }
  })
})

describe('namespaces', () => {
  const inWinback = (range: [number, number], seed: string) => winbackExperiment({ id: seed, seed, namespace: { name: 'winback-offers', range } })

  it('never puts a customer in two experiments of one namespace with disjoint ranges', () => {
    const first = assignAll(inWinback([0, 0.5], 'discount-test'), { pct: 0, seed: 'g' })
    const second = assignAll(inWinback([0.5, 1], 'shipping-test'), { pct: 0, seed: 'g' })
    expect(ids.filter((_, i) => first[i].inExperiment && second[i].inExperiment)).toEqual([])
    // Between them they take everyone; each takes about half.
    expect(ids.every((_, i) => first[i].inExperiment || second[i].inExperiment)).toBe(true)
    expect(first.filter((a) => a.inExperiment).length / ids.length).toBeCloseTo(0.5, 1)
  })

  it('does share customers between overlapping ranges (the check is not vacuous)', () => {
    const first = assignAll(inWinback([0, 0.6], 'discount-test'))
    const second = assignAll(inWinback([0.4, 1], 'shipping-test'))
    expect(ids.some((_, i) => first[i].inExperiment && second[i].inExperiment)).toBe(true)
  })

  it('excludes customers outside the range with reason namespace, in proportion to the range', () => {
    const assignments = assignAll(inWinback([0.2, 0.45], 'loyalty-test'), { pct: 0, seed: 'g' })
    const excluded = assignments.filter((a) => a.reason === 'namespace').length / ids.length
    expect(excluded).toBeCloseTo(0.75, 1)
  })
})
