import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { metricDefinitions } from '../../api/reports/metric-definitions.ts'
import { propertyColumnName } from '../../api/stores/property-columns.ts'

// Issue 17, the metric catalogue's storage and API: built-ins read-only, versions immutable, roles, refusals that
// name the field and save nothing, and hostile text kept as data.
let h: Harness
let viewer: string
let editor: string
beforeAll(async () => {
  h = await openHarness()
  viewer = await h.keyFor('viewer')
  editor = await h.keyFor('editor')
})
afterAll(() => h.close())

const storedRows = async () =>
  Number(
    (
      await h.db
        .selectFrom('metric_definitions')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
const auditRows = async () =>
  Number(
    (
      await h.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
/** Everything the catalogue answers, archived included: equal before and after means nothing was saved. */
const catalogue = async () => (await h.call('GET', '/v1/metrics?archived=include')).body.metrics.map((m: any) => `${m.key}@${m.version}`)

function secondOrder(key: string, extra: Record<string, unknown> = {}) {
  return {
    key,
    name: 'Second order within 60 days',
    kind: 'proportion',
    source: { eventTypes: ['purchase'] },
    minEvents: 2,
    window: { endDays: 60 },
    ...extra,
  }
}
function ticketsPerCustomer(key: string, extra: Record<string, unknown> = {}) {
  return {
    key,
    name: 'Support tickets per customer',
    kind: 'mean',
    source: { eventTypes: ['support_ticket'] },
    value: { of: 'count' },
    window: { endDays: 30 },
    direction: 'lower',
    ...extra,
  }
}

/** Sends `body`, expects `status` with `code` naming `field`, and checks that the catalogue and the audit log did not change. */
async function expectRefused(path: string, body: unknown, status: number, code: string, field?: string) {
  const [rows, audits, listed] = [await storedRows(), await auditRows(), await catalogue()]
  const res = await h.call('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  expect(res.body.error.code).toBe(code)
  if (field) expect(res.body.error.field).toBe(field)
  expect(await storedRows()).toBe(rows)
  expect(await auditRows()).toBe(audits)
  expect(await catalogue()).toEqual(listed)
  return res.body.error
}

describe('built-in metrics in the catalogue', () => {
  it('lists every metric the reports compute as a read-only entry, version 1, marked builtIn', async () => {
    const res = await h.call('GET', '/v1/metrics')
    expect(res.status).toBe(200)
    const builtIns = res.body.metrics.filter((m: any) => m.builtIn)
    expect(builtIns.map((m: any) => m.key).sort()).toEqual(metricDefinitions.map((d) => d.key).sort())
    for (const d of metricDefinitions) {
      expect(builtIns.find((m: any) => m.key === d.key)).toEqual({
        key: d.key,
        name: d.label,
        description: d.description,
        owner: '',
        tags: [],
        kind: d.kind === 'survival' ? 'time_to_event' : d.kind,
        format: d.format,
        direction: d.higherIsBetter ? 'higher' : 'lower',
        builtIn: true,
        version: 1,
        archived: false,
        createdAt: expect.any(String),
        createdBy: 'system',
      })
    }
    expect((await h.call('GET', '/v1/metrics/revenue')).body).toMatchObject({ key: 'revenue', kind: 'mean', builtIn: true })
    expect((await h.call('GET', '/v1/metrics/revenue/versions')).body.versions).toHaveLength(1)
  })

  it('refuses a new version of a built-in, archiving it and reusing its key', async () => {
    const version = await expectRefused('/v1/metrics/revenue/versions', ticketsPerCustomer('revenue'), 409, 'read_only')
    expect(version.message).toMatch(/built-in/)
    await expectRefused('/v1/metrics/unsubscribe/archive', undefined, 409, 'read_only')
    const taken = await expectRefused('/v1/metrics', ticketsPerCustomer('revenue'), 409, 'key_taken', 'key')
    expect(taken.message).toContain("e.g. 'revenue_2'")
  })
})

describe('a metric from creation to archive', () => {
  it('creates version 1 with defaults, adds version 2 keeping version 1 readable, and archives it, auditing each step', async () => {
    const created = await h.call('POST', '/v1/metrics', secondOrder('second_order'), editor)
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      key: 'second_order',
      version: 1,
      builtIn: false,
      archived: false,
      createdBy: expect.stringContaining('(editor key)'),
      description: '',
      tags: [],
      direction: 'higher',
      format: 'percent',
      source: { eventTypes: ['purchase'], filters: [] },
      window: { startDays: 0, endDays: 60 },
    })
    expect((await h.call('GET', '/v1/metrics/second_order')).body).toEqual(created.body)

    const v2 = await h.call('POST', '/v1/metrics/second_order/versions', secondOrder('second_order', { window: { endDays: 90 } }), editor)
    expect(v2.status).toBe(201)
    expect(v2.body).toMatchObject({ version: 2, window: { startDays: 0, endDays: 90 } })
    expect((await h.call('GET', '/v1/metrics/second_order')).body.version).toBe(2)
    expect((await h.call('GET', '/v1/metrics/second_order?version=1')).body).toEqual(created.body)
    expect((await h.call('GET', '/v1/metrics/second_order/versions')).body.versions.map((m: any) => m.version)).toEqual([2, 1])
    const missing = await h.call('GET', '/v1/metrics/second_order?version=3')
    expect(missing.status).toBe(404)
    expect(missing.body.error).toMatchObject({ code: 'not_found', field: 'version' })

    const archived = await h.call('POST', '/v1/metrics/second_order/archive', undefined, editor)
    expect(archived.status).toBe(200)
    expect(archived.body).toMatchObject({ key: 'second_order', version: 2, archived: true })
    expect(await catalogue()).toContain('second_order@2')
    expect((await h.call('GET', '/v1/metrics')).body.metrics.map((m: any) => m.key)).not.toContain('second_order')
    expect((await h.call('GET', '/v1/metrics/second_order?version=1')).body).toMatchObject({ version: 1, archived: true })
    await expectRefused('/v1/metrics/second_order/versions', secondOrder('second_order'), 409, 'archived')
    await expectRefused('/v1/metrics/second_order/archive', undefined, 409, 'archived')
    const taken = await expectRefused('/v1/metrics', secondOrder('second_order'), 409, 'key_taken', 'key')
    expect(taken.message).toMatch(/archived/)

    const log = await h.call('GET', '/v1/audit?entityType=metric&entityId=second_order')
    expect(log.body.entries.map((e: any) => e.action)).toEqual(['metric.archive', 'metric.version', 'metric.create'])
    for (const entry of log.body.entries) expect(entry.actor).toBe(created.body.createdBy)
    expect(log.body.entries[1].before.version).toBe(1)
    expect(log.body.entries[1].after.version).toBe(2)
  })

  it('gives the property keys a saved definition reads columns of their own, and none to a refused one', async () => {
    const columns = async () =>
      new Set((await h.chQuery<{ name: string }>(`SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'events'`)).map((r) => r.name))
    const tickets = {
      key: 'vip_tickets',
      name: 'VIP tickets',
      kind: 'mean',
      source: { eventTypes: ['support_ticket'], filters: [{ on: 'property', path: 'account.tier', op: 'eq', value: 'vip' }] },
      value: { of: 'property', path: 'minutes' },
      window: { endDays: 30 },
    }
    expect((await h.call('POST', '/v1/metrics', tickets, editor)).status).toBe(201)
    let now = await columns()
    for (const key of ['account', 'minutes']) expect(now.has(propertyColumnName(key)), key).toBe(true)
    expect(now.has(propertyColumnName('account.tier'))).toBe(false)
    // A new version reading another key adds that one.
    const v2 = { ...tickets, source: { ...tickets.source, filters: [{ on: 'property', path: 'queue', op: 'exists' }] } }
    expect((await h.call('POST', '/v1/metrics/vip_tickets/versions', v2, editor)).status).toBe(201)
    expect((await columns()).has(propertyColumnName('queue'))).toBe(true)
    // A refused definition changes nothing, in Postgres or ClickHouse.
    const before = await columns()
    const refused = { ...tickets, key: 'bad_one', value: { of: 'property', path: 'fresh_key' }, window: { startDays: 30, endDays: 10 } }
    await expectRefused('/v1/metrics', refused, 400, 'invalid_input', 'window.endDays')
    now = await columns()
    expect(now.has(propertyColumnName('fresh_key'))).toBe(false)
    expect([...now].sort()).toEqual([...before].sort())
  })

  it('refuses a version whose body names another key, and a version or archive of an unknown metric', async () => {
    await h.call('POST', '/v1/metrics', secondOrder('keyed'))
    await expectRefused('/v1/metrics/keyed/versions', secondOrder('other_key'), 400, 'invalid_input', 'key')
    await expectRefused('/v1/metrics/no_such_metric/versions', secondOrder('no_such_metric'), 404, 'not_found')
    await expectRefused('/v1/metrics/no_such_metric/archive', undefined, 404, 'not_found')
    expect((await h.call('GET', '/v1/metrics/no_such_metric')).status).toBe(404)
    expect((await h.call('GET', '/v1/metrics/no_such_metric/versions')).status).toBe(404)
  })

  it('lets one of two simultaneous creations of a key through and refuses the other', async () => {
    const answers = await Promise.all([h.call('POST', '/v1/metrics', secondOrder('raced')), h.call('POST', '/v1/metrics', secondOrder('raced'))])
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409])
    expect((await h.call('GET', '/v1/metrics/raced/versions')).body.versions).toHaveLength(1)
  })
})

describe('ratios', () => {
  it('divides two live mean metrics, built-in or not, and protects the metrics it divides', async () => {
    expect((await h.call('POST', '/v1/metrics', ticketsPerCustomer('tickets'))).status).toBe(201)
    const ratio = await h.call('POST', '/v1/metrics', {
      key: 'tickets_per_order',
      name: 'Tickets per order',
      kind: 'ratio',
      numerator: 'tickets',
      denominator: 'orders',
    })
    expect(ratio.status).toBe(201)
    expect(ratio.body).toMatchObject({ kind: 'ratio', numerator: 'tickets', denominator: 'orders', format: 'number' })

    await expectRefused('/v1/metrics/tickets/archive', undefined, 409, 'in_use')
    await expectRefused('/v1/metrics/tickets/versions', secondOrder('tickets'), 409, 'in_use', 'kind')
    expect((await h.call('POST', '/v1/metrics/tickets/versions', ticketsPerCustomer('tickets', { window: { endDays: 60 } }))).status).toBe(201)
    expect((await h.call('POST', '/v1/metrics/tickets_per_order/archive')).status).toBe(200)
    expect((await h.call('POST', '/v1/metrics/tickets/archive')).status).toBe(200)
    const overArchived = await expectRefused(
      '/v1/metrics',
      { key: 'tickets_ratio', name: 'x', kind: 'ratio', numerator: 'tickets', denominator: 'orders' },
      400,
      'invalid_input',
      'numerator',
    )
    expect(overArchived.message).toMatch(/archived/)
  })

  it.each([
    ['a proportion denominator', { numerator: 'revenue', denominator: 'reactivation' }, 'denominator', /proportion metric/],
    ['a proportion numerator', { numerator: 'redemption', denominator: 'orders' }, 'numerator', /proportion metric/],
    ['a ratio denominator', { numerator: 'revenue', denominator: 'aov' }, 'denominator', /ratio metric/],
    ['a time-to-event numerator', { numerator: 'time_to_purchase', denominator: 'orders' }, 'numerator', /time_to_event metric/],
    ['itself', { numerator: 'self_ratio', denominator: 'orders' }, 'numerator', /itself/],
    ['an unknown metric', { numerator: 'revenue', denominator: 'nothing_here' }, 'denominator', /unknown metric 'nothing_here'/],
    ['the same metric twice', { numerator: 'revenue', denominator: 'revenue' }, 'denominator', /differ/],
  ])('refuses a ratio over %s, naming the field', async (_, refs, field, words) => {
    const error = await expectRefused('/v1/metrics', { key: 'self_ratio', name: 'Ratio', kind: 'ratio', ...refs }, 400, 'invalid_input', field)
    expect(error.message).toMatch(words)
  })
})

describe('search and tags', () => {
  beforeAll(async () => {
    for (const [key, tags, description] of [
      ['checkout_returns', ['checkout', 'Refunds'], 'returns after a checkout'],
      ['checkout_speed', ['checkout'], 'days to checkout'],
      ['ticket_rate', ['support'], 'any support TICKET in the window'],
    ] as const)
      expect((await h.call('POST', '/v1/metrics', ticketsPerCustomer(key, { tags, description, name: `Metric ${key}` }))).status).toBe(201)
  })
  const keys = async (query: string) => (await h.call('GET', `/v1/metrics${query}`)).body.metrics.map((m: any) => m.key)

  it('filters by tag, in any case', async () => {
    expect(await keys('?tag=checkout')).toEqual(['checkout_returns', 'checkout_speed'])
    expect(await keys('?tag=REFUNDS')).toEqual(['checkout_returns'])
    expect(await keys('?tag=nope')).toEqual([])
  })

  it('searches keys, names, descriptions and tags in any case, built-ins included, with no wildcards', async () => {
    expect(await keys('?search=ticket')).toEqual(expect.arrayContaining(['ticket_rate']))
    expect(await keys('?search=Support%20Ticket')).toEqual(['ticket_rate'])
    expect(await keys('?search=Average%20order')).toEqual(['aov'])
    expect(await keys('?search=checkout&tag=refunds')).toEqual(['checkout_returns'])
    expect(await keys('?search=%25')).toEqual([])
    expect(await keys('?search=_')).toEqual(expect.arrayContaining(['checkout_speed', 'repeat_purchase']))
  })

  it('answers a bad query parameter with 400', async () => {
    expect((await h.call('GET', '/v1/metrics?archived=yes')).status).toBe(400)
    expect((await h.call('GET', `/v1/metrics?search=${'x'.repeat(201)}`)).status).toBe(400)
    expect((await h.call('GET', '/v1/metrics/revenue?version=0')).body.error.field).toBe('version')
    expect((await h.call('GET', '/v1/metrics/revenue?version=99999999999')).status).toBe(400)
  })
})

describe('roles', () => {
  it('lets a viewer read the catalogue but not change it, and refuses requests without a key', async () => {
    await h.call('POST', '/v1/metrics', secondOrder('role_check'))
    for (const path of ['/v1/metrics', '/v1/metrics/role_check', '/v1/metrics/role_check/versions']) {
      expect((await h.call('GET', path, undefined, viewer)).status).toBe(200)
      expect((await h.call('GET', path, undefined, null)).status).toBe(401)
    }
    const rows = await storedRows()
    expect((await h.call('POST', '/v1/metrics', secondOrder('by_viewer'), viewer)).status).toBe(403)
    expect((await h.call('POST', '/v1/metrics/role_check/versions', secondOrder('role_check'), viewer)).status).toBe(403)
    expect((await h.call('POST', '/v1/metrics/role_check/archive', undefined, viewer)).status).toBe(403)
    expect((await h.call('POST', '/v1/metrics', secondOrder('by_nobody'), null)).status).toBe(401)
    expect(await storedRows()).toBe(rows)
  })
})

describe('bad definitions: 400 naming the field, nothing saved', () => {
  const filter = (f: Record<string, unknown>) => secondOrder('bad_def', { source: { eventTypes: ['purchase'], filters: [f] } })
  it.each([
    ['an unknown filter operator', filter({ on: 'property', path: 'category', op: 'like', value: 'shoes' }), 'source.filters.0.op'],
    ['a window that ends where it starts', secondOrder('bad_def', { window: { startDays: 30, endDays: 30 } }), 'window.endDays'],
    ['a window that ends before it starts', secondOrder('bad_def', { window: { startDays: 30, endDays: 10 } }), 'window.endDays'],
    ['a property key with a quote', filter({ on: 'property', path: "category'", op: 'eq', value: 'shoes' }), 'source.filters.0.path'],
    ['a dot path deeper than three names', filter({ on: 'property', path: 'a.b.c.d', op: 'exists' }), 'source.filters.0.path'],
    ['a quantile of 0', { ...ticketsPerCustomer('bad_def'), kind: 'quantile', value: { of: 'revenue' }, quantile: 0 }, 'quantile'],
    ['a quantile of 1', { ...ticketsPerCustomer('bad_def'), kind: 'quantile', value: { of: 'revenue' }, quantile: 1 }, 'quantile'],
    ['a quantile of 1.5', { ...ticketsPerCustomer('bad_def'), kind: 'quantile', value: { of: 'revenue' }, quantile: 1.5 }, 'quantile'],
    ['an unknown kind', secondOrder('bad_def', { kind: 'median' }), 'kind'],
    ['a key with capitals', secondOrder('Bad-Def'), 'key'],
    ['the key new, which the dashboard’s create page uses', secondOrder('new'), 'key'],
  ])('refuses %s', async (_, body, field) => {
    await expectRefused('/v1/metrics', body, 400, 'invalid_input', field)
    // The same refusal for a new version of an existing metric.
    if (field !== 'key') await expectRefused('/v1/metrics/keyed/versions', { ...body, key: 'keyed' }, 400, 'invalid_input', field)
  })
})

describe('refusals in plain words', () => {
  it('names the operators and kinds it knows instead of echoing the schema', async () => {
    const op = await h.call(
      'POST',
      '/v1/metrics',
      secondOrder('worded', { source: { eventTypes: ['purchase'], filters: [{ on: 'property', path: 'category', op: 'like', value: 'x' }] } }),
    )
    expect(op.body.error).toMatchObject({
      field: 'source.filters.0.op',
      message: expect.stringContaining('must be one of: eq, neq, in, not_in, lt, lte, gt, gte, exists'),
    })
    const kind = await h.call('POST', '/v1/metrics', secondOrder('worded', { kind: 'median' }))
    expect(kind.body.error.message).toContain('must be one of: proportion, retention, mean, ratio, quantile, time_to_event')
    expect(JSON.stringify([op.body, kind.body])).not.toContain('Invalid discriminator')
  })
})

describe('hostile text is data', () => {
  const sqlish = "'; DROP TABLE metric_definitions; --"
  const chParam = '{x:String}'

  it('stores names, descriptions, tags and filter values exactly as sent and answers them unchanged', async () => {
    const hostile = {
      name: sqlish,
      description: `${chParam} ${sqlish} \\' " \` $1 %s`,
      owner: chParam,
      tags: [sqlish, chParam],
      source: {
        eventTypes: ['purchase'],
        filters: [
          { on: 'property', path: 'category', op: 'eq', value: sqlish },
          { on: 'property', path: 'item.sku', op: 'in', values: [chParam, "') OR 1=1 --", 'ü 🎉'] },
          { on: 'field', field: 'order_id', op: 'neq', value: '{order_id:String}' },
        ],
      },
    }
    const created = await h.call('POST', '/v1/metrics', secondOrder('hostile_text', hostile))
    expect(created.status).toBe(201)
    const read = (await h.call('GET', '/v1/metrics/hostile_text')).body
    for (const answer of [created.body, read]) {
      expect(answer).toMatchObject({ name: hostile.name, description: hostile.description, owner: hostile.owner, tags: hostile.tags })
      expect(answer.source.filters).toEqual(hostile.source.filters)
    }
    expect(await keysMatching(sqlish)).toEqual(['hostile_text'])
    expect(await keysMatching(chParam)).toEqual(['hostile_text'])
    expect(await storedRows()).toBeGreaterThan(metricDefinitions.length)
  })

  it.each([
    ['a property path with SQL', { on: 'property', path: "a'); DROP TABLE metric_definitions; --", op: 'exists' }, 'source.filters.0.path'],
    ['a property path with a ClickHouse parameter', { on: 'property', path: 'x{y:String}', op: 'exists' }, 'source.filters.0.path'],
    ['a property path with a backtick', { on: 'property', path: 'a`b', op: 'exists' }, 'source.filters.0.path'],
    ['a NUL in a filter value', { on: 'property', path: 'category', op: 'eq', value: 'sho\u0000es' }, 'source.filters.0.value'],
  ])('refuses %s by field', async (_, f, field) => {
    await expectRefused('/v1/metrics', secondOrder('hostile_path', { source: { eventTypes: ['purchase'], filters: [f] } }), 400, 'invalid_input', field)
  })

  it('refuses a NUL or a lone surrogate in a name or value path, and in a query', async () => {
    await expectRefused('/v1/metrics', secondOrder('hostile_nul', { name: 'a\u0000b' }), 400, 'invalid_input', 'name')
    await expectRefused('/v1/metrics', secondOrder('hostile_nul', { description: 'a\ud800b' }), 400, 'invalid_input', 'description')
    await expectRefused('/v1/metrics', { ...ticketsPerCustomer('hostile_nul'), value: { of: 'property', path: "amount'" } }, 400, 'invalid_input', 'value.path')
    expect((await h.call('GET', '/v1/metrics?search=a%00b')).status).toBe(400)
    expect((await h.call('GET', '/v1/metrics/revenue%00')).status).toBe(400)
  })

  it('reads hostile keys in paths and queries as plain values', async () => {
    expect((await h.call('GET', `/v1/metrics/${encodeURIComponent("revenue' OR '1'='1")}`)).status).toBe(404)
    expect(
      (await h.call('GET', `/v1/metrics?search=${encodeURIComponent(sqlish)}&tag=${encodeURIComponent(chParam)}`)).body.metrics.map((m: any) => m.key),
    ).toEqual(['hostile_text'])
    expect((await h.call('GET', '/v1/metrics/revenue')).status).toBe(200)
  })
})

describe('the OpenAPI document', () => {
  it('describes the catalogue routes', async () => {
    const doc = await h.call('GET', '/v1/openapi.json')
    expect(doc.status).toBe(200)
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/metrics', '/v1/metrics/{key}', '/v1/metrics/{key}/versions', '/v1/metrics/{key}/archive']),
    )
    expect(doc.body.components.schemas).toHaveProperty('CatalogueMetric')
  })
})

async function keysMatching(search: string): Promise<string[]> {
  return (await h.call('GET', `/v1/metrics?search=${encodeURIComponent(search)}`)).body.metrics.map((m: any) => m.key)
}
