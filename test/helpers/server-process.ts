import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

/**
 * Runs `bin/server.ts` as a real child process on the given data directory, as `npm start` would, and returns
 * once `waitFor` answers 2xx (`/healthz` for a server that is expected never to be ready).
 */
export async function startServer(opts: { dataDir: string; port: number; adminKey: string; env?: Record<string, string>; waitFor?: '/readyz' | '/healthz' }) {
  const root = path.resolve(import.meta.dirname, '../..')
  // SERVER_NODE_ARGS passes flags to the server's node only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a benchmark.
  const nodeArgs = process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bin/server.ts'], {
    cwd: root,
    // MALLOC_ARENA_MAX as `npm start` sets it (package.json), so benchmarks measure the memory a user gets.
    env: {
      ...process.env,
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      DATA_DIR: opts.dataDir,
      PORT: String(opts.port),
      ADMIN_API_KEY: opts.adminKey,
      SEED_DEMO: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  // stdout alone is the JSON log stream (one object per line); `output` interleaves stderr too.
  let stdout = ''
  child.stdout!.on('data', (d) => {
    output += d
    stdout += d
  })
  child.stderr!.on('data', (d) => (output += d))
  const base = `http://127.0.0.1:${opts.port}`
  // Only a guard against a hung start: on a busy shared machine (load average 10 on 2 cores) tsx, chDB and the
  // migrations took over a minute before the first log line, so this waits for the condition, not a duration.
  const deadline = Date.now() + 240_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${output}`)
    try {
      const r = await fetch(`${base}${opts.waitFor ?? '/readyz'}`)
      if (r.ok) break
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not become ready:\n${output}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    base,
    child,
    output: () => output,
    stdout: () => stdout,
    kill: async (signal: NodeJS.Signals) => {
      child.kill(signal)
      return exited
    },
  }
}
