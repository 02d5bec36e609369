import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'

const KEY = 'rl_hardening_admin_key_with_32_chars_or_more'
const dirs: string[] = []
const freshDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-hardening-key-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

describe('ADMIN_API_KEY at start', () => {
  it('starts with a revoked ADMIN_API_KEY, keeps it revoked and prints a warning', async () => {
    const dataDir = freshDir()
    const port = await freePort()
    let server = await startServer({ dataDir, port, adminKey: KEY })
    const call = (method: string, p: string, key: string, body?: unknown) =>
      fetch(`${server.base}${p}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    const other = (await (await call('POST', '/v1/keys', KEY, { name: 'second admin', role: 'admin' })).json()) as { key: string }
    const keys = (await (await call('GET', '/v1/keys', KEY)).json()) as { keys: Array<{ id: string; name: string }> }
    const envKey = keys.keys.find((k) => k.name === 'ADMIN_API_KEY')!
    expect((await call('DELETE', `/v1/keys/${envKey.id}`, other.key)).status).toBe(204)
    expect(await server.kill('SIGTERM')).toBe(0)

    server = await startServer({ dataDir, port, adminKey: KEY })
    try {
      // Logged asynchronously: the line may reach the pipe after the server answers.
      const logged = server.output
      await vi.waitFor(() => expect(logged()).toMatch(/Warning: ADMIN_API_KEY is the revoked key key_\w+: it stays revoked/), {
        timeout: 30_000,
        interval: 100,
      })
      expect((await call('GET', '/v1/keys', KEY)).status).toBe(401)
      const after = (await (await call('GET', '/v1/keys', other.key)).json()) as { keys: Array<{ id: string; revokedAt: string | null }> }
      expect(after.keys.filter((k) => k.id === envKey.id).map((k) => k.revokedAt !== null)).toEqual([true])
    } finally {
      await server.kill('SIGTERM')
    }
  })

  it('refuses to start with an ADMIN_API_KEY shorter than 32 characters, saying so', () => {
    const dataDir = freshDir()
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/server.ts'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, DATA_DIR: dataDir, PORT: '0', ADMIN_API_KEY: 'rl_short_admin_key', SEED_DEMO: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('Cannot start: ADMIN_API_KEY is 18 characters; it must be at least 32')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
