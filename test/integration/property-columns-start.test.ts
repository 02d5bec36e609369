import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it, vi } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'
import { openClickHouse } from '../../api/stores/clickhouse.ts'
import { propertyColumnName } from '../../api/stores/property-columns.ts'

// A metric saved while PROPERTY_COLUMNS=0 (or before property columns existed) gets its keys' columns when the
// server starts with them on (bin/server.ts), in the background.
const KEY = 'rl_property_columns_admin_key_32_chars_min'
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-property-columns-'))
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

const logLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)

it('adds the columns of metrics saved without them at the next start', async () => {
  const first = await startServer({ dataDir, port: await freePort(), adminKey: KEY, env: { PROPERTY_COLUMNS: '0' } })
  try {
    const res = await fetch(`${first.base}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        key: 'pro_orders',
        name: 'Orders on the pro plan',
        kind: 'mean',
        source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'plan.tier', op: 'eq', value: 'pro' }] },
        value: { of: 'count' },
        window: { endDays: 30 },
      }),
    })
    expect(res.status).toBe(201)
  } finally {
    expect(await first.kill('SIGTERM')).toBe(0)
  }
  expect(logLines(first.stdout()).some((l) => String(l.msg).startsWith('property columns added'))).toBe(false)

  const second = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
  try {
    await vi.waitFor(
      () => expect(logLines(second.stdout()).find((l) => l.msg === 'property columns added for saved metrics')).toMatchObject({ keys: ['plan'] }),
      {
        timeout: 120_000,
        interval: 200,
      },
    )
  } finally {
    expect(await second.kill('SIGTERM')).toBe(0)
  }

  const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
  try {
    const rs = await ch.client.query({
      query: `SELECT name, type, default_expression FROM system.columns WHERE database = currentDatabase() AND table = 'events' AND startsWith(name, 'pk_')`,
      format: 'JSONEachRow',
    })
    expect(await rs.json()).toEqual([{ name: propertyColumnName('plan'), type: 'String', default_expression: "properties_map['plan']" }])
  } finally {
    await ch.close()
  }
}, 600_000)
