import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'

let h: Harness
beforeAll(async () => {
  h = await openHarness()
})
afterAll(() => h.close())

// The largest email the assignment endpoint accepts: attributes serialise to at most 16 KB.
const MAX_EMAIL = 16_384 - JSON.stringify({ email: '' }).length

describe('a catastrophic-backtracking targeting regex on the real server', () => {
  it('assigns a 16 KB "aaaa…!" email against ^(a+)+$ while /healthz keeps answering', async () => {
    const created = await h.call('POST', '/v1/experiments', {
      ...twoArmExperiment('redos'),
      targeting: { email: { $regex: '^(a+)+$' } },
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect((await h.call('POST', '/v1/experiments/redos/start')).status).toBe(200)

    const email = 'a'.repeat(MAX_EMAIL - 1) + '!'
    const started = performance.now()
    const assignment = h.call('POST', '/v1/assign', { experimentId: 'redos', customerId: 'cust-redos', attributes: { email } })
    const health = h.call('GET', '/healthz', undefined, null).then((res) => ({ res, ms: performance.now() - started }))
    const [assigned, healthz] = await Promise.all([assignment, health])
    const assignMs = performance.now() - started
    console.log(`16 KB ReDoS input: assignment answered in ${assignMs.toFixed(1)} ms, /healthz in ${healthz.ms.toFixed(1)} ms`)

    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200)
    expect(assigned.body).toMatchObject({ arm: null, inExperiment: false, reason: 'not_eligible' })
    expect(healthz.res.status).toBe(200)
    expect(healthz.res.body).toEqual({ status: 'ok' })
    // Backtracking takes seconds at 30 characters and forever at 16 KB; generous bounds for busy CI machines.
    expect(assignMs).toBeLessThan(2_000)
    expect(healthz.ms).toBeLessThan(2_000)

    const matching = await h.call('POST', '/v1/assign', {
      experimentId: 'redos',
      customerId: 'cust-redos-2',
      attributes: { email: 'a'.repeat(MAX_EMAIL) },
    })
    expect(matching.status, JSON.stringify(matching.body)).toBe(200)
    expect(matching.body.reason).not.toBe('not_eligible')
  })
})

describe('saving a targeting regex that needs backtracking', () => {
  it.each([
    ['a lookbehind', { email: { $regex: '(?<=@)example\\.com$' } }, 'targeting.email.$regex'],
    ['a backreference', { $or: [{ tier: 'gold' }, { email: { $regex: '^(\\w)\\1' } }] }, 'targeting.$or[1].email.$regex'],
    ['a lookahead', { email: { $not: { $regex: '^(?!test)' } } }, 'targeting.email.$not.$regex'],
  ])('refuses %s with 400 naming the field', async (_what, targeting, field) => {
    const created = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('bad-regex'), targeting })
    expect(created.status).toBe(400)
    expect(created.body.error.code).toBe('invalid_input')
    expect(created.body.error.field).toBe(field)
    expect(created.body.error.message).toContain(field)
    expect(created.body.error.message).toMatch(/linear-time engine/)
  })

  it('refuses the same pattern when a draft is updated, and a pattern over 1,000 characters', async () => {
    expect((await h.call('POST', '/v1/experiments', twoArmExperiment('draft-regex'))).status).toBe(201)
    const lookbehind = await h.call('PATCH', '/v1/experiments/draft-regex', { targeting: { email: { $regex: '(?<!no-)reply@' } } })
    expect(lookbehind.status).toBe(400)
    expect(lookbehind.body.error.field).toBe('targeting.email.$regex')
    const long = await h.call('PATCH', '/v1/experiments/draft-regex', { targeting: { email: { $regex: 'a'.repeat(1_001) } } })
    expect(long.status).toBe(400)
    expect(long.body.error).toMatchObject({ field: 'targeting.email.$regex', message: expect.stringMatching(/too long/) })
    const fine = await h.call('PATCH', '/v1/experiments/draft-regex', { targeting: { email: { $regex: '@example\\.com$' } } })
    expect(fine.status, JSON.stringify(fine.body)).toBe(200)
  })
})
