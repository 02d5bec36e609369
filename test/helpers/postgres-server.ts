import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './server-process.ts'

/** Debian's PostgreSQL 15 server binaries (`.ci/run` installs the package when they are missing). */
export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin'

/**
 * Starts a throwaway PostgreSQL server: initdb into a temp directory, then `pg_ctl start` on a free port bound to
 * 127.0.0.1, its socket in that directory too — no system service, nothing outside the directory. PostgreSQL
 * refuses to run as root, so as root both run as the `postgres` user (runuser), which owns the directory.
 * `stop()` shuts it down (fast mode) and removes the directory. The URL's role is a superuser without password
 * (trust authentication on the loopback only).
 */
export async function startPostgresServer(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  if (!fs.existsSync(path.join(POSTGRES_BIN, 'initdb'))) throw new Error(`PostgreSQL server binaries not found in ${POSTGRES_BIN}: apt-get install postgresql`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-pg-'))
  const data = path.join(dir, 'data')
  const asRoot = process.getuid?.() === 0
  const run = (bin: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(POSTGRES_BIN, bin), ...args]] : [path.join(POSTGRES_BIN, bin), args]
    return execFileSync(cmd, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir }).toString()
  }
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir])
  fs.chmodSync(dir, 0o700)
  run('initdb', ['-D', data, '-U', 'retention', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
  const port = await freePort()
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`
  run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start'])
  return {
    url: `postgres://retention@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
