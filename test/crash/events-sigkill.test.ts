import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from '../helpers/server-process.ts'
import { openClickHouse } from '../../api/stores/clickhouse.ts'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-crash-'))
const KEY = 'rl_crash_admin_key_at_least_32_characters'
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

const T0 = Date.parse('2026-10-01T00:00:00Z')
const batchOf = (client: number, seq: number) =>
  Array.from({ length: 500 }, (_, i) => ({
    eventId: `k-${client}-${seq}-${i}`,
    customerId: `c${(seq * 500 + i) % 5000}`,
    type: 'purchase',
    ts: T0 + i,
    revenue: 1,
  }))

/** Sends batches from `clients` loops until the server dies; returns the ids of acknowledged events. */
async function loadUntilDead(base: string, clients: number, acked: Set<string>, sent: Map<string, object[]>) {
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let seq = 0; ; seq++) {
        const batch = batchOf(client, seq)
        sent.set(`${client}-${seq}`, batch)
        try {
          const res = await fetch(`${base}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          })
          if (res.status === 200) for (const e of batch) acked.add(e.eventId)
          else await res.arrayBuffer()
        } catch {
          return // connection refused/reset: the server is gone
        }
      }
    }),
  )
}

/** event_id → how many times a query over the deduplicated table counts it. */
async function storedCounts(): Promise<Map<string, number>> {
  const ch = await openClickHouse({ dataDir, clickhouse: { url: null, username: 'default', password: '', database: 'default', cluster: null } })
  const rows = await (
    await ch.client.query({ query: 'SELECT event_id, count() AS n FROM events FINAL GROUP BY event_id', format: 'JSONEachRow' })
  ).json<{ event_id: string; n: string }>()
  await ch.close()
  return new Map(rows.map((r) => [r.event_id, Number(r.n)]))
}

describe('crash safety of ingestion', () => {
  it('keeps every acknowledged event exactly once across a SIGKILL and restart', async () => {
    const port = await freePort()
    let server = await startServer({ dataDir, port, adminKey: KEY })
    const acked = new Set<string>()
    const sent = new Map<string, object[]>()
    const load = loadUntilDead(server.base, 6, acked, sent)
    // Let the load run, then kill the server without warning in the middle of it.
    await new Promise((r) => setTimeout(r, 2500))
    expect(acked.size).toBeGreaterThan(0)
    await server.kill('SIGKILL')
    await load
    const ackedAtKill = new Set(acked)

    // Recovery: the data directory opened fresh after the kill holds every acknowledged event, once.
    const afterKill = await storedCounts()
    expect([...ackedAtKill].filter((id) => !afterKill.has(id))).toEqual([])
    expect([...afterKill.values()].every((n) => n === 1)).toBe(true)

    // Restart the server on the same data; the load generator retries everything it sent (acknowledged or
    // not), as a client that does not know what was kept must do. Nothing may double.
    server = await startServer({ dataDir, port, adminKey: KEY })
    for (const batch of sent.values()) {
      const res = await fetch(`${server.base}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      })
      expect(res.status).toBe(200)
    }
    expect(await server.kill('SIGTERM')).toBe(0)
    const stored = await storedCounts()
    expect([...stored.values()].every((n) => n === 1)).toBe(true)
    expect(stored.size).toBe(sent.size * 500)
    console.log(
      `crash test: ${ackedAtKill.size} events acknowledged before SIGKILL, ${afterKill.size} found after it, ${stored.size} stored once each after retries`,
    )
  }, 180_000)
})
