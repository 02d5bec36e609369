import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'

let h: Harness
beforeAll(async () => {
  h = await openHarness()
})
afterAll(() => h.close())

const auditCount = async () =>
  (
    await h.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
  ).n
const experimentCount = async () =>
  (
    await h.db
      .selectFrom('experiments')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
  ).n

describe('experiments API', () => {
  it('creates a draft with defaults, derives the id from the name and lists it by status', async () => {
    const res = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('x'), id: undefined, name: 'Win-back: lapsed 60–180d' })
    expect(res.status).toBe(201)
    expect(res.body.id).toBe('win-back-lapsed-60-180d')
    expect(res.body.status).toBe('draft')
    expect(res.body.seed).toBe('win-back-lapsed-60-180d')
    expect(res.body.analysis).toMatchObject({ attributionDays: 30, ltvDays: 90, alpha: 0.05, cuped: { enabled: true }, sequential: { enabled: false } })
    // The same name again is refused with a free one to use; a different name with the same slug gets a suffix.
    const same = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('x'), id: undefined, name: ' win-back: LAPSED 60–180d ' })
    expect(same.status).toBe(409)
    expect(same.body.error).toMatchObject({ code: 'name_taken', field: 'name', message: expect.stringContaining("'win-back: LAPSED 60–180d (2)'") })
    const again = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('x'), id: undefined, name: 'Win-back — lapsed 60–180d' })
    expect(again.body.id).toBe('win-back-lapsed-60-180d-2')
    const drafts = await h.call('GET', '/v1/experiments?status=draft')
    expect(drafts.body.experiments.map((e: any) => e.id)).toEqual(expect.arrayContaining(['win-back-lapsed-60-180d', 'win-back-lapsed-60-180d-2']))
    const running = await h.call('GET', '/v1/experiments?status=running')
    expect(running.body.experiments).toEqual([])
  })

  it('walks the lifecycle draft → running ⇄ paused → stopped and refuses other transitions', async () => {
    await h.call('POST', '/v1/experiments', twoArmExperiment('life'))
    expect((await h.call('POST', '/v1/experiments/life/pause')).status).toBe(409)
    const started = await h.call('POST', '/v1/experiments/life/start')
    expect(started.body.status).toBe('running')
    expect(started.body.startedAt).toBeTruthy()
    expect((await h.call('POST', '/v1/experiments/life/start')).body.error.code).toBe('invalid_transition')
    expect((await h.call('POST', '/v1/experiments/life/pause')).body.status).toBe('paused')
    expect((await h.call('POST', '/v1/experiments/life/resume')).body.status).toBe('running')
    const stopped = await h.call('POST', '/v1/experiments/life/stop')
    expect(stopped.body.status).toBe('stopped')
    expect(stopped.body.stoppedAt).toBeTruthy()
    expect((await h.call('POST', '/v1/experiments/life/resume')).status).toBe(409)
  })

  it('lets a draft change anything, then freezes seed, arms and weights once started; coverage may only grow', async () => {
    await h.call('POST', '/v1/experiments', twoArmExperiment('frozen', { coverage: 0.2 }))
    const edited = await h.call('PATCH', '/v1/experiments/frozen', { seed: 'new-seed', holdoutPct: 0.1 })
    expect(edited.status).toBe(200)
    expect(edited.body.seed).toBe('new-seed')
    await h.call('POST', '/v1/experiments/frozen/start')
    const arms = twoArmExperiment('frozen').arms
    const reweighted = [
      { ...arms[0], weight: 0.3 },
      { ...arms[1], weight: 0.7 },
    ]
    for (const [field, value] of [
      ['arms', reweighted],
      ['seed', 'other'],
      ['holdoutPct', 0.2],
      ['targeting', { tier: 'gold' }],
    ] as const) {
      const before = await auditCount()
      const res = await h.call('PATCH', '/v1/experiments/frozen', { [field]: value })
      expect(res.status, field).toBe(409)
      expect(res.body.error).toMatchObject({ code: 'frozen', field })
      expect(await auditCount()).toBe(before)
    }
    const shrink = await h.call('PATCH', '/v1/experiments/frozen', { coverage: 0.1 })
    expect(shrink.status).toBe(409)
    expect(shrink.body.error.field).toBe('coverage')
    const grow = await h.call('PATCH', '/v1/experiments/frozen', { coverage: 0.5, name: 'Renamed' })
    expect(grow.status).toBe(200)
    expect(grow.body).toMatchObject({ coverage: 0.5, name: 'Renamed', seed: 'new-seed', holdoutPct: 0.1 })
  })

  it('records notes and a decision naming an existing arm', async () => {
    await h.call('POST', '/v1/experiments', twoArmExperiment('notes', { hypothesis: '15% off brings lapsed customers back' }))
    expect((await h.call('POST', '/v1/experiments/notes/notes', { kind: 'note', body: 'week 1 looks fine' })).status).toBe(201)
    const bad = await h.call('POST', '/v1/experiments/notes/notes', { kind: 'decision', body: 'ship it', chosenArm: 'nope' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('chosenArm')
    const decision = await h.call('POST', '/v1/experiments/notes/notes', { kind: 'decision', body: 'ship 15% off', chosenArm: 'pct15' })
    expect(decision.status).toBe(201)
    const notes = await h.call('GET', '/v1/experiments/notes/notes')
    expect(notes.body.notes.map((n: any) => n.kind)).toEqual(['hypothesis', 'note', 'decision'])
    expect((await h.call('GET', '/v1/experiments/notes')).body.decision).toMatchObject({ chosenArm: 'pct15', body: 'ship 15% off' })
  })

  it('writes every change to the audit log with actor and before/after', async () => {
    await h.call('POST', '/v1/experiments', twoArmExperiment('audited'))
    await h.call('PATCH', '/v1/experiments/audited', { name: 'Audited test' })
    await h.call('POST', '/v1/experiments/audited/start')
    const log = await h.call('GET', '/v1/audit?entityType=experiment&entityId=audited')
    expect(log.body.entries.map((e: any) => e.action)).toEqual(['experiment.start', 'experiment.update', 'experiment.create'])
    const update = log.body.entries[1]
    expect(update.actor).toMatch(/^key_[0-9a-f]{12} \(test admin\)$/)
    expect(update.before.name).toBe('Experiment audited')
    expect(update.after.name).toBe('Audited test')
    expect(log.body.entries[0]).toMatchObject({ before: { status: 'draft' }, after: { status: 'running' } })
  })

  it('keeps the global holdout in settings and refuses to move it while experiments are active', async () => {
    const settings = await h.call('GET', '/v1/settings')
    expect(settings.body).toEqual({ globalHoldoutPct: 0.05, globalHoldoutSeed: 'global-holdout' })
    const res = await h.call('PUT', '/v1/settings', { globalHoldoutPct: 0.1 })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('experiments_active')
    expect((await h.call('PUT', '/v1/settings', { globalHoldoutPct: 0.9 })).status).toBe(400)
  })

  describe('rejects bad input with a 4xx naming the problem and writes nothing', () => {
    const arms = twoArmExperiment('x').arms
    const cases: Array<[string, unknown, number, string | undefined]> = [
      ['weights not summing to 1', { ...twoArmExperiment('bad1'), arms: [{ ...arms[0], weight: 0.6 }, arms[1]] }, 400, 'arms'],
      ['two controls', { ...twoArmExperiment('bad2'), arms: [arms[0], { ...arms[1], isControl: true }] }, 400, 'arms'],
      ['no control', { ...twoArmExperiment('bad3'), arms: [{ ...arms[0], isControl: false }, arms[1]] }, 400, 'arms'],
      ['one arm', { ...twoArmExperiment('bad4'), arms: [{ ...arms[0], weight: 1 }] }, 400, 'arms'],
      ['duplicate arm keys', { ...twoArmExperiment('bad5'), arms: [arms[0], { ...arms[1], key: 'control' }] }, 400, 'arms.1.key'],
      ['reserved arm key', { ...twoArmExperiment('bad6'), arms: [arms[0], { ...arms[1], key: 'holdout' }] }, 400, 'arms.1.key'],
      ['malformed id', { ...twoArmExperiment('Bad Id!') }, 400, 'id'],
      ['holdout above 50%', { ...twoArmExperiment('bad7'), holdoutPct: 0.6 }, 400, 'holdoutPct'],
      ['unknown offer type', { ...twoArmExperiment('bad8'), arms: [arms[0], { ...arms[1], offer: { type: 'bribe', value: 1 } }] }, 400, 'arms.1.offer.type'],
      ['unknown targeting operator', { ...twoArmExperiment('bad9'), targeting: { tier: { $like: 'gold' } } }, 400, undefined],
      ['namespace with an empty range', { ...twoArmExperiment('bad10'), namespace: { name: 'winback', range: [0.5, 0.5] } }, 400, 'namespace.range'],
    ]
    for (const [name, body, status, field] of cases) {
      it(name, async () => {
        const [auditBefore, expBefore] = [await auditCount(), await experimentCount()]
        const res = await h.call('POST', '/v1/experiments', body)
        expect(res.status).toBe(status)
        expect(res.body.error.code).toBeTypeOf('string')
        expect(res.body.error.message).toBeTypeOf('string')
        if (field) expect(res.body.error.field).toBe(field)
        else expect(res.body.error.field).toMatch(/^targeting/)
        expect(await auditCount()).toBe(auditBefore)
        expect(await experimentCount()).toBe(expBefore)
      })
    }

    it('a body that is not JSON', async () => {
      const before = await experimentCount()
      const res = await h.call('POST', '/v1/experiments', '{"name": ')
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('invalid_json')
      expect(await experimentCount()).toBe(before)
    })

    it('an unknown experiment', async () => {
      const res = await h.call('GET', '/v1/experiments/does-not-exist')
      expect(res.status).toBe(404)
      expect(res.body.error.code).toBe('not_found')
      expect((await h.call('POST', '/v1/experiments/does-not-exist/start')).status).toBe(404)
    })

    it('an oversized body', async () => {
      const res = await h.call('POST', '/v1/experiments', { ...twoArmExperiment('huge'), hypothesis: 'x'.repeat(2 * 1024 * 1024) })
      expect(res.status).toBe(413)
      expect(res.body.error.code).toBe('payload_too_large')
      expect((await h.call('GET', '/v1/experiments/huge')).status).toBe(404)
    })
  })
})
