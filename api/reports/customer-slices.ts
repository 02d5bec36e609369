import type { ClickHouse } from '../stores/clickhouse.ts'
import { wholeRange, type CustomerSlice } from './sql/customer-window.ts'

/**
 * Customers per report pass. Below a million or so a single pass is as fast as several; above it the
 * per-customer join and GROUP BY outgrow the CPU caches and one pass gets slower per customer (measured in
 * bench/report.ts: 10M customers took 24 s in one pass and 14 s in twenty).
 */
export const CUSTOMERS_PER_SLICE = 500_000

export interface SliceOptions {
  /** Overrides CUSTOMERS_PER_SLICE (tests use a tiny value to exercise many slices over little data). */
  customersPerSlice?: number
}

export interface Slice {
  shape: CustomerSlice
  params: { rangeFrom?: string; rangeTo?: string }
}

/** One pass over every customer. */
export const singlePass: Slice[] = [{ shape: wholeRange, params: {} }]

/**
 * Splits an experiment's customers into contiguous customer_id ranges of about `perSlice` exposed customers
 * each, from a sorted sample of exposures. Every customer falls in exactly one range, so statistics summed
 * over the ranges equal the statistics of one pass; the sample only decides how even the ranges are.
 */
export async function customerSlices(ch: ClickHouse, experimentId: string, asOfMs: number, perSlice = CUSTOMERS_PER_SLICE): Promise<Slice[]> {
  const r = await ch.client.query({
    query: `SELECT count() AS n, arraySort(groupArraySample(4096, 1)(customer_id)) AS sample
      FROM exposures WHERE experiment_id = {exp:String} AND ts <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')`,
    query_params: { exp: experimentId, asOf: asOfMs },
    format: 'JSONEachRow',
  })
  const [row] = await r.json<{ n: string; sample: string[] }>()
  const k = Math.ceil(Number(row?.n ?? 0) / perSlice)
  if (k <= 1) return singlePass
  const bounds: string[] = []
  for (let i = 1; i < k; i++) {
    const b = row.sample[Math.floor((i * row.sample.length) / k)]
    if (b !== undefined && (bounds.length === 0 || b > bounds[bounds.length - 1])) bounds.push(b)
  }
  if (!bounds.length) return singlePass
  return [
    { shape: { from: false, to: true }, params: { rangeTo: bounds[0] } },
    ...bounds.slice(1).map((to, i) => ({ shape: { from: true, to: true }, params: { rangeFrom: bounds[i], rangeTo: to } })),
    { shape: { from: true, to: false }, params: { rangeFrom: bounds[bounds.length - 1] } },
  ]
}

type Row = Record<string, unknown>
type Survival = [number[], Array<number | string>, Array<number | string>]

function mergeSurvival(a: Survival, b: Survival): Survival {
  const byDay = new Map<number, [number, number]>()
  for (const [days, events, censored] of [a, b]) {
    days.forEach((d, i) => {
      const cur = byDay.get(Number(d)) ?? [0, 0]
      byDay.set(Number(d), [cur[0] + Number(events[i]), cur[1] + Number(censored[i])])
    })
  }
  const sorted = [...byDay].sort((x, y) => x[0] - y[0])
  return [sorted.map(([d]) => d), sorted.map(([, v]) => v[0]), sorted.map(([, v]) => v[1])]
}

/**
 * Adds up per-group rows of sufficient statistics from several slices: rows with the same `keys` values are one
 * group; every other column is a sum (ClickHouse sends 64-bit sums as strings) except `survival`, `repurchase` and `metric_survival`, whose
 * per-day counts are merged by day. Rows come back ordered by the keys as text.
 */
export function mergeSliceRows(parts: Row[][], keys: string[]): Row[] {
  if (parts.length === 1) return parts[0]
  const groups = new Map<string, Row>()
  for (const rows of parts) {
    for (const row of rows) {
      const id = JSON.stringify(keys.map((k) => row[k]))
      const acc = groups.get(id)
      if (!acc) {
        groups.set(id, { ...row })
        continue
      }
      for (const [col, v] of Object.entries(row)) {
        if (keys.includes(col)) continue
        acc[col] =
          col === 'survival' || col === 'repurchase' || col === 'metric_survival'
            ? mergeSurvival(acc[col] as Survival, v as Survival)
            : Number(acc[col]) + Number(v)
      }
    }
  }
  // Keys are text (arms, segments; 64-bit cut indexes arrive as strings), compared as ClickHouse sorts them.
  const compare = (x: unknown, y: unknown) => (String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0)
  return [...groups.values()].sort((a, b) => {
    for (const k of keys) {
      const c = compare(a[k], b[k])
      if (c) return c
    }
    return 0
  })
}

/** Runs a per-slice query over every slice, one at a time (each pass already uses every core), and merges the rows. */
export async function querySliced(
  ch: ClickHouse,
  slices: Slice[],
  sqlFor: (shape: CustomerSlice) => string,
  params: Record<string, unknown>,
  keys: string[],
): Promise<Row[]> {
  const parts: Row[][] = []
  for (const slice of slices) {
    const r = await ch.client.query({ query: sqlFor(slice.shape), query_params: { ...params, ...slice.params }, format: 'JSONEachRow' })
    parts.push(await r.json<Row>())
  }
  return mergeSliceRows(parts, keys)
}
