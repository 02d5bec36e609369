import type { Random } from './random.ts'

/** Share of `runs` trials that return true. */
export function rate(runs: number, trial: () => boolean): number {
  let hits = 0
  for (let i = 0; i < runs; i++) if (trial()) hits++
  return hits / runs
}

/**
 * Revenue per customer: 30% buy and spend log-normal(3, 1.2) times `multiplier` (buyers' median ≈ 20, mean
 * ≈ 41; per-customer mean ≈ 12.4 and skewness ≈ 17), the heavy-tailed shape of real order values.
 */
export function revenue(rng: Random, multiplier: number): () => number {
  return () => (rng.uniform() < 0.3 ? multiplier * Math.exp(3 + 1.2 * rng.normal()) : 0)
}

/** Prints a simulated rate when STATS_SIM_REPORT=1, so a run can show the numbers behind the assertions. */
export function note(label: string, value: number): void {
  if (process.env.STATS_SIM_REPORT) console.log(`[stats simulation] ${label}: ${value.toFixed(4)}`)
}
