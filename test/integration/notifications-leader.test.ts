import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Kysely } from 'kysely'
import type { Database } from '../../api/stores/schema.ts'
import { openPostgres } from '../../api/stores/postgres.ts'
import { withAdvisoryLock, SCHEDULER_LOCK } from '../../api/notifications/leader.ts'
import { freePort } from '../helpers/server-process.ts'

/**
 * Issue 21: scheduled work runs in one process at a time. Two connection pools to one real Postgres server stand for
 * two API processes; while one holds the scheduler's advisory lock the other skips its round, and the lock is given
 * back even when the work fails. Skipped when the PostgreSQL 15 server binaries are not installed.
 */
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'
const available = fs.existsSync(path.join(BIN, 'initdb'))
let dir = ''
let port = 0
let a: Kysely<Database>
let b: Kysely<Database>

/** Runs a server binary, as the postgres user when the tests run as root (initdb and postgres refuse root). */
function pg(cmd: string, args: string[]) {
  const asRoot = process.getuid?.() === 0
  execFileSync(asRoot ? 'runuser' : path.join(BIN, cmd), asRoot ? ['-u', 'postgres', '--', path.join(BIN, cmd), ...args] : args, { stdio: 'ignore' })
}

beforeAll(async () => {
  if (!available) return
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-pg-'))
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir])
  port = await freePort()
  pg('initdb', ['-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=trust'])
  // The server's output goes to a file: a pipe it inherited would keep pg_ctl's caller waiting.
  pg('pg_ctl', ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-w', 'start'])
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  a = await openPostgres({ databaseUrl: url, dataDir: dir })
  b = await openPostgres({ databaseUrl: url, dataDir: dir })
}, 120_000)
afterAll(async () => {
  await a?.destroy()
  await b?.destroy()
  if (dir) {
    try {
      pg('pg_ctl', ['-D', path.join(dir, 'data'), '-m', 'fast', '-w', 'stop'])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
})

describe.skipIf(!available)('the scheduler lock on a Postgres server', () => {
  it('lets one process run the round while the other skips it, then lets the other take it', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let entered!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const first = withAdvisoryLock(a, SCHEDULER_LOCK, async () => {
      entered()
      await held
    })
    await inside
    let secondRan = false
    expect(await withAdvisoryLock(b, SCHEDULER_LOCK, async () => void (secondRan = true))).toBe(false)
    expect(secondRan).toBe(false)
    release()
    expect(await first).toBe(true)
    expect(await withAdvisoryLock(b, SCHEDULER_LOCK, async () => void (secondRan = true))).toBe(true)
    expect(secondRan).toBe(true)
  })

  it('gives the lock back when the round fails', async () => {
    await expect(
      withAdvisoryLock(a, SCHEDULER_LOCK, async () => {
        throw new Error('report failed')
      }),
    ).rejects.toThrow('report failed')
    expect(await withAdvisoryLock(b, SCHEDULER_LOCK, async () => undefined)).toBe(true)
  })
})
