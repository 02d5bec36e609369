import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { ClickHouse } from './clickhouse.ts'

const run = promisify(execFile)

/**
 * Settings for embedded chDB only: a ClickHouse server keeps what its operator chose. Re-applied at every start
 * (after migrations): cheap and idempotent.
 */
export async function tuneEmbeddedTables(ch: ClickHouse): Promise<void> {
  await widenMerges(ch)
  await rememberInsertTokens(ch)
  await spreadPartDirectories(ch)
}

/**
 * The journal (stores/insert-journal.ts) inserts each segment with its name as `insert_deduplication_token` and
 * inserts it again after a crash that came between the insert and the segment's deletion. A MergeTree that is not
 * replicated ignores the token unless it remembers recent inserts: it keeps the last 1,000 here, at most a few
 * minutes of segments, far more than a crash can leave behind.
 */
async function rememberInsertTokens(ch: ClickHouse) {
  for (const table of ['exposures', 'suppressions'])
    await ch.client.command({ query: `ALTER TABLE ${table} MODIFY SETTING non_replicated_deduplication_window = 1000` })
}

/**
 * Embedded chDB shares the API's cores, and group commit writes many small parts. The default merge selector
 * (base 5) merges them in narrow steps, rewriting each row many times; a base of 20 merges wider and less
 * often, which measured about a quarter less CPU per ingested row with little change in the part count
 * (README → Benchmarks). Needs ClickHouse 24.11+, which chDB bundles.
 */
async function widenMerges(ch: ClickHouse) {
  for (const table of ['events', 'exposures']) await ch.client.command({ query: `ALTER TABLE ${table} MODIFY SETTING merge_selector_base = 20` })
}

/**
 * Every insert writes a part directory of ~10 small files, and chDB deletes merged parts at once. On ext4
 * without a journal the inode allocator skips inodes freed in the last ~30 s, re-reading each one, and it
 * starts from the parent directory's block group: with thousands of freshly deleted part files in that group,
 * each new file cost ~0.3 ms of kernel time and an exposure insert took 6–7 ms instead of 2.5 (README →
 * Benchmarks). The ext4 "top directory" attribute (chattr +T) makes the allocator spread a table's new part
 * directories over block groups, so the scans stay short. Filesystems without the attribute (tmpfs, xfs,
 * other systems, no chattr) refuse it harmlessly, and the table works as before.
 */
async function spreadPartDirectories(ch: ClickHouse) {
  const r = await ch.client.query({
    query: "SELECT arrayJoin(data_paths) AS path FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'",
    format: 'JSONEachRow',
  })
  for (const { path } of await r.json<{ path: string }>()) await run('chattr', ['+T', path]).catch(() => undefined)
}
