import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { FEATURE_NAMES } from '../../api/segments/features.ts'

// Issue 20, item 2: segment definitions over customer features — versions immutable, archive, roles, audit, and
// "bad segment definitions and unknown features get a 4xx naming the field; nothing is saved".
let h: Harness
let viewer: string
let editor: string
beforeAll(async () => {
  h = await openHarness()
  viewer = await h.keyFor('viewer')
  editor = await h.keyFor('editor')
})
afterAll(() => h.close())

const count = async (table: 'segment_definitions' | 'audit_log') =>
  Number(
    (
      await h.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
/** Everything the list answers, archived included: equal before and after means nothing was saved. */
const listed = async () => (await h.call('GET', '/v1/segments?archived=include')).body.segments.map((s: any) => `${s.key}@${s.version}`)

function lapsedDealSeekers(key: string, extra: Record<string, unknown> = {}) {
  return {
    key,
    name: 'Lapsed deal seekers',
    rule: { $and: [{ lapse_stage: { $in: ['lapsed', 'dormant'] } }, { discount_affinity: { $gte: 0.5 } }] },
    ...extra,
  }
}

/** Sends `body`, expects `status` with `code`, and checks that no segment and no audit entry was written. */
async function expectRefused(path: string, body: unknown, status: number, code: string, key?: string) {
  const [rows, audits, before] = [await count('segment_definitions'), await count('audit_log'), await listed()]
  const res = await h.call('POST', path, body, key)
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  expect(res.body.error.code).toBe(code)
  expect(await count('segment_definitions')).toBe(rows)
  expect(await count('audit_log')).toBe(audits)
  expect(await listed()).toEqual(before)
  return res.body.error as { code: string; message: string; field?: string; fields?: Array<{ field: string; message: string }> }
}
const fieldsOf = (error: { fields?: Array<{ field: string }> }) => (error.fields ?? []).map((f) => f.field)

describe('a segment from creation to archive', () => {
  it('creates version 1 with defaults, adds version 2 keeping version 1 readable, and archives it, auditing each step', async () => {
    const created = await h.call('POST', '/v1/segments', lapsedDealSeekers('deal_seekers'), editor)
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body).toEqual({
      ...lapsedDealSeekers('deal_seekers'),
      description: '',
      owner: '',
      tags: [],
      version: 1,
      archived: false,
      createdAt: expect.any(String),
      createdBy: expect.stringContaining('(editor key)'),
    })
    expect((await h.call('GET', '/v1/segments/deal_seekers', undefined, viewer)).body).toEqual(created.body)

    const rule2 = { $or: [{ rfm_group: 'at_risk' }, { lapse_stage: 'lapsed' }] }
    const v2 = await h.call('POST', '/v1/segments/deal_seekers/versions', lapsedDealSeekers('deal_seekers', { rule: rule2 }), editor)
    expect(v2.status).toBe(201)
    expect(v2.body).toMatchObject({ version: 2, rule: rule2 })
    expect((await h.call('GET', '/v1/segments/deal_seekers')).body.version).toBe(2)
    expect((await h.call('GET', '/v1/segments/deal_seekers?version=1')).body).toEqual(created.body)
    expect((await h.call('GET', '/v1/segments/deal_seekers/versions')).body.versions.map((s: any) => s.version)).toEqual([2, 1])
    const missing = await h.call('GET', '/v1/segments/deal_seekers?version=3')
    expect(missing.status).toBe(404)
    expect(missing.body.error).toMatchObject({ code: 'not_found', field: 'version' })

    const archived = await h.call('POST', '/v1/segments/deal_seekers/archive', undefined, editor)
    expect(archived.status).toBe(200)
    expect(archived.body).toMatchObject({ key: 'deal_seekers', version: 2, archived: true })
    expect((await h.call('GET', '/v1/segments')).body.segments.map((s: any) => s.key)).not.toContain('deal_seekers')
    expect(await listed()).toContain('deal_seekers@2')
    expect((await h.call('GET', '/v1/segments/deal_seekers?version=1')).body).toMatchObject({ version: 1, archived: true })
    await expectRefused('/v1/segments/deal_seekers/versions', lapsedDealSeekers('deal_seekers'), 409, 'archived')
    await expectRefused('/v1/segments/deal_seekers/archive', undefined, 409, 'archived')
    const taken = await expectRefused('/v1/segments', lapsedDealSeekers('deal_seekers'), 409, 'key_taken')
    expect(taken.field).toBe('key')
    expect(taken.message).toMatch(/archived.*e\.g\. 'deal_seekers_2'/)

    const log = await h.call('GET', '/v1/audit?entityType=segment&entityId=deal_seekers')
    expect(log.body.entries.map((e: any) => e.action)).toEqual(['segment.archive', 'segment.version', 'segment.create'])
    for (const entry of log.body.entries) expect(entry.actor).toBe(created.body.createdBy)
    expect(log.body.entries[2].after).toEqual(created.body)
    expect(log.body.entries[1].before.rule).toEqual(created.body.rule)
    expect(log.body.entries[1].after.rule).toEqual(rule2)
  })

  it('refuses a key in use, a version whose body names another key, and a version or archive of an unknown segment', async () => {
    expect((await h.call('POST', '/v1/segments', lapsedDealSeekers('keyed'))).status).toBe(201)
    const taken = await expectRefused('/v1/segments', lapsedDealSeekers('keyed'), 409, 'key_taken')
    expect(taken.message).toContain('POST /v1/segments/keyed/versions')
    const other = await expectRefused('/v1/segments/keyed/versions', lapsedDealSeekers('other_key'), 400, 'invalid_input')
    expect(other.field).toBe('key')
    await expectRefused('/v1/segments/no_such_segment/versions', lapsedDealSeekers('no_such_segment'), 404, 'not_found')
    await expectRefused('/v1/segments/no_such_segment/archive', undefined, 404, 'not_found')
    expect((await h.call('GET', '/v1/segments/no_such_segment')).status).toBe(404)
    expect((await h.call('GET', '/v1/segments/no_such_segment/versions')).status).toBe(404)
  })

  it('lets one of two simultaneous creations of a key through and refuses the other', async () => {
    const answers = await Promise.all([h.call('POST', '/v1/segments', lapsedDealSeekers('raced')), h.call('POST', '/v1/segments', lapsedDealSeekers('raced'))])
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409])
    expect((await h.call('GET', '/v1/segments/raced/versions')).body.versions).toHaveLength(1)
  })

  it('searches keys, names, descriptions, owners and tags in any case', async () => {
    await h.call(
      'POST',
      '/v1/segments',
      lapsedDealSeekers('vip_recent', { name: 'VIPs', owner: 'Growth', tags: ['Loyalty'], rule: { rfm_group: 'champions' } }),
    )
    const find = async (q: string) => (await h.call('GET', `/v1/segments?search=${encodeURIComponent(q)}`)).body.segments.map((s: any) => s.key)
    expect(await find('vip')).toEqual(['vip_recent'])
    expect(await find('GROWTH')).toEqual(['vip_recent'])
    expect(await find('loyalty')).toEqual(['vip_recent'])
    expect(await find('%')).toEqual([])
  })
})

