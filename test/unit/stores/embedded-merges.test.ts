import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openClickHouse } from '../../../api/stores/clickhouse.ts'
import { migrateClickHouse } from '../../../api/stores/migrate.ts'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-merges-'))
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

describe('embedded ClickHouse merge settings', () => {
  it('widens merges of the group-committed tables, and migrating again keeps it so', async () => {
    const settings = async () => {
      const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
      try {
        await migrateClickHouse(ch)
        const r = await ch.client.query({ query: "SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() AND name IN ('events', 'exposures', 'suppressions') ORDER BY name", format: 'JSONEachRow' })
        return Object.fromEntries((await r.json<{ name: string; create_table_query: string }>()).map((t) => [t.name, /merge_selector_base = (\d+)/.exec(t.create_table_query)?.[1] ?? null]))
      } finally {
        await ch.close()
      }
    }
    expect(await settings()).toEqual({ events: '20', exposures: '20', suppressions: null })
    // A restart runs the migrations again over the same data directory.
    expect(await settings()).toEqual({ events: '20', exposures: '20', suppressions: null })
  })
})
