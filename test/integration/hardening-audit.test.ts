import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twoArmExperiment } from '../helpers/harness.ts'
import { openServer, type OpenServer } from '../helpers/server-client.ts'

// Issue 16, item 3, against the server as `npm start` runs it: the key given in ADMIN_API_KEY is the one
// acting below, and the server names it 'ADMIN_API_KEY'.
let s: OpenServer
beforeAll(async () => {
  s = await openServer('audit')
})
afterAll(async () => {
  await s?.close()
})

describe('audit log: key prefixes and actors', () => {
  it('shows a viewer the ids of created and revoked keys but never their prefixes', async () => {
    const created = await s.call('POST', '/v1/keys', { name: 'ingest box', role: 'ingest' })
    expect(created.status).toBe(201)
    expect(created.body.prefix).toBe(created.body.key.slice(0, 8))
    expect((await s.call('DELETE', `/v1/keys/${created.body.id}`)).status).toBe(204)
    const viewer = await s.keyFor('viewer')
    const editor = await s.keyFor('editor')

    for (const key of [viewer, editor]) {
      const log = await s.call('GET', '/v1/audit?entityType=api_key', undefined, key)
      expect(log.status).toBe(200)
      const entries = log.body.entries.filter((e: any) => e.entityId === created.body.id)
      expect(entries.map((e: any) => e.action)).toEqual(['key.revoke', 'key.create'])
      expect(entries[1].after).toMatchObject({ id: created.body.id, name: 'ingest box', role: 'ingest' })
      const text = JSON.stringify(log.body)
      expect(text).not.toContain('"prefix"')
      expect(text).not.toContain(created.body.prefix)
      // Unfiltered, too.
      expect(JSON.stringify((await s.call('GET', '/v1/audit?limit=1000', undefined, key)).body)).not.toContain(created.body.prefix)
    }

    const asAdmin = await s.call('GET', `/v1/audit?entityType=api_key&entityId=${created.body.id}`)
    expect(asAdmin.body.entries.at(-1).after.prefix).toBe(created.body.prefix)
  })

  it('records the acting key by id and name, so a key named like another is told apart', async () => {
    const impostor = await s.call('POST', '/v1/keys', { name: 'ADMIN_API_KEY', role: 'editor' })
    const keys = (await s.call('GET', '/v1/keys')).body.keys as Array<{ id: string; name: string }>
    const original = keys.find((k) => k.name === 'ADMIN_API_KEY' && k.id !== impostor.body.id)!

    await s.call('POST', '/v1/experiments', twoArmExperiment('actor-a'))
    await s.call('POST', '/v1/experiments', twoArmExperiment('actor-b'), impostor.body.key)
    const actorOf = async (id: string) => (await s.call('GET', `/v1/audit?entityType=experiment&entityId=${id}`)).body.entries[0].actor
    expect(await actorOf('actor-a')).toBe(`${original.id} (ADMIN_API_KEY)`)
    expect(await actorOf('actor-b')).toBe(`${impostor.body.id} (ADMIN_API_KEY)`)

    const keyLog = await s.call('GET', `/v1/audit?entityType=api_key&entityId=${impostor.body.id}`)
    expect(keyLog.body.entries[0].actor).toBe(`${original.id} (ADMIN_API_KEY)`)
  })
})
