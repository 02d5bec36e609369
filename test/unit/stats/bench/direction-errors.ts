/**
 * Larger runs behind the figures in docs/statistics.md ("Relative lift over |baseline|" and "Heavy-tailed
 * revenue"); not part of the test suite. Run: npx tsx test/unit/stats/bench/direction-errors.ts [runs]
 * (default 20,000; about two minutes). Seeded, so every run prints the same numbers.
 *
 * The delta-method test the relative kind used before is rebuilt from the comparison's own numbers: its
 * statistic is estimate / standardError (the delta-method SE, still reported) on the Welch df.
 */
import { compareMeans, compareProportions, twoSidedPValue, winsorizeCap, type MeanStats } from '../../../../stats/index.ts'
import { Random } from '../support/random.ts'

const runs = Number(process.argv[2] ?? 20_000)
const fmt = (x: number) => (x / runs).toFixed(4)

for (const [p, n] of [
  [0.08, 2000],
  [0.08, 5000],
  [0.02, 2000],
  [0.02, 5000],
] as const) {
  const rng = new Random(7)
  const count = { deltaWins: 0, deltaLoses: 0, wins: 0, loses: 0 }
  for (let i = 0; i < runs; i++) {
    const a = { n, sum: rng.binomial(n, p) }
    const b = { n, sum: rng.binomial(n, p) }
    const c = compareProportions(a, b)
    if (c.notEstimable) continue
    const deltaP = twoSidedPValue((c.estimate as number) / (c.standardError as number), c.df ?? null)
    if (deltaP < 0.05) (c.estimate as number) > 0 ? count.deltaWins++ : count.deltaLoses++
    if (c.significant) (c.estimate as number) > 0 ? count.wins++ : count.loses++
  }
  console.log(
    `A/A ${p * 100}%, ${n} per arm: delta method wins ${fmt(count.deltaWins)} loses ${fmt(count.deltaLoses)} | absolute test / Fieller wins ${fmt(count.wins)} loses ${fmt(count.loses)}`,
  )
}

function sums(xs: number[]): MeanStats {
  let sum = 0
  let sumSquares = 0
  for (const x of xs) {
    sum += x
    sumSquares += x * x
  }
  return { n: xs.length, sum, sumSquares }
}

const heavyRuns = Math.round(runs / 2)
for (const [na, nb] of [
  [2000, 2000],
  [2000, 6000],
  [6000, 2000],
]) {
  const rng = new Random(77)
  const draw = () => (rng.uniform() < 0.3 ? Math.exp(3.5 + 1.5 * rng.normal()) : 0)
  const count = { wins: 0, loses: 0, capWins: 0, capLoses: 0 }
  for (let i = 0; i < heavyRuns; i++) {
    const a = Array.from({ length: na }, draw)
    const b = Array.from({ length: nb }, draw)
    const c = compareMeans(sums(a), sums(b))
    if (c.significant) (c.estimate as number) > 0 ? count.wins++ : count.loses++
    const cap = winsorizeCap([...a, ...b], 0.999) as number
    const w = compareMeans(sums(a.map((x) => Math.min(x, cap))), sums(b.map((x) => Math.min(x, cap))))
    if (w.significant) (w.estimate as number) > 0 ? count.capWins++ : count.capLoses++
  }
  const f = (x: number) => (x / heavyRuns).toFixed(4)
  console.log(
    `A/A revenue 30% × log-normal(3.5, 1.5), ${na} vs ${nb}: Welch wins ${f(count.wins)} loses ${f(count.loses)} total ${f(count.wins + count.loses)}` +
      ` | winsorized at the pooled 99.9th percentile wins ${f(count.capWins)} loses ${f(count.capLoses)} total ${f(count.capWins + count.capLoses)}`,
  )
}
