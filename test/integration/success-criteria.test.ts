import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'

let h: Harness
beforeAll(async () => {
  h = await openHarness()
})
afterAll(() => h.close())

const count = async () => (await h.call('GET', '/v1/experiments')).body.experiments.length
const today = new Date().toISOString().slice(0, 10)

describe('pre-registered success criteria', () => {
  it.each([
    ['a negative minimum lift', { successCriteria: { minimumLift: -0.1 } }, 'analysis.successCriteria.minimumLift'],
    ['a planned end date that is not after today', { successCriteria: { minimumLift: 0.1, plannedEndDate: today } }, 'analysis.successCriteria.plannedEndDate'],
    [
      'a planned end date that is not a date',
      { successCriteria: { minimumLift: 0.1, plannedEndDate: '2027-02-30' } },
      'analysis.successCriteria.plannedEndDate',
    ],
    ['a margin on a metric that is not a guardrail', { guardrails: ['unsubscribe'], guardrailMargins: { revenue: 1 } }, 'analysis.guardrailMargins.revenue'],
  ])('refuses %s with a 400 naming the field, and saves nothing', async (_what, analysis, field) => {
    const before = await count()
    const res = await h.call('POST', '/v1/experiments', twoArmExperiment('criteria-bad', { analysis }))
    expect(res.status).toBe(400)
    expect(res.body.error.field).toBe(field)
    expect(await count()).toBe(before)
  })

  it('freezes the criteria and margins at start', async () => {
    const analysis = {
      guardrails: ['unsubscribe'],
      guardrailMargins: { unsubscribe: 0.003 },
      successCriteria: { minimumLift: 0.1, plannedSampleSizePerArm: 5000 },
    }
    expect((await h.call('POST', '/v1/experiments', twoArmExperiment('criteria-ok', { analysis }))).status).toBe(201)
    expect((await h.call('POST', '/v1/experiments/criteria-ok/start')).status).toBe(200)
    const res = await h.call('PATCH', '/v1/experiments/criteria-ok', { analysis: { ...analysis, successCriteria: { minimumLift: 0.02 } } })
    expect(res.status).toBe(409)
    expect(res.body.error.field).toBe('analysis.successCriteria')
    expect((await h.call('GET', '/v1/experiments/criteria-ok')).body.analysis.successCriteria).toEqual({ minimumLift: 0.1, plannedSampleSizePerArm: 5000 })
  })

  it('reports the planned sample and a day count while a young test keeps running', async () => {
    const report = (await h.call('GET', '/v1/experiments/criteria-ok/report')).body
    expect(report.recommendation.action).toBe('keep_running')
    expect(report.health.power).toMatchObject({ nPerArmNeeded: 5000, basis: 'planned', nPerArmReached: 0 })
    expect(report.testCriteria.find((c: any) => c.key === 'sample_size').status).toBe('unknown')
  })
})
