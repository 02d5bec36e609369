import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'

// Issue 18, forms that guide: every field error of a request at once, in plain words, and offers checked by type.
let h: Harness
beforeAll(async () => {
  h = await openHarness()
})
afterAll(() => h.close())

const saved = async () =>
  Number(
    (
      await h.db
        .selectFrom('experiments')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
const zodWords = /Too big|Too small|expected|Invalid input|received/

describe('experiment form errors', () => {
  it('answers four mistakes with four messages at once, each naming its field in plain words, and saves nothing', async () => {
    const before = await saved()
    const body = twoArmExperiment('four-mistakes', { name: '', holdoutPct: 0.8, analysis: { alpha: 0.5 } })
    body.arms[1] = { ...body.arms[1], name: '' }
    const res = await h.call('POST', '/v1/experiments', body)
    expect(res.status).toBe(400)
    const fields = res.body.error.fields as Array<{ field: string; message: string }>
    expect(fields.map((f) => f.field).sort()).toEqual(['analysis.alpha', 'arms.1.name', 'holdoutPct', 'name'])
    const byField = Object.fromEntries(fields.map((f) => [f.field, f.message]))
    expect(byField).toEqual({
      name: 'must not be empty',
      'arms.1.name': 'must not be empty',
      holdoutPct: 'must be at most 0.5',
      'analysis.alpha': 'must be at most 0.2',
    })
    for (const f of fields) expect(f.message).not.toMatch(zodWords)
    // Backwards compatible: the first problem is still `field` + `message`.
    expect(res.body.error.field).toBe(fields[0].field)
    expect(res.body.error.message).toBe(`${fields[0].field}: ${fields[0].message}`)
    expect(await saved()).toBe(before)
  })

  it.each([
    ['percent_off', 150, 'between 0 and 100'],
    ['percent_off', -5, 'must not be negative'],
    ['amount_off', 2_000_000, 'between 0 and 1,000,000'],
    ['loyalty_points', 12.5, 'whole number of points'],
    ['trial_extension', 400, 'whole number of days between 0 and 365'],
  ])('refuses a %s offer of %s and saves nothing', async (type, value, words) => {
    const before = await saved()
    const body = twoArmExperiment(`offer-${type}-${String(value).replace(/\W/g, '')}`)
    body.arms[1] = { ...body.arms[1], offer: { type, value } as never }
    const res = await h.call('POST', '/v1/experiments', body)
    expect(res.status).toBe(400)
    expect(res.body.error.fields).toEqual([{ field: 'arms.1.offer.value', message: expect.stringContaining(words) }])
    expect(await saved()).toBe(before)
  })

  it('accepts the largest sensible offers', async () => {
    const body = twoArmExperiment('offer-edges')
    body.arms[1] = { ...body.arms[1], offer: { type: 'percent_off', value: 100 } as never }
    expect((await h.call('POST', '/v1/experiments', body)).status).toBe(201)
  })

  it('names every missing field', async () => {
    const res = await h.call('POST', '/v1/experiments', { id: 'x-missing' })
    expect(res.status).toBe(400)
    expect(res.body.error.fields).toEqual([
      { field: 'name', message: 'is required' },
      { field: 'arms', message: 'is required' },
    ])
  })

  it('refuses renaming an experiment to a name in use, with a suggestion', async () => {
    await h.call('POST', '/v1/experiments', twoArmExperiment('rename-a'))
    await h.call('POST', '/v1/experiments', twoArmExperiment('rename-b'))
    const res = await h.call('PATCH', '/v1/experiments/rename-b', { name: 'experiment RENAME-A' })
    expect(res.status).toBe(409)
    expect(res.body.error).toMatchObject({ code: 'name_taken', field: 'name', message: expect.stringContaining('(2)') })
    expect((await h.call('GET', '/v1/experiments/rename-b')).body.name).toBe('Experiment rename-b')
    // Keeping its own name is not a clash.
    expect((await h.call('PATCH', '/v1/experiments/rename-b', { name: 'Experiment rename-b' })).status).toBe(200)
  })
})
