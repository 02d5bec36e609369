import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'
import { openClickHouse, type ClickHouse } from '../../api/stores/clickhouse.ts'
import { exposureWriter } from '../../api/exposures/writer.ts'
import { twoArmExperiment } from '../helpers/harness.ts'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-journal-crash-'))
  dirs.push(dir)
  return dir
}
const openCh = (dataDir: string) =>
  openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })

/** customer_id → rows, read from the table as stored (no FINAL, no deduplicating query). */
async function exposureCounts(ch: ClickHouse, experiment: string): Promise<Map<string, number>> {
  const rows = await (
    await ch.client.query({
      query: 'SELECT customer_id, count() AS n FROM exposures WHERE experiment_id = {e:String} GROUP BY customer_id',
      query_params: { e: experiment },
      format: 'JSONEachRow',
    })
  ).json<{ customer_id: string; n: string }>()
  return new Map(rows.map((r) => [r.customer_id, Number(r.n)]))
}

/** Runs test/crash/journal-child.ts and waits for it to die; returns its output. */
function runChild(dataDir: string, mode: 'after-insert' | 'torn', rows: number): Promise<{ signal: NodeJS.Signals | null; output: string }> {
  const root = path.resolve(import.meta.dirname, '../..')
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/crash/journal-child.ts', dataDir, mode, String(rows)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve({ signal, output })))
}

/** The next start: the exposure writer replays what the dead process left; flush waits until chDB has it. */
async function restart(dataDir: string) {
  const { migrateClickHouse } = await import('../../api/stores/migrate.ts')
  const ch = await openCh(dataDir)
  await migrateClickHouse(ch)
  const writer = exposureWriter(ch)
  const replayed = writer.pendingRows
  await writer.close()
  const counts = await exposureCounts(ch, 'crash')
  const left = fs.readdirSync(path.join(dataDir, 'journal', 'exposures'))
  await ch.close()
  return { replayed, counts, left }
}

describe('the exposure journal across crashes', () => {
  it('stores a segment once when the process died after chDB took it and before the segment was deleted', async () => {
    const dataDir = tempDir()
    const child = await runChild(dataDir, 'after-insert', 500)
    expect(child.output).toContain('acknowledged')
    expect(child.signal).toBe('SIGKILL')
    // The segment is still there, and chDB already holds its rows.
    expect(fs.readdirSync(path.join(dataDir, 'journal', 'exposures'))).toHaveLength(1)
    const { replayed, counts, left } = await restart(dataDir)
    expect(replayed).toBe(500)
    expect(counts.size).toBe(500)
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
    expect(left).toEqual([])
  }, 120_000)

  it('inserts acknowledged rows a crash left in the journal and skips the line it tore', async () => {
    const dataDir = tempDir()
    const child = await runChild(dataDir, 'torn', 300)
    expect(child.output).toContain('acknowledged')
    expect(child.signal).toBe('SIGKILL')
    const { replayed, counts, left } = await restart(dataDir)
    expect(replayed).toBe(300)
    expect(counts.size).toBe(300)
    expect(counts.has('j-torn')).toBe(false)
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
    expect(left).toEqual([])
  }, 120_000)

  it('keeps every acknowledged assignment exactly once across a SIGKILL of the server and a restart', async () => {
    const dataDir = tempDir()
    const KEY = 'rl_journal_crash_admin_key_at_least_32_chars'
    const port = await freePort()
    let server = await startServer({ dataDir, port, adminKey: KEY })
    const call = (method: string, url: string, body?: unknown) =>
      fetch(`${server.base}${url}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    expect((await call('POST', '/v1/experiments', twoArmExperiment('crash'))).status).toBe(201)
    expect((await call('POST', '/v1/experiments/crash/start')).status).toBe(200)
    const acked = new Set<string>()
    let next = 0
    let dead = false
    const clients = Array.from({ length: 8 }, async () => {
      while (!dead) {
        const customerId = `s${next++}`
        try {
          const res = await call('POST', '/v1/assign', { experimentId: 'crash', customerId })
          if (res.status === 200 && (await res.json()).arm) acked.add(customerId)
        } catch {
          return // the server is gone
        }
      }
    })
    // Kill it while assignments are still arriving, well inside a journal interval of the last ones.
    while (acked.size < 2000) await new Promise((r) => setImmediate(r))
    await server.kill('SIGKILL')
    dead = true
    await Promise.all(clients)

    server = await startServer({ dataDir, port, adminKey: KEY })
    expect(await server.kill('SIGTERM')).toBe(0)
    const ch = await openCh(dataDir)
    const counts = await exposureCounts(ch, 'crash')
    await ch.close()
    expect([...acked].filter((c) => !counts.has(c))).toEqual([])
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
    console.log(`journal crash test: ${acked.size} assignments acknowledged before SIGKILL, ${counts.size} stored, each once`)
  }, 300_000)
})