describe('roles', () => {
  it('lets a viewer read and refuses its writes with 403, saving nothing', async () => {
    expect((await h.call('POST', '/v1/segments', lapsedDealSeekers('role_check'), editor)).status).toBe(201)
    expect((await h.call('GET', '/v1/segments', undefined, viewer)).status).toBe(200)
    expect((await h.call('GET', '/v1/segments/role_check/versions', undefined, viewer)).status).toBe(200)
    await expectRefused('/v1/segments', lapsedDealSeekers('by_viewer'), 403, 'forbidden', viewer)
    await expectRefused('/v1/segments/role_check/versions', lapsedDealSeekers('role_check'), 403, 'forbidden', viewer)
    await expectRefused('/v1/segments/role_check/archive', undefined, 403, 'forbidden', viewer)
    const ingest = await h.keyFor('ingest')
    expect((await h.call('GET', '/v1/segments', undefined, ingest)).status).toBe(403)
    expect((await h.call('GET', '/v1/segments', undefined, 'rl_not_a_key')).status).toBe(401)
  })
})

describe('bad definitions get a 400 naming the field, and nothing is saved', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    [
      'an unknown feature inside $and',
      { $and: [{ lapse_stage: 'lapsed' }, { recency_dayz: { $gt: 60 } }] },
      'rule.$and[1].recency_dayz',
      /unknown feature "recency_dayz"/,
    ],
    ['an unknown feature at the top', { tier: 'gold' }, 'rule.tier', /unknown feature "tier".*recency_days/],
    ['a dot path (features are flat)', { 'features.recency_days': 3 }, 'rule.features.recency_days', /unknown feature/],
    ['a string for a number feature', { orders_90d: { $gte: 'two' } }, 'rule.orders_90d.$gte', /must be a number \(orders_90d is a number\)/],
    ['a string equal to a number feature', { monetary_365d: '100' }, 'rule.monetary_365d', /must be a number/],
    ['null for a feature that is never null', { orders_365d: null }, 'rule.orders_365d', /must be a number \(orders_365d/],
    ['a category value not in its list', { lapse_stage: 'asleep' }, 'rule.lapse_stage', /must be one of: active, slipping, lapsed, dormant, none/],
    ['an RFM group not in the grid', { rfm_group: { $in: ['champions', 'whales'] } }, 'rule.rfm_group.$in[1]', /must be one of: champions, loyal/],
    ['a number for a category', { last_offer_response: { $ne: 1 } }, 'rule.last_offer_response.$ne', /must be one of: redeemed, ignored, none/],
    ['an order comparison on a category', { lapse_stage: { $gt: 'active' } }, 'rule.lapse_stage.$gt', /is a category/],
    ['$regex (not a segment operator)', { lapse_stage: { $regex: '^l' } }, 'rule.lapse_stage.$regex', /unsupported operator "\$regex"/],
    ['$elemMatch', { orders_90d: { $elemMatch: { $gt: 1 } } }, 'rule.orders_90d.$elemMatch', /unsupported operator/],
    ['a made-up top-level operator', { $where: 'sleep(1)' }, 'rule.$where', /unsupported operator "\$where"/],
    ['$in without a list', { orders_90d: { $in: 3 } }, 'rule.orders_90d.$in', /non-empty list/],
    ['$exists without a boolean', { recency_days: { $exists: 'yes' } }, 'rule.recency_days.$exists', /true or false/],
    ['$or that is not a list', { $or: { lapse_stage: 'lapsed' } }, 'rule.$or', /non-empty list/],
    ['an empty $and', { $and: [] }, 'rule.$and', /non-empty list/],
    ['a condition that is not an object', { $and: ['lapsed'] }, 'rule.$and[0]', /must be a condition/],
    ['operators mixed with plain keys', { orders_90d: { $gte: 1, max: 3 } }, 'rule.orders_90d', /object of operators/],
    ['an unknown feature under $not', { $not: { recency: { $lt: 5 } } }, 'rule.$not.recency', /unknown feature/],
    ['an empty rule', {}, 'rule', /at least one feature/],
  ]
  it.each(cases)('refuses %s', async (_what, rule, field, message) => {
    const error = await expectRefused('/v1/segments', lapsedDealSeekers('bad_rule', { rule }), 400, 'invalid_input')
    expect(error.field).toBe(field)
    expect(error.fields?.find((f) => f.field === field)?.message).toMatch(message)
  })

  it('refuses a bad rule in a new version too, keeping the versions there are', async () => {
    expect((await h.call('POST', '/v1/segments', lapsedDealSeekers('versioned'))).status).toBe(201)
    const error = await expectRefused('/v1/segments/versioned/versions', lapsedDealSeekers('versioned', { rule: { recency_dayz: 3 } }), 400, 'invalid_input')
    expect(error.field).toBe('rule.recency_dayz')
    expect((await h.call('GET', '/v1/segments/versioned/versions')).body.versions).toHaveLength(1)
  })

  it('lists every problem of a definition at once, rule and other fields alike', async () => {
    const body = {
      key: 'Bad Key',
      name: '',
      tags: ['ok', ''],
      rules: {},
      rule: { $or: [{ recency_dayz: 3 }, { orders_90d: 'x' }, { lapse_stage: { $in: ['lapsed', 'napping'] } }], rfm_group: 'whales' },
    }
    const error = await expectRefused('/v1/segments', body, 400, 'invalid_input')
    expect(fieldsOf(error).sort()).toEqual(
      ['key', 'name', 'tags.1', null, 'rule.$or[0].recency_dayz', 'rule.$or[1].orders_90d', 'rule.$or[2].lapse_stage.$in[1]', 'rule.rfm_group'].sort((a, b) =>
        String(a) < String(b) ? -1 : 1,
      ),
    )
    expect(error.fields?.find((f) => f.field === null)?.message).toMatch(/unknown field: rules/)
  })

  it('refuses a rule that is missing or not an object, and a body that is not a definition', async () => {
    expect((await expectRefused('/v1/segments', { key: 'no_rule', name: 'No rule' }, 400, 'invalid_input')).field).toBe('rule')
    expect((await expectRefused('/v1/segments', lapsedDealSeekers('list_rule', { rule: [] }), 400, 'invalid_input')).field).toBe('rule')
    expect((await expectRefused('/v1/segments', lapsedDealSeekers('text_rule', { rule: 'lapsed' }), 400, 'invalid_input')).field).toBe('rule')
    expect((await expectRefused('/v1/segments', lapsedDealSeekers('new'), 400, 'invalid_input')).field).toBe('key')
    await expectRefused('/v1/segments', [], 400, 'invalid_input')
  })

  it('accepts every feature and the RFM group with each operator it allows', async () => {
    const rule = {
      $and: [
        { recency_days: { $exists: true, $gte: 0, $lt: 365 } },
        { recency_days: { $ne: null } },
        { orders_90d: { $in: [0, 1, 2] } },
        { orders_365d: { $nin: [0] } },
        { monetary_365d: { $gt: 10.5 } },
        { aov_365d: { $lte: 200 } },
        { tenure_days: { $not: { $lt: 30 } } },
        { inter_purchase_days: null },
        { discount_affinity: { $eq: 0.25 } },
        { last_offer_response: 'ignored' },
        { lapse_stage: { $nin: ['none'] } },
        { rfm_group: { $in: ['at_risk', 'cant_lose_them'] } },
      ],
      $nor: [{ rfm_group: 'no_purchases' }],
      $not: { lapse_stage: 'dormant' },
    }
    const res = await h.call('POST', '/v1/segments', lapsedDealSeekers('every_feature', { rule }))
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.rule).toEqual(rule)
    const named = JSON.stringify(rule)
    for (const feature of FEATURE_NAMES) expect(named).toContain(`"${feature}"`)
  })
})

