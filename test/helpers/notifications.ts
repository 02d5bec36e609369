import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { openPostgres } from '../../api/stores/postgres.ts'
import { openClickHouse } from '../../api/stores/clickhouse.ts'
import { migrateClickHouse, migratePostgres } from '../../api/stores/migrate.ts'
import { createKey } from '../../api/auth/keys.ts'
import { createApp } from '../../api/app.ts'
import type { NotificationOptions } from '../../api/notifications/options.ts'
import { jsonClient } from './server-client.ts'
import { ADMIN_KEY } from './harness.ts'

/**
 * A harness whose stores outlive the app: `restart()` closes the app and both stores and opens them again on the
 * same data directory, as a process restart would, so a test can show that the outbox loses nothing.
 */
export async function openNotificationHarness(opts: { now: () => number; notifications: NotificationOptions }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-notify-'))
  const open = async (first: boolean) => {
    const db = await openPostgres({ databaseUrl: null, dataDir })
    const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
    await migratePostgres(db)
    await migrateClickHouse(ch)
    if (first) await createKey(db, { name: 'test admin', role: 'admin', key: ADMIN_KEY }, 'test')
    const retention = await createApp({ db, ch, now: opts.now, notifications: opts.notifications, uiDir: path.join(dataDir, 'no-ui') })
    return { db, ch, retention }
  }
  let stores = await open(true)
  const h = {
    dataDir,
    get db() {
      return stores.db
    },
    get ch() {
      return stores.ch
    },
    get retention() {
      return stores.retention
    },
    get notifications() {
      return stores.retention.notifications
    },
    call: jsonClient((url, init) => stores.retention.app.request(url, init), ADMIN_KEY).call,
    async stop() {
      await stores.retention.close()
      await stores.ch.close()
      await stores.db.destroy()
    },
    async restart() {
      await h.stop()
      stores = await open(false)
    },
    async close() {
      await h.stop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return h
}

export interface Received {
  path: string
  headers: http.IncomingHttpHeaders
  body: string
}

/**
 * A local HTTP receiver: records every request and answers with the next status of `script` (the last one
 * repeats); 'hang' never answers.
 */
export async function openReceiver() {
  const received: Received[] = []
  let script: Array<number | 'hang'> = [200]
  const hanging = new Set<http.ServerResponse>()
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body })
      const next = script.length > 1 ? script.shift()! : script[0]
      if (next === 'hang') {
        hanging.add(res)
        return
      }
      res.writeHead(next, { 'content-type': 'text/plain' }).end(next >= 400 ? 'receiver says no' : 'ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    received,
    /** Answers from now on: e.g. [500, 500, 200]. */
    answer(...statuses: Array<number | 'hang'>) {
      script = statuses
    },
    on: (p: string) => received.filter((r) => r.path === p),
    async close() {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
