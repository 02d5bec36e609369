import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'

// Issue 16, item 9: the eventId is the idempotency key, and the answer to a resend must not depend on what the
// process remembers. A copy (same id, same payload) is a duplicate; the same id with another customer or amount
// is refused by row, before and after a restart, and never stored or counted.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-idempotency-'))
const KEY = 'rl_idempotency_admin_key_32_chars_long'
let server: Awaited<ReturnType<typeof startServer>> | undefined
afterAll(async () => {
  await server?.kill('SIGTERM')
  fs.rmSync(dataDir, { recursive: true, force: true })
})

const ts = '2026-11-20T10:00:00Z'
const purchase = (eventId: string, customerId: string, revenue: number) => ({ eventId, customerId, type: 'purchase', ts, revenue })

async function post(events: unknown[]) {
  const r = await fetch(`${server!.base}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  })
  return {
    status: r.status,
    body: (await r.json()) as { accepted: number; duplicates: number; rejected: Array<{ index: number; field: string | null; code: string }> },
  }
}

/** The same questions, asked before and after the restart: the answers must be identical. */
async function ask(round: string) {
  const copy = await post([purchase('idem-1', 'c1', 10)])
  const otherCustomer = await post([purchase('idem-1', 'c2', 10)])
  const otherRevenue = await post([purchase('idem-1', 'c1', 11)])
  const mixed = await post([purchase(`idem-new-${round}`, 'c3', 5), purchase('idem-1', 'c9', 99), purchase('idem-1', 'c1', 10)])
  return { copy, otherCustomer, otherRevenue, mixed }
}

describe('a reused eventId', () => {
  it('is a duplicate when the payload matches and a per-row rejection when it does not, the same before and after a restart', async () => {
    server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
    expect(await post([purchase('idem-1', 'c1', 10)])).toMatchObject({ status: 200, body: { accepted: 1, duplicates: 0, rejected: [] } })

    const before = await ask('a')
    const reused = { index: 0, field: 'eventId', code: 'event_id_reused' }
    expect(before.copy).toMatchObject({ status: 200, body: { accepted: 0, duplicates: 1, rejected: [] } })
    // Every row refused: the request as a whole is unprocessable, and the row still says why.
    expect(before.otherCustomer.status).toBe(422)
    expect(before.otherCustomer.body).toMatchObject({ accepted: 0, duplicates: 0, rejected: [reused] })
    expect(before.otherRevenue.body).toMatchObject({ accepted: 0, duplicates: 0, rejected: [reused] })
    expect(before.mixed).toMatchObject({ status: 200, body: { accepted: 1, duplicates: 1, rejected: [{ ...reused, index: 1 }] } })

    await server.kill('SIGTERM')
    server = await startServer({ dataDir, port: await freePort(), adminKey: KEY })
    const after = await ask('b')
    expect(after).toEqual(before)
  }, 180_000)

  it('is never stored under another customer or amount', async () => {
    // Read back through ClickHouse after the server stops, with FINAL as the reports read it.
    await server!.kill('SIGTERM')
    server = undefined
    const { openClickHouse } = await import('../../api/stores/clickhouse.ts')
    const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
    try {
      const r = await ch.client.query({
        query: "SELECT event_id, customer_id, revenue FROM events FINAL WHERE startsWith(event_id, 'idem-') ORDER BY event_id",
        format: 'JSONEachRow',
      })
      expect(await r.json()).toEqual([
        { event_id: 'idem-1', customer_id: 'c1', revenue: 10 },
        { event_id: 'idem-new-a', customer_id: 'c3', revenue: 5 },
        { event_id: 'idem-new-b', customer_id: 'c3', revenue: 5 },
      ])
    } finally {
      await ch.close()
    }
  }, 60_000)
})
