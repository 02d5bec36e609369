import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'

let h: Harness
let keys: Record<'admin' | 'editor' | 'ingest' | 'viewer', string>
beforeAll(async () => {
  h = await openHarness()
  keys = { admin: ADMIN_KEY, editor: await h.keyFor('editor'), ingest: await h.keyFor('ingest'), viewer: await h.keyFor('viewer') }
  await h.call('POST', '/v1/experiments', twoArmExperiment('auth-exp'))
  await h.call('POST', '/v1/experiments/auth-exp/start')
})
afterAll(() => h.close())

type Role = keyof typeof keys
const routes: Array<{ name: string; method: string; url: string; body?: () => unknown; allowed: Role[] }> = [
  { name: 'list experiments', method: 'GET', url: '/v1/experiments', allowed: ['admin', 'editor', 'viewer'] },
  {
    name: 'create experiment',
    method: 'POST',
    url: '/v1/experiments',
    body: () => ({ ...twoArmExperiment('x'), id: undefined, name: `auth ${Math.random()}` }),
    allowed: ['admin', 'editor'],
  },
  { name: 'pause experiment', method: 'POST', url: '/v1/experiments/auth-exp/pause', allowed: ['admin', 'editor'] },
  { name: 'assign', method: 'POST', url: '/v1/assign', body: () => ({ experimentId: 'auth-exp', customerId: 'c1' }), allowed: ['admin', 'ingest'] },
  {
    name: 'assign batch',
    method: 'POST',
    url: '/v1/assign/batch',
    body: () => ({ experimentId: 'auth-exp', customers: [{ customerId: 'c1' }] }),
    allowed: ['admin', 'ingest'],
  },
  { name: 'read audit', method: 'GET', url: '/v1/audit', allowed: ['admin', 'editor', 'viewer'] },
  { name: 'customer profile', method: 'GET', url: '/v1/customers/c1/profile', allowed: ['admin', 'editor', 'viewer'] },
  { name: 'list keys', method: 'GET', url: '/v1/keys', allowed: ['admin'] },
  { name: 'create key', method: 'POST', url: '/v1/keys', body: () => ({ name: 'k', role: 'viewer' }), allowed: ['admin'] },
  { name: 'change settings', method: 'PUT', url: '/v1/settings', body: () => ({}), allowed: ['admin'] },
]

describe('API keys and roles', () => {
  it('answers 401 without a key and with an unknown key, on every /v1 route', async () => {
    for (const r of routes) {
      const none = await h.call(r.method, r.url, r.body?.(), null)
      expect(none.status, r.name).toBe(401)
      expect(none.body.error.code).toBe('unauthorized')
      expect((await h.call(r.method, r.url, r.body?.(), 'rl_not_a_key')).status, r.name).toBe(401)
    }
  })

  for (const r of routes) {
    it(`enforces roles on ${r.name}`, async () => {
      for (const role of Object.keys(keys) as Role[]) {
        if (r.url.endsWith('/pause')) await h.call('POST', '/v1/experiments/auth-exp/resume')
        const res = await h.call(r.method, r.url, r.body?.(), keys[role])
        if (r.allowed.includes(role)) expect(res.status, `${role} on ${r.name}`).toBeLessThan(300)
        else {
          expect(res.status, `${role} on ${r.name}`).toBe(403)
          expect(res.body.error.code).toBe('forbidden')
        }
      }
    })
  }

  it('stores keys hashed, shows the key once, and stops accepting a revoked key', async () => {
    const created = await h.call('POST', '/v1/keys', { name: 'crm', role: 'ingest' })
    expect(created.status).toBe(201)
    const key: string = created.body.key
    expect(key).toMatch(/^rl_/)
    const rows = await h.db.selectFrom('api_keys').selectAll().execute()
    expect(JSON.stringify(rows)).not.toContain(key)
    const listed = await h.call('GET', '/v1/keys')
    expect(JSON.stringify(listed.body)).not.toContain(key)
    expect((await h.call('POST', '/v1/assign', { experimentId: 'auth-exp', customerId: 'c2' }, key)).status).toBe(200)
    expect((await h.call('DELETE', `/v1/keys/${created.body.id}`)).status).toBe(204)
    expect((await h.call('POST', '/v1/assign', { experimentId: 'auth-exp', customerId: 'c2' }, key)).status).toBe(401)
  })

  it('leaves /healthz, /readyz and the OpenAPI document public', async () => {
    expect((await h.call('GET', '/healthz', undefined, null)).status).toBe(200)
    const ready = await h.call('GET', '/readyz', undefined, null)
    expect(ready.body).toEqual({ status: 'ready', postgres: 'ok', clickhouse: 'ok' })
    const doc = await h.call('GET', '/v1/openapi.json', undefined, null)
    expect(doc.status).toBe(200)
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/experiments', '/v1/assign', '/v1/assign/batch', '/v1/keys']))
    expect(doc.body.components.schemas.ExperimentCreate).toBeTruthy()
    const docs = await h.call('GET', '/docs', undefined, null)
    expect(docs.body).toContain('/v1/assign/batch')
  })
})
