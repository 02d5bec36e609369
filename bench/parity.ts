import { pathToFileURL } from 'node:url'
import { GrowthBook, GrowthBookClient, type Experiment } from '@growthbook/growthbook'
import { assignCompiled, compileExperiment, type AssignableExperiment } from '../api/assignment/index.ts'
import { compareConditions, compareWithGrowthBook, type ParityReport } from '../test/unit/assignment/growthbookParity.ts'
import { evalCondition } from '../api/assignment/index.ts'
import { median } from './machine.ts'

// GrowthBook SDK comparisons: a large parity run (the unit test runs a few thousand cases of the same
// generator), and the SDK's in-process assignment rate next to ours on the benchmark experiment.

/**
 * `comparisons` random (experiment, customer) cases compared with GrowthBookClient, 50 customers per random
 * experiment, plus as many random targeting conditions compared with the SDK's `evalCondition`.
 *
 * @example
 * const parity = runParity(1_000_000) // parity.unexplained === 0
 */
export function runParity(comparisons: number, seed = 1) {
  const t = performance.now()
  const customersPerExperiment = 50
  const assignments: ParityReport = compareWithGrowthBook({ seed, experiments: Math.ceil(comparisons / customersPerExperiment), customersPerExperiment })
  const conditions = compareConditions(seed, comparisons, evalCondition)
  const seconds = (performance.now() - t) / 1000
  return {
    seed,
    assignmentComparisons: assignments.comparisons,
    assignmentsInExperiment: assignments.inExperiment,
    assignmentsAgreeing: assignments.agreeing,
    conditionComparisons: conditions.checks,
    conditionsMatching: conditions.matched,
    unexplained: assignments.unexplainedCount + conditions.unexplained.length,
    firstUnexplained: assignments.unexplained[0] ?? conditions.unexplained[0] ?? null,
    seconds: +seconds.toFixed(1),
  }
}

/**
 * Assignments per second for our compiled assignment, the SDK's shared `GrowthBookClient` and a fresh
 * `GrowthBook` per request, on the same experiment, customers and attributes, in the same run.
 */
export function sdkRates(experiment: AssignableExperiment, attributes: Record<string, unknown>, reps = 5) {
  const compiled = compileExperiment(experiment)
  const global = { pct: 0.05, seed: 'global-holdout' }
  const withHoldout = experiment.holdoutPct > 0
  const keys = experiment.arms.map((a) => a.key)
  const sdkExperiment: Experiment<string> = {
    key: experiment.id,
    seed: experiment.seed,
    hashVersion: 2,
    variations: (withHoldout ? ['holdout', ...keys] : keys) as [string, string, ...string[]],
    weights: withHoldout
      ? [experiment.holdoutPct, ...experiment.arms.map((a) => a.weight * (1 - experiment.holdoutPct))]
      : experiment.arms.map((a) => a.weight),
    coverage: experiment.coverage,
    condition: experiment.targeting as Experiment<string>['condition'],
  }
  const client = new GrowthBookClient({})
  let sink = 0
  const rate = (n: number, one: (id: string) => unknown) => {
    const t = performance.now()
    for (let i = 0; i < n; i++) if (one(`customer-${i}`)) sink++
    return n / ((performance.now() - t) / 1000)
  }
  // Interleaved repetitions, so a busy neighbour slows all three alike; ratios are medians of per-rep ratios.
  const ours: number[] = []
  const viaClient: number[] = []
  const perRequest: number[] = []
  for (let rep = 0; rep < reps; rep++) {
    ours.push(rate(500_000, (id) => assignCompiled(compiled, id, attributes, global).inExperiment))
    viaClient.push(rate(100_000, (id) => client.runInlineExperiment(sdkExperiment, { attributes: { ...attributes, id } }).inExperiment))
    perRequest.push(rate(100_000, (id) => new GrowthBook({ attributes: { ...attributes, id } }).run(sdkExperiment).inExperiment))
  }
  if (sink < 0) console.log(sink)
  return {
    oursPerSecond: Math.round(median(ours)),
    growthBookClientPerSecond: Math.round(median(viaClient)),
    growthBookPerRequestPerSecond: Math.round(median(perRequest)),
    oursToClient: +median(ours.map((o, i) => o / viaClient[i])).toFixed(1),
    oursToPerRequest: +median(ours.map((o, i) => o / perRequest[i])).toFixed(1),
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.env.PARITY_COMPARISONS ?? 1_000_000)
  console.log(`parity with @growthbook/growthbook: ${n.toLocaleString()} assignments and ${n.toLocaleString()} conditions…`)
  const parity = runParity(n, Number(process.env.PARITY_SEED ?? 1))
  console.log(parity)
  if (parity.unexplained > 0) process.exitCode = 1
}
