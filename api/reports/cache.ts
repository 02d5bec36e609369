import type { ClickHouse } from '../stores/clickhouse.ts'
import { corruptionAsStoreError } from '../stores/clickhouse-corruption.ts'

/**
 * Caches report answers until new data arrives: the key includes a data version (row counts of exposures and
 * events, which ClickHouse answers from part metadata without reading data), so any insert by any API
 * process invalidates it. Entries also expire after `ttlMs`, because a report "as of now" moves with time.
 */
export class ReportCache {
  private entries = new Map<string, { at: number; value: Promise<unknown> }>()

  constructor(
    private readonly ch: ClickHouse,
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 200,
  ) {}

  async dataVersion(): Promise<string> {
    const r = await this.ch.client.query({
      query: 'SELECT (SELECT count() FROM exposures) AS x, (SELECT count() FROM events) AS e, (SELECT count() FROM suppressions) AS s',
      format: 'JSONEachRow',
    })
    const [row] = await r.json<{ x: string; e: string; s: string }>()
    return `${row.x}:${row.e}:${row.s}`
  }

  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const full = `${await this.dataVersion()}|${key}`
    const hit = this.entries.get(full)
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value as Promise<T>
    // Every report runs through here: a corrupted table becomes a StoreError naming it, not an "internal error".
    const value = compute().catch(async (error: unknown) => {
      throw (await corruptionAsStoreError(this.ch, error)) ?? error
    })
    this.entries.set(full, { at: Date.now(), value })
    value.catch(() => this.entries.delete(full))
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    return value
  }
}
