/**
 * The program KPIs' comparison groups rebuilt from the exposures ClickHouse logged, independently of the KPI SQL
 * (docs/kpis.md → Who is compared): per customer and experiment the first exposure that was not the experiment's
 * own holdout, whether an arm treated them and whether they were held out globally; then per scope ('' for the
 * program, else the experiment) each customer's group and window start.
 */
import type { Harness } from './harness.ts'

export interface KpiWindow {
  exp: string
  t0: number
  treated: boolean
  held: boolean
}

/** Windows per customer from the exposures logged (t0 is Infinity when only the experiment's holdout saw them). */
export async function kpiWindows(h: Harness): Promise<Map<string, KpiWindow[]>> {
  const logged = await h.chQuery<{ experiment_id: string; customer_id: string; arm: string; ts: string }>(
    'SELECT experiment_id, customer_id, arm, toUnixTimestamp64Milli(ts) AS ts FROM exposures',
  )
  const windows = new Map<string, KpiWindow[]>()
  for (const r of logged) {
    const list = windows.get(r.customer_id) ?? []
    const w = list.find((x) => x.exp === r.experiment_id)
    const ts = Number(r.ts)
    const treated = r.arm !== 'holdout' && r.arm !== 'global_holdout'
    if (w) {
      if (r.arm !== 'holdout') w.t0 = Math.min(w.t0, ts)
      w.treated ||= treated
      w.held ||= r.arm === 'global_holdout'
    } else list.push({ exp: r.experiment_id, t0: r.arm !== 'holdout' ? ts : Infinity, treated, held: r.arm === 'global_holdout' })
    windows.set(r.customer_id, list)
  }
  return windows
}

/**
 * Each window of the period [from, to) that counts: `scope` is its experiment, `program` whether it is also the
 * customer's program window (their earliest, which must itself start in the period), `treatedAnywhere` whether any
 * experiment treated the customer (their group in the program).
 */
export function* periodWindows(windows: Map<string, KpiWindow[]>, from: number, to: number) {
  for (const [id, all] of windows) {
    const list = all.filter((w) => (w.treated || w.held) && w.t0 < to)
    if (!list.length) continue
    const earliest = [...list].sort((a, b) => a.t0 - b.t0)[0]
    const treatedAnywhere = list.some((w) => w.treated)
    for (const w of list) if (w.t0 >= from) yield { id, window: w, program: w === earliest, treatedAnywhere }
  }
}
