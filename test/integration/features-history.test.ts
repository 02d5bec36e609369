/**
 * featuresFromHistory (targeting's features, computed in the API process from customer_timeline's raw tuples) gives
 * the answers of featureColumns (reports' and the profile's, computed in ClickHouse) for random histories at several
 * instants, boundaries included: entries exactly at the instant, exactly 90 and 365 days before it, refunds, offers
 * sent and redeemed in every order, customers with one purchase or none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { mulberry32 } from '../helpers/prng.ts'
import { featureColumns } from '../../api/segments/features-sql.ts'
import { parseFeatures } from '../../api/segments/profile.ts'
import { featuresFromHistory } from '../../api/segments/features-history.ts'
import { featuresOfCustomers } from '../../api/segments/feature-cache.ts'
import { FEATURE_NAMES } from '../../api/segments/features.ts'

const DAY = 86_400_000
const AS_OF = [Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-06-15T12:34:56Z'), Date.parse('2027-01-01T00:00:00Z')]
const CUSTOMERS = 400
let h: Harness
/** Customers with at least one entry. */
let withHistory = 0

beforeAll(async () => {
  h = await openHarness()
  const rand = mulberry32(4242)
  const rows: Array<{ customer_id: string; id: number; kind: number; ts: number; amount: number }> = []
  let id = 1
  for (let c = 0; c < CUSTOMERS; c++) {
    const entries = c % 11 === 0 ? 0 : c % 7 === 0 ? 1 : Math.floor(rand() * 16)
    for (let k = 0; k < entries; k++) {
      const at = AS_OF[Math.floor(rand() * AS_OF.length)]
      // A fifth of the entries sit on a boundary of some instant: at it, or exactly 90 or 365 days before it.
      const edge = [0, 90 * DAY, 365 * DAY][Math.floor(rand() * 3)]
      const ts = rand() < 0.2 ? at - edge : at - Math.floor(rand() * 500 * DAY) + Math.floor(rand() * 40 * DAY)
      const kind = 1 + Math.floor(rand() * 4)
      const amount = kind === 4 ? 0 : Math.round(rand() * 30_000) / 100
      rows.push({ customer_id: `fh-${c}`, id: id++, kind, ts, amount })
    }
  }
  withHistory = new Set(rows.map((r) => r.customer_id)).size
  await h.ch.client.command({ query: 'CREATE TABLE fh_input (customer_id String, id UInt64, kind UInt8, ts Int64, amount Float64) ENGINE = Memory' })
  await h.ch.client.insert({ table: 'fh_input', values: rows, format: 'JSONEachRow' })
  await h.ch.client.command({
    query: `INSERT INTO customer_timeline SELECT customer_id, groupUniqArrayState((sipHash64(id), kind, ts, amount)), now64(3) FROM fh_input GROUP BY customer_id`,
  })
}, 60_000)
afterAll(() => h?.close())

describe('features computed from history tuples in the API process', () => {
  it('agree with featureColumns for every customer at every instant', async () => {
    const ids = Array.from({ length: CUSTOMERS }, (_, c) => `fh-${c}`)
    let compared = 0
    for (const asOf of AS_OF) {
      const sql = await h.chQuery<Record<string, unknown>>(
        `SELECT customer_id, ${featureColumns('h', '{asOf:Int64}')}
         FROM (SELECT customer_id, groupUniqArrayMerge(history) AS h FROM customer_timeline GROUP BY customer_id)`,
        { asOf },
      )
      const history = new Map(
        (
          await h.chQuery<{ customer_id: string; h: [string, number, string, number][] }>(
            'SELECT customer_id, groupUniqArrayMerge(history) AS h FROM customer_timeline GROUP BY customer_id',
          )
        ).map((r) => [r.customer_id, r.h]),
      )
      const looked = await featuresOfCustomers(h.ch, ids, asOf)
      for (const row of sql) {
        const want = parseFeatures(row)
        const id = String(row.customer_id)
        for (const got of [featuresFromHistory(history.get(id)!, asOf), looked.get(id)!]) {
          for (const name of FEATURE_NAMES) {
            const [a, b] = [got[name], want[name]]
            if (typeof b === 'number' && typeof a === 'number') expect(a, `${id} ${name} @${asOf}`).toBeCloseTo(b, 9)
            else expect(a, `${id} ${name} @${asOf}`).toBe(b)
          }
          compared++
        }
      }
    }
    // Customers with history at every instant, all through both paths; and the world reaches every stage.
    expect(compared).toBe(2 * 3 * withHistory)
    expect(withHistory).toBeGreaterThan(300)
    const stages = new Set([...(await featuresOfCustomers(h.ch, ids, AS_OF[1])).values()].map((f) => f.lapse_stage))
    expect([...stages].sort()).toEqual(['active', 'dormant', 'lapsed', 'none', 'slipping'])
  })
})
