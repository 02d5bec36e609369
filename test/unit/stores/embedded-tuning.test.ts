import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../../api/stores/clickhouse.ts'
import { migrateClickHouse } from '../../../api/stores/migrate.ts'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-tuning-'))
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

/** Opens the embedded store on the shared data directory, migrates it (as every start does), runs `read`. */
async function afterMigrating<T>(read: (ch: ClickHouse) => Promise<T>): Promise<T> {
  const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
  try {
    await migrateClickHouse(ch)
    return await read(ch)
  } finally {
    await ch.close()
  }
}

/** Whether the filesystem under the temp directory takes the ext4 "top directory" attribute at all. */
function topDirectorySupported(): boolean {
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-topdir-probe-'))
  try {
    execFileSync('chattr', ['+T', probe], { stdio: 'ignore' })
    return execFileSync('lsattr', ['-d', probe], { encoding: 'utf8' }).split(' ')[0].includes('T')
  } catch {
    return false
  } finally {
    fs.rmSync(probe, { recursive: true, force: true })
  }
}

describe('embedded ClickHouse table tuning', () => {
  it('widens merges of the group-committed tables, and migrating again keeps it so', async () => {
    const settings = () =>
      afterMigrating(async (ch) => {
        const r = await ch.client.query({
          query:
            "SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() AND name IN ('events', 'exposures', 'suppressions') ORDER BY name",
          format: 'JSONEachRow',
        })
        return Object.fromEntries(
          (await r.json<{ name: string; create_table_query: string }>()).map((t) => [
            t.name,
            /merge_selector_base = (\d+)/.exec(t.create_table_query)?.[1] ?? null,
          ]),
        )
      })
    expect(await settings()).toEqual({ events: '20', exposures: '20', suppressions: null })
    // A restart runs the migrations again over the same data directory.
    expect(await settings()).toEqual({ events: '20', exposures: '20', suppressions: null })
  })

  // The attribute exists only on ext4 (and a few others); elsewhere the server skips it, so there is nothing to see.
  it.skipIf(!topDirectorySupported())('marks every MergeTree table directory so ext4 spreads its part directories', async () => {
    const marked = await afterMigrating(async (ch) => {
      const r = await ch.client.query({
        query: "SELECT name, arrayJoin(data_paths) AS path FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' ORDER BY name",
        format: 'JSONEachRow',
      })
      return (await r.json<{ name: string; path: string }>()).map((t) => [
        t.name,
        execFileSync('lsattr', ['-d', t.path], { encoding: 'utf8' }).split(' ')[0].includes('T'),
      ])
    })
    expect(marked.map(([name]) => name)).toEqual(expect.arrayContaining(['events', 'exposures', 'suppressions']))
    expect(marked.filter(([, topDir]) => !topDir)).toEqual([])
  })
})
