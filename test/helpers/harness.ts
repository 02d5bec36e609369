import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openPostgres } from '../../api/stores/postgres.ts'
import { openClickHouse } from '../../api/stores/clickhouse.ts'
import { migrateClickHouse, migratePostgres } from '../../api/stores/migrate.ts'
import { createKey } from '../../api/auth/keys.ts'
import { createApp, type AppDeps } from '../../api/app.ts'
import { jsonClient } from './server-client.ts'

export const ADMIN_KEY = 'rl_test_admin_key'

/**
 * Real embedded stores in a temp directory, migrated, with an app over them. chDB binds one data directory
 * per process, so a test file opens one harness in beforeAll and shares it.
 */
export async function openHarness(opts: Partial<Pick<AppDeps, 'now' | 'events' | 'featureRefresh'>> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-test-'))
  const db = await openPostgres({ databaseUrl: null, dataDir })
  const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
  await migratePostgres(db)
  await migrateClickHouse(ch)
  await createKey(db, { name: 'test admin', role: 'admin', key: ADMIN_KEY }, 'test')
  const retention = await createApp({ db, ch, now: opts.now, events: opts.events, featureRefresh: opts.featureRefresh, uiDir: path.join(dataDir, 'no-ui') })

  const { call } = jsonClient((url, init) => retention.app.request(url, init), ADMIN_KEY)

  async function chQuery<T = Record<string, unknown>>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const r = await ch.client.query({ query, query_params: params, format: 'JSONEachRow' })
    return r.json<T>()
  }

  return {
    dataDir,
    db,
    ch,
    retention,
    app: retention.app,
    call,
    chQuery,
    async keyFor(role: 'admin' | 'editor' | 'ingest' | 'viewer') {
      return (await createKey(db, { name: `${role} key`, role }, 'test')).key
    },
    async close() {
      await retention.close()
      await ch.close()
      await db.destroy()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
export type Harness = Awaited<ReturnType<typeof openHarness>>

export function twoArmExperiment(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: `Experiment ${id}`,
    arms: [
      { key: 'control', name: 'Control message', weight: 0.5, isControl: true, offer: { type: 'none', value: 0 } },
      { key: 'pct15', name: '15% off', weight: 0.5, offer: { type: 'percent_off', value: 15, unitCost: 6 } },
    ],
    ...extra,
  }
}
