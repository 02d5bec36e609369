/**
 * A customer's features as of an instant, and the RFM cut points of all customers, read from customer_timeline.
 */
import type { ClickHouse } from '../stores/clickhouse.ts'
import { FEATURES, type CustomerFeatures, type FeatureName } from './features.ts'
import { FEATURE_COLUMNS, featureColumns, historyOfSql } from './features-sql.ts'
import type { RfmCuts } from './rfm.ts'
import { rfmGroupSql, type SqlParams } from './rule-sql.ts'

/** ClickHouse sends 64-bit integers as strings and Nullable columns as null. */
export function parseFeatures(row: Record<string, unknown>): CustomerFeatures {
  const out = {} as Record<FeatureName, unknown>
  for (const name of FEATURE_COLUMNS) {
    const v = row[name]
    out[name] = FEATURES[name].kind === 'category' ? String(v) : v === null || v === undefined ? null : Number(v)
  }
  return out as unknown as CustomerFeatures
}

/**
 * One customer's features from their events strictly before `asOfMs`. A customer with no stored events gets the
 * features of someone who never bought (counts 0, nulls, stage `none`).
 *
 * @example
 * await customerFeatures(ch, 'c-0000042', Date.now()) // { recency_days: 12, orders_90d: 2, …, lapse_stage: 'active' }
 */
export async function customerFeatures(ch: ClickHouse, customerId: string, asOfMs: number): Promise<CustomerFeatures> {
  const query = `SELECT ${featureColumns('h', '{asOf:Int64}')} FROM (${historyOfSql})`
  const r = await ch.client.query({ query, query_params: { customer: customerId, asOf: asOfMs }, format: 'JSONEachRow' })
  const [row] = await r.json<Record<string, unknown>>()
  return parseFeatures(row)
}

const LEVELS = '0.2, 0.4, 0.6, 0.8'

/**
 * The quintile cut points of recency, orders in 365 days and net revenue in 365 days over every customer who had
 * purchased before `asOfMs` (ClickHouse's quantilesExact: the value at ⌊level·n⌋ of the sorted values).
 */
export async function rfmCutsAsOf(ch: ClickHouse, asOfMs: number): Promise<RfmCuts> {
  const customers = `SELECT ${featureColumns('h', '{asOf:Int64}')}
  FROM (SELECT customer_id, groupUniqArrayMerge(history) AS h FROM customer_timeline GROUP BY customer_id)`
  return queryRfmCuts(ch, customers, { asOf: asOfMs })
}

/**
 * The RFM group's expression (rfmGroupSql) against cut points among the buyers of `population` (a query with the
 * feature columns, run with `params`): how reports, KPIs and the library place customers among their own population.
 */
export async function rfmGroupAmong(ch: ClickHouse, population: string, params: Record<string, unknown>, bound: SqlParams): Promise<string> {
  return rfmGroupSql(await queryRfmCuts(ch, population, params), bound)
}

/** The RFM cut points over the buyers among `customers` (a query with the feature columns). */
export async function queryRfmCuts(ch: ClickHouse, customers: string, params: Record<string, unknown>): Promise<RfmCuts> {
  const query = `SELECT quantilesExact(${LEVELS})(recency_days) AS recency, quantilesExact(${LEVELS})(orders_365d) AS frequency,
  quantilesExact(${LEVELS})(monetary_365d) AS monetary
FROM (${customers})
WHERE recency_days IS NOT NULL`
  const r = await ch.client.query({ query, query_params: params, format: 'JSONEachRow' })
  const [row] = await r.json<Record<string, unknown[]>>()
  const nums = (v: unknown[] | undefined) => (v ?? []).map(Number)
  return { recency: nums(row?.recency), frequency: nums(row?.frequency), monetary: nums(row?.monetary) }
}

/**
 * RFM cut points as of now, recomputed at most every `ttlMs` (a full pass over customer_timeline: seconds at a
 * million customers) and shared by concurrent callers; a failed computation is retried by the next call.
 */
export class RfmCutsCache {
  private value: { at: number; cuts: RfmCuts } | null = null
  private pending: Promise<RfmCuts> | null = null

  constructor(
    private readonly ch: ClickHouse,
    private readonly now: () => number,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  async get(): Promise<RfmCuts> {
    const t = this.now()
    if (this.value && t - this.value.at < this.ttlMs) return this.value.cuts
    this.pending ??= rfmCutsAsOf(this.ch, t)
      .then((cuts) => {
        this.value = { at: t, cuts }
        return cuts
      })
      .finally(() => (this.pending = null))
    return this.pending
  }
}
