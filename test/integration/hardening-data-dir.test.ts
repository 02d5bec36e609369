import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'

const KEY = 'rl_data_dir_admin_key_with_32_characters'
const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-data-dir-'))
afterAll(() => fs.rmSync(parent, { recursive: true, force: true }))

/** Every file and directory under `dir` (symbolic links have no mode of their own and are skipped). */
function walk(dir: string): Array<{ path: string; mode: number; isDir: boolean }> {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const p = path.join(dir, entry.name)
    if (entry.isSymbolicLink()) return []
    const here = { path: p, mode: fs.statSync(p).mode & 0o777, isDir: entry.isDirectory() }
    return entry.isDirectory() ? [here, ...walk(p)] : [here]
  })
}

describe('DATA_DIR permissions', () => {
  it('creates DATA_DIR 0700 and no file in it that group or others can read, whatever the umask it was started with', async () => {
    // The usual login umask, so that the check means something: without its own umask the server would make 0755/0644.
    const previous = process.umask(0o022)
    const dataDir = path.join(parent, 'data')
    const server = await startServer({ dataDir, port: await freePort(), adminKey: KEY }).finally(() => process.umask(previous))
    try {
      const post = (p: string, body: unknown) =>
        fetch(`${server.base}${p}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      const arms = [
        { key: 'a', name: 'A', weight: 0.5, isControl: true },
        { key: 'b', name: 'B', weight: 0.5 },
      ]
      expect((await post('/v1/experiments', { id: 'perms', name: 'Permissions', arms })).status).toBe(201)
      expect((await post('/v1/experiments/perms/start', {})).status).toBe(200)
      expect((await post('/v1/assign/batch', { experimentId: 'perms', customers: [{ customerId: 'c-1' }, { customerId: 'c-2' }] })).status).toBe(200)
      expect((await post('/v1/events', [{ eventId: 'e-1', customerId: 'c-1', type: 'purchase', ts: Date.now(), revenue: 10 }])).status).toBeLessThan(300)
    } finally {
      expect(await server.kill('SIGTERM')).toBe(0)
    }

    expect((fs.statSync(dataDir).mode & 0o777).toString(8)).toBe('700')
    const entries = walk(dataDir)
    expect(entries.some((e) => e.path.startsWith(path.join(dataDir, 'pg')) && !e.isDir)).toBe(true)
    expect(entries.some((e) => e.path.startsWith(path.join(dataDir, 'ch')) && !e.isDir)).toBe(true)
    const open = entries.filter((e) => e.mode & 0o077).map((e) => `${e.mode.toString(8)} ${path.relative(dataDir, e.path)}`)
    expect(open).toEqual([])
  })

  it('gives the migrate CLI the same owner-only files when it is the first to create DATA_DIR', () => {
    const previous = process.umask(0o022)
    const dataDir = path.join(parent, 'migrated')
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/migrate.ts'], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: { ...process.env, DATA_DIR: dataDir },
        encoding: 'utf8',
      })
      expect(r.status, r.stderr).toBe(0)
    } finally {
      process.umask(previous)
    }
    const entries = walk(dataDir)
    expect(entries.some((e) => e.path.startsWith(path.join(dataDir, 'ch')) && !e.isDir)).toBe(true)
    const open = [{ path: dataDir, mode: fs.statSync(dataDir).mode & 0o777 }, ...entries]
      .filter((e) => e.mode & 0o077)
      .map((e) => `${e.mode.toString(8)} ${path.relative(dataDir, e.path) || '.'}`)
    expect(open).toEqual([])
  }, 120_000)
})
