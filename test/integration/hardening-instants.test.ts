import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twoArmExperiment } from '../helpers/harness.ts'
import { openServer, type OpenServer } from '../helpers/server-client.ts'
import { parseInstant } from '../../api/http/params.ts'

// Issue 16, item 7 (query instants), against the server as `npm start` runs it, over HTTP.
let s: OpenServer
beforeAll(async () => {
  s = await openServer('instants')
  expect((await s.call('POST', '/v1/experiments', twoArmExperiment('instants'))).status).toBe(201)
  expect((await s.call('POST', '/v1/experiments/instants/start')).status).toBe(200)
})
afterAll(async () => {
  await s?.close()
})

const refused = [
  ['99999999999999999999', /between 2000-01-01 and a year from now/],
  ['-1', /ISO-8601/],
  ['1.5', /ISO-8601/],
  ['1e12', /ISO-8601/],
  ['0', /between 2000-01-01/],
  ['946684799999', /between 2000-01-01/],
  ['1999-12-31', /between 2000-01-01/],
  ['9999-01-01', /between 2000-01-01 and a year from now/],
  ['2026-02-30', /2026-02-30 is not a calendar date/],
  ['2025-02-29', /not a calendar date/],
  ['2026-13-01', /not a calendar date/],
  ['2026-03-01T25:00', /not a valid time of day/],
  ['March 3, 2026', /ISO-8601/],
] as const

describe('instants in query strings', () => {
  it.each([
    ['report', '/v1/experiments/instants/report?asOf=', 'asOf'],
    ['timeseries', '/v1/experiments/instants/timeseries?asOf=', 'asOf'],
    ['kpis from', '/v1/kpis?from=', 'from'],
    ['kpis to', '/v1/kpis?to=', 'to'],
  ])('refuses an instant out of range or not a real date with a 400 naming the field (%s)', async (_name, url, field) => {
    for (const [value, message] of refused) {
      const res = await s.call('GET', `${url}${encodeURIComponent(value)}`)
      expect(res.status, `${field}=${value}`).toBe(400)
      expect(res.body.error.field).toBe(field)
      expect(res.body.error.message).toMatch(message)
    }
  })

  it('accepts ISO dates, date-times and epoch milliseconds inside the range', async () => {
    const now = Date.now()
    for (const value of ['2026-03-01', '2026-03-01T12:00:00Z', '2026-03-01T12:00:00.123+02:00', String(now), new Date(now + 300 * 86_400_000).toISOString()]) {
      expect((await s.call('GET', `/v1/experiments/instants/report?asOf=${encodeURIComponent(value)}`)).status, value).toBe(200)
      expect((await s.call('GET', `/v1/experiments/instants/timeseries?asOf=${encodeURIComponent(value)}`)).status, value).toBe(200)
    }
    expect((await s.call('GET', `/v1/kpis?from=2026-01-01&to=${now}`)).status).toBe(200)
  })

  it('reads a leap day and zone offsets as the same instant Date.parse does', async () => {
    expect(parseInstant('2024-02-29')).toEqual({ ms: Date.UTC(2024, 1, 29) })
    expect(parseInstant('2026-03-01T12:00:00+02:00')).toEqual({ ms: Date.UTC(2026, 2, 1, 10) })
    expect(parseInstant('946684800000')).toEqual({ ms: Date.UTC(2000, 0, 1) })
    // The server reads them so too: a report says the instant it was computed as of.
    const asOfOf = async (value: string) => (await s.call('GET', `/v1/experiments/instants/report?asOf=${encodeURIComponent(value)}`)).body.asOf
    expect(await asOfOf('2024-02-29')).toBe(new Date(Date.UTC(2024, 1, 29)).toISOString())
    expect(await asOfOf('2026-03-01T12:00:00+02:00')).toBe(new Date(Date.UTC(2026, 2, 1, 10)).toISOString())
    expect(await asOfOf('946684800000')).toBe(new Date(Date.UTC(2000, 0, 1)).toISOString())
  })
})
