/**
 * Throughput of the stats library on the shape of a real report: 10 metrics × 4 arms (baseline + 3 variants),
 * i.e. 30 comparisons, then Holm and BH across them and an SRM check. Metric mix: 4 conversion rates,
 * 3 per-customer means, 2 ratios (AOV-like) and 1 CUPED-adjusted mean.
 *
 *   npx tsx bench/stats.ts            (or npm run bench:stats)
 *
 * Prints the figures and writes bench/results/stats.json with the machine it ran on and the median of
 * several timed repetitions (after a warm-up), for fixed-horizon and sequential reports.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  applyAdjustment,
  compareCuped,
  compareMeans,
  compareProportions,
  compareRatios,
  srmTest,
  type CompareOptions,
  type Comparison,
  type CupedStats,
  type MeanStats,
  type ProportionStats,
  type RatioStats,
} from '../stats/index.ts'

const ARMS = ['control', 'variant-a', 'variant-b', 'variant-c']
const REPETITIONS = 7
const SECONDS_PER_REPETITION = 1

type Metric =
  | { name: string; kind: 'proportion'; arms: ProportionStats[] }
  | { name: string; kind: 'mean'; arms: MeanStats[] }
  | { name: string; kind: 'ratio'; arms: RatioStats[] }
  | { name: string; kind: 'cuped'; arms: CupedStats[] }

/** Deterministic sufficient statistics of plausible size (≈ 25k customers per arm). */
function buildReport(): Metric[] {
  const n = (arm: number) => 25_000 + 137 * arm
  const metrics: Metric[] = []
  for (let m = 0; m < 4; m++) {
    metrics.push({
      name: `converted_${m}`,
      kind: 'proportion',
      arms: ARMS.map((_, a) => ({ n: n(a), sum: Math.round(n(a) * (0.08 + 0.01 * m) * (1 + 0.02 * a)) })),
    })
  }
  for (let m = 0; m < 3; m++) {
    metrics.push({
      name: `revenue_${m}`,
      kind: 'mean',
      arms: ARMS.map((_, a) => {
        const mean = (12 + m) * (1 + 0.015 * a)
        const sd = 40 + 5 * m
        return { n: n(a), sum: n(a) * mean, sumSquares: (n(a) - 1) * sd * sd + n(a) * mean * mean }
      }),
    })
  }
  for (let m = 0; m < 2; m++) {
    metrics.push({
      name: `aov_${m}`,
      kind: 'ratio',
      arms: ARMS.map((_, a) => {
        const size = n(a)
        const orders = 0.4 * size
        const revenue = orders * (45 + m) * (1 + 0.01 * a)
        return { n: size, numSum: revenue, numSumSquares: 9000 * size, denSum: orders, denSumSquares: 0.7 * size, crossSum: 60 * size }
      }),
    })
  }
  metrics.push({
    name: 'revenue_cuped',
    kind: 'cuped',
    arms: ARMS.map((_, a) => {
      const size = n(a)
      const post = 12 * (1 + 0.02 * a)
      return {
        n: size,
        post: { sum: size * post, sumSquares: size * (1600 + post * post) },
        pre: { sum: size * 11.5, sumSquares: size * (1500 + 11.5 * 11.5) },
        crossSum: size * (0.6 * 40 * Math.sqrt(1500) + post * 11.5),
      }
    }),
  })
  return metrics
}

function runReport(metrics: Metric[], opts: CompareOptions): Comparison[] {
  const comparisons: Comparison[] = []
  for (const metric of metrics) {
    for (let v = 1; v < ARMS.length; v++) {
      const o = { ...opts, metric: metric.name, baseline: ARMS[0], variant: ARMS[v] }
      if (metric.kind === 'proportion') comparisons.push(compareProportions(metric.arms[0], metric.arms[v], o))
      else if (metric.kind === 'mean') comparisons.push(compareMeans(metric.arms[0], metric.arms[v], o))
      else if (metric.kind === 'ratio') comparisons.push(compareRatios(metric.arms[0], metric.arms[v], o))
      else comparisons.push(compareCuped(metric.arms[0], metric.arms[v], o))
    }
  }
  applyAdjustment(comparisons, 'holm')
  applyAdjustment(comparisons, 'bh')
  srmTest(
    metrics[0].arms.map((arm) => arm.n),
    [1, 1, 1, 1],
  )
  return comparisons
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

interface Measurement {
  comparisonsPerReport: number
  repetitions: { reports: number; seconds: number; comparisonsPerSecond: number }[]
  medianComparisonsPerSecond: number
  medianReportsPerSecond: number
  medianMicrosecondsPerComparison: number
}

function measure(metrics: Metric[], opts: CompareOptions): Measurement {
  const comparisonsPerReport = runReport(metrics, opts).length
  const warmUntil = performance.now() + 500
  while (performance.now() < warmUntil) runReport(metrics, opts)
  const repetitions = []
  for (let r = 0; r < REPETITIONS; r++) {
    let reports = 0
    const start = performance.now()
    const stop = start + SECONDS_PER_REPETITION * 1000
    while (performance.now() < stop) {
      runReport(metrics, opts)
      reports++
    }
    const seconds = (performance.now() - start) / 1000
    repetitions.push({ reports, seconds, comparisonsPerSecond: (reports * comparisonsPerReport) / seconds })
  }
  const perSecond = median(repetitions.map((r) => r.comparisonsPerSecond))
  return {
    comparisonsPerReport,
    repetitions,
    medianComparisonsPerSecond: perSecond,
    medianReportsPerSecond: perSecond / comparisonsPerReport,
    medianMicrosecondsPerComparison: 1e6 / perSecond,
  }
}

const metrics = buildReport()
const sample = runReport(metrics, {})
const notEstimable = sample.filter((c) => c.notEstimable)
if (notEstimable.length > 0) throw new Error(`benchmark report has not-estimable comparisons: ${JSON.stringify(notEstimable[0].notEstimable)}`)

const fixed = measure(metrics, {})
const sequential = measure(metrics, { sequential: {} })
const cpus = os.cpus()
const result = {
  benchmark: 'stats: 10-metric × 4-arm report (30 comparisons + Holm + BH + SRM)',
  date: new Date().toISOString(),
  machine: {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  },
  settings: { repetitions: REPETITIONS, secondsPerRepetition: SECONDS_PER_REPETITION, statistic: 'median of repetitions' },
  fixedHorizon: fixed,
  sequential,
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US')
console.log(result.benchmark)
console.log(`machine: ${result.machine.cpuModel}, ${result.machine.cores} cores, node ${result.machine.node}`)
for (const [label, m] of [
  ['fixed-horizon', fixed],
  ['sequential', sequential],
] as const) {
  console.log(
    `${label.padEnd(13)}  ${fmt(m.medianComparisonsPerSecond)} comparisons/s  ${fmt(m.medianReportsPerSecond)} reports/s  ` +
      `${m.medianMicrosecondsPerComparison.toFixed(1)} µs/comparison  (median of ${REPETITIONS}: ${m.repetitions.map((r) => fmt(r.comparisonsPerSecond)).join(', ')})`,
  )
}

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'stats.json')
mkdirSync(path.dirname(out), { recursive: true })
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
console.log(`wrote ${path.relative(process.cwd(), out)}`)