describe('hostile text', () => {
  const sqlish = "'; DROP TABLE segment_definitions; --"
  it('stores names, descriptions, owners and tags exactly as sent and answers them unchanged', async () => {
    const hostile = {
      name: `<script>alert(1)</script> ${sqlish}`,
      description: `{customer:String} ${sqlish} \\' " \` $1 %s`,
      owner: 'Robert"); DELETE FROM audit_log; --',
      tags: ['<img src=x onerror=alert(1)>', "o'brien"],
    }
    const created = await h.call('POST', '/v1/segments', lapsedDealSeekers('hostile', hostile))
    expect(created.status).toBe(201)
    for (const answer of [created.body, (await h.call('GET', '/v1/segments/hostile')).body, (await h.call('GET', '/v1/segments?search=DROP')).body.segments[0]])
      expect(answer).toMatchObject(hostile)
    expect(await count('segment_definitions')).toBeGreaterThan(0)
  })

  it('names an unknown feature written as SQL or markup as data, and saves nothing', async () => {
    const error = await expectRefused(
      '/v1/segments',
      lapsedDealSeekers('hostile_rule', { rule: { [sqlish]: 1, '<b>x</b>': { $gt: 1 } } }),
      400,
      'invalid_input',
    )
    expect(fieldsOf(error)).toEqual([`rule.${sqlish}`, 'rule.<b>x</b>'])
    expect(error.fields?.[0].message).toContain(JSON.stringify(sqlish))
    expect((await h.call('GET', '/v1/segments')).status).toBe(200)
  })
})

describe('the OpenAPI document', () => {
  it('describes the segment routes and the rule', async () => {
    const doc = await h.call('GET', '/v1/openapi.json')
    expect(doc.status).toBe(200)
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/segments', '/v1/segments/{key}', '/v1/segments/{key}/versions', '/v1/segments/{key}/archive']),
    )
    expect(doc.body.components.schemas).toHaveProperty('SegmentDefinitionInput')
    expect(doc.body.components.schemas.SegmentRule.description).toContain('rfm_group')
  })
})
