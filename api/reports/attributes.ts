import type { ClickHouse } from '../stores/clickhouse.ts'
import type { ExperimentAttribute } from '../contract/experiments.ts'

/** What a breakdown can split by: the attribute keys captured with each customer's first exposure. */
const attributesSql = `
SELECT key, count() AS customers, uniqExact(attrs[key]) AS values
FROM (
  SELECT argMin(attributes, ts) AS attrs
  FROM exposures
  WHERE experiment_id = {exp:String} AND arm != 'global_holdout'
  GROUP BY customer_id
)
ARRAY JOIN mapKeys(attrs) AS key
GROUP BY key
ORDER BY customers DESC, key
LIMIT 100`

export async function experimentAttributes(ch: ClickHouse, experimentId: string): Promise<ExperimentAttribute[]> {
  const r = await ch.client.query({ query: attributesSql, query_params: { exp: experimentId }, format: 'JSONEachRow' })
  return (await r.json<Record<string, string>>()).map((row) => ({ key: row.key, customers: Number(row.customers), values: Number(row.values) }))
}
