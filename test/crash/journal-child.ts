/**
 * A process that dies at a chosen point of the journal's life (test/crash/journal-sigkill.test.ts):
 * `after-insert` — chDB has taken a segment, and the process is killed before it deletes the segment;
 * `torn` — rows are acknowledged, then half a line is appended as a write cut short by a crash would leave it.
 * Usage: tsx test/crash/journal-child.ts <dataDir> <mode> <rows>
 */
import fs from 'node:fs'
import path from 'node:path'
import { loadConfig } from '../../api/config.ts'
import { openStores } from '../../api/stores/open.ts'
import { exposureLine, insertExposureLines, type ExposureRow } from '../../api/stores/exposures-table.ts'

const [dataDir, mode, count] = process.argv.slice(2)
const { ch } = await openStores(loadConfig({ DATA_DIR: dataDir }))
const journals = ch.journals!
const journal = journals.open<ExposureRow>({
  table: 'exposures',
  line: exposureLine,
  insert: async (lines, token) => {
    await insertExposureLines(journals.raw, lines, token)
    if (mode === 'after-insert') process.kill(process.pid, 'SIGKILL')
  },
  maxBatchRows: 1_000_000,
  maxPendingRows: 1_000_000,
  flushIntervalMs: 3_600_000,
})
const rows = Array.from({ length: Number(count) }, (_, i) => ({
  experiment_id: 'crash',
  customer_id: `j${i}`,
  arm: 'a',
  ts: Date.parse('2026-11-01T00:00:00Z') + i,
  attributes: {},
  source: 'assign',
}))
await journal.add(rows)
process.stdout.write('acknowledged\n')
if (mode === 'torn') {
  const dir = path.join(dataDir, 'journal', 'exposures')
  const [segment] = fs.readdirSync(dir)
  fs.appendFileSync(path.join(dir, segment), '["crash","j-torn","a",17')
  process.kill(process.pid, 'SIGKILL')
}
await journal.flush()
