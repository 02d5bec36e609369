/**
 * Planning against scipy (test/fixtures/stats/generate.py, power_cases): the power of the two-sided test
 * counts both tails, so it equals α at δ = 0 and the far tail matters for small effects.
 */
import { describe, expect, it } from 'vitest'
import power from '../../fixtures/stats/power.json'
import { powerAt, sampleSizePerArm, type PlanningBaseline } from '../../../stats/index.ts'
import { expectClose } from './support/close.ts'

describe('powerAt against scipy.stats.norm, both tails', () => {
  it.each(power.cases.map((c, i) => [i, `${c.baseline.kind} ${c.mdeKind} ${c.mde}, n ${c.perArm}, α ${c.alpha}`, c] as const))('case %i: %s', (_, __, c) => {
    const result = powerAt(c.baseline as PlanningBaseline, c.perArm, c.mde, c.mdeKind as 'relative' | 'absolute', c.alpha)
    expectClose(result, c.power, 1e-9)
  })

  it('is α for no effect, and counts the wrong-direction tail', () => {
    expectClose(powerAt({ kind: 'mean', mean: 50, sd: 20 }, 2000, 0, 'absolute'), 0.05, 1e-12)
    expectClose(powerAt({ kind: 'mean', mean: 50, sd: 20 }, 2000, 0.5, 'absolute'), 0.12409726467465305, 1e-9)
  })

  it('reaches at least the requested power at the planned sample size', () => {
    const baseline: PlanningBaseline = { kind: 'proportion', baselineRate: 0.05 }
    for (const mde of [0.02, 0.05, 0.2]) {
      const n = sampleSizePerArm(baseline, { mde, mdeKind: 'relative', power: 0.8 }).perArm as number
      expect(powerAt(baseline, n, mde, 'relative') as number).toBeGreaterThanOrEqual(0.8)
      expect(powerAt(baseline, n - 50, mde, 'relative') as number).toBeLessThan(0.8)
    }
  })
})
