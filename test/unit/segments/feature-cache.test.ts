import { describe, expect, it } from 'vitest'
import type { ClickHouse } from '../../../api/stores/clickhouse.ts'
import { CustomerFeatureCache, NO_HISTORY_FEATURES } from '../../../api/segments/feature-cache.ts'

const DAY = 86_400_000
/** Each known customer's last purchase: a day before 60 s past the epoch, so its recency turns 1 day at 60,000 ms. */
const LAST = 60_000 - DAY

/**
 * A ClickHouse stand-in answering the batch query with the history tuples of each known customer (`c-N` made N
 * purchases, the last at LAST), recording the ids of each query. `fail` makes the next query throw.
 */
function fakeClickHouse() {
  const queries: Array<{ ids: string[] }> = []
  const state = { fail: false, release: Promise.resolve() }
  const client = {
    async query({ query_params }: { query_params: { ids: string[] } }) {
      queries.push({ ids: [...query_params.ids] })
      await state.release
      if (state.fail) {
        state.fail = false
        throw new Error('ClickHouse is down')
      }
      const rows = query_params.ids
        .filter((id) => id.startsWith('c-'))
        .map((id) => [id, Array.from({ length: Number(id.slice(2)) }, (_, k) => [String(k + 1), 1, String(LAST - k * 1000), 20])])
      return { json: async () => rows }
    },
  }
  return { ch: { client, embedded: true, cluster: null, close: async () => {} } as unknown as ClickHouse, queries, state }
}

describe('CustomerFeatureCache', () => {
  it('reads the misses of one tick with one query, and concurrent callers for a customer share its lookup', async () => {
    const { ch, queries } = fakeClickHouse()
    const cache = new CustomerFeatureCache(ch, () => 1000)
    const got = await Promise.all(['c-1', 'c-2', 'c-1', 'x-9', 'c-2'].map((id) => cache.get(id)))
    expect(queries).toEqual([{ ids: ['c-1', 'c-2', 'x-9'] }])
    expect(got.map((f) => f.orders_90d)).toEqual([1, 2, 1, 0, 2])
    expect(got[0].recency_days).toBe(0)
    expect(got[3]).toEqual(NO_HISTORY_FEATURES)
  })

  it('collects misses that arrive while a query runs into the next one', async () => {
    const { ch, queries, state } = fakeClickHouse()
    let release!: () => void
    state.release = new Promise<void>((r) => (release = r))
    const cache = new CustomerFeatureCache(ch, () => 0)
    const first = cache.get('c-1')
    await expect.poll(() => queries.length).toBe(1)
    const later = ['c-2', 'c-3', 'c-4'].map((id) => cache.get(id))
    release()
    await Promise.all([first, ...later])
    expect(queries.map((q) => q.ids)).toEqual([['c-1'], ['c-2', 'c-3', 'c-4']])
  })

  it('answers from memory within the TTL and looks up again after it', async () => {
    const { ch, queries } = fakeClickHouse()
    let now = 0
    const cache = new CustomerFeatureCache(ch, () => now, { ttlMs: 60_000 })
    await cache.get('c-1')
    now = 59_999
    expect((await cache.get('c-1')).recency_days).toBe(0)
    expect(queries).toHaveLength(1)
    now = 60_000
    // Computed as of the lookup: a whole day since the last purchase only at 60,000 ms.
    expect((await cache.get('c-1')).recency_days).toBe(1)
    expect(queries).toHaveLength(2)
  })

  it('keeps at most maxEntries customers, dropping the least recently used', async () => {
    const { ch, queries } = fakeClickHouse()
    const cache = new CustomerFeatureCache(ch, () => 0, { maxEntries: 2 })
    await cache.get('c-1')
    await cache.get('c-2')
    await cache.get('c-1')
    await cache.get('c-3')
    expect(cache.size).toBe(2)
    expect(queries).toHaveLength(3)
    await cache.get('c-1')
    expect(queries).toHaveLength(3)
    await cache.get('c-2')
    expect(queries.at(-1)!.ids).toEqual(['c-2'])
  })

  it('fails the callers of a failed query and caches nothing, so the next call asks again', async () => {
    const { ch, queries, state } = fakeClickHouse()
    const cache = new CustomerFeatureCache(ch, () => 0)
    state.fail = true
    await expect(Promise.all([cache.get('c-1'), cache.get('c-2')])).rejects.toThrow('ClickHouse is down')
    expect(cache.size).toBe(0)
    expect((await cache.get('c-1')).orders_90d).toBe(1)
    expect(queries).toHaveLength(2)
  })
})
