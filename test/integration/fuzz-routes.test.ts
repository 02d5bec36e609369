import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, openHarness, twoArmExperiment, type Harness } from '../helpers/harness.ts'
import { changedTables, openStoreCounter, type StoreSnapshot } from '../helpers/store-counts.ts'
import { describeRequest, requestFor, type FuzzRequest, type FuzzWorld } from '../helpers/fuzz-requests.ts'
import { routeName, routesFromOpenApi, type RouteSpec } from '../helpers/openapi-routes.ts'
import { plausibleBodies } from '../helpers/fuzz-bodies.ts'
import { MetricKey } from '../../api/experiments/schema.ts'

/**
 * Issue 16, acceptance: every route of the OpenAPI document, driven with generated malformed bodies, query
 * strings and headers, answers below 500, says what was wrong as `{ error: { code } }`, and a refused request
 * writes nothing (row counts and contents of every Postgres and ClickHouse table, the audit log included).
 * Reproduce a run with FUZZ_SEED=<seed>; FUZZ_RUNS sets the requests per route, FUZZ_ROUTE (a regular
 * expression over `METHOD /path`) limits the run to some routes while hunting.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_116)
const RUNS = Number(process.env.FUZZ_RUNS ?? 20)
const ONLY = process.env.FUZZ_ROUTE ? new RegExp(process.env.FUZZ_ROUTE) : null
/** The routes of the API when this suite was written: fewer means the enumeration broke, not that routes left. */
const KNOWN_ROUTES = 33

let h: Harness
let counter: Awaited<ReturnType<typeof openStoreCounter>>
let doc: Parameters<typeof routesFromOpenApi>[0]
let routes: RouteSpec[]
let world: FuzzWorld

async function expectStatus(res: Promise<{ status: number; body: any }>, status: number) {
  const r = await res
  if (r.status !== status) throw new Error(`fixture request answered ${r.status}: ${JSON.stringify(r.body)}`)
  return r.body
}

/** Keys of every role, a trigger with tiers, a policy, and experiments in each state with exposures and events. */
async function buildWorld(): Promise<FuzzWorld> {
  const keys = { admin: ADMIN_KEY } as FuzzWorld['keys']
  for (const role of ['editor', 'viewer', 'ingest'] as const)
    keys[role] = (await expectStatus(h.call('POST', '/v1/keys', { name: `fuzz ${role}`, role }), 201)).key
  const revoked = await expectStatus(h.call('POST', '/v1/keys', { name: 'fuzz revoked', role: 'admin' }), 201)
  await expectStatus(h.call('DELETE', `/v1/keys/${revoked.id}`), 204)
  keys.revoked = revoked.key
  const victim = await expectStatus(h.call('POST', '/v1/keys', { name: 'fuzz victim', role: 'viewer' }), 201)

  const tiers = ['low', 'medium', 'high']
  await expectStatus(h.call('POST', '/v1/triggers', { key: 'fz-trigger', name: 'Cart abandoned', tiers }), 201)
  await expectStatus(h.call('POST', '/v1/policies', { id: 'fz-policy', name: '3 a month', maxIncentives: 3, windowDays: 30 }), 201)

  const experiments = { 'fz-live': { trigger: 'fz-trigger', budget: { amount: 5000 } }, 'fz-running': {}, 'fz-stopped': {}, 'fz-draft': {} }
  for (const [id, extra] of Object.entries(experiments)) await expectStatus(h.call('POST', '/v1/experiments', twoArmExperiment(id, extra)), 201)
  for (const id of ['fz-live', 'fz-running', 'fz-stopped']) {
    await expectStatus(h.call('POST', `/v1/experiments/${id}/start`), 200)
    const customers = Array.from({ length: 60 }, (_, i) => ({ customerId: `c-${i}`, attributes: { tier: i % 3 ? 'gold' : 'silver', recencyDays: i } }))
    const { assignments } = await expectStatus(h.call('POST', '/v1/assign/batch', { experimentId: id, customers }), 200)
    const ts = Date.now()
    const events = assignments.flatMap((a: { customerId: string; arm: string | null }, i: number) => [
      ...(i % 2 ? [{ eventId: `${id}-p-${i}`, customerId: a.customerId, type: 'purchase', ts, revenue: 10 + i, margin: 3 }] : []),
      ...(a.arm === 'pct15' && i % 3 === 0
        ? [{ eventId: `${id}-r-${i}`, customerId: a.customerId, type: 'offer_redeemed', ts, cost: 6, experimentId: id, arm: 'pct15' }]
        : []),
    ])
    await expectStatus(h.call('POST', '/v1/events', events), 200)
  }
  await expectStatus(h.call('POST', '/v1/experiments/fz-stopped/stop'), 200)
  await expectStatus(h.call('POST', '/v1/experiments/fz-stopped/notes', { kind: 'decision', body: 'ship it', chosenArm: 'pct15' }), 201)

  const metric = { key: 'fz_mean', name: 'Tickets', kind: 'mean', source: { eventTypes: ['support_ticket'] }, value: { of: 'count' }, window: { endDays: 30 } }
  await expectStatus(h.call('POST', '/v1/metrics', metric), 201)

  const mutable = ['fz-running', 'fz-stopped', 'fz-draft']
  return {
    keys,
    ids: {
      experiments: [...mutable, 'fz-e-0', 'fz-e-1'],
      triggers: ['fz-trigger', 'fz-t-0', 'fz-t-1'],
      policies: ['fz-policy', 'fz-p-0', 'fz-p-1'],
      keys: [victim.id, revoked.id],
      metrics: ['fz_mean', 'fz_m_0', 'fz_m_1', 'revenue'],
    },
    // Reports need one experiment that no generated request can stop or change.
    readOnlyIds: { experiments: ['fz-live'] },
    validBodies: plausibleBodies({ experiments: ['fz-live', ...mutable], trigger: 'fz-trigger', tiers }),
  }
}

beforeAll(async () => {
  h = await openHarness()
  counter = await openStoreCounter(h.db, h.ch)
  world = await buildWorld()
  doc = (await h.call('GET', '/v1/openapi.json')).body
  routes = routesFromOpenApi(doc)
  console.log(`fuzz-routes: seed ${SEED} (FUZZ_SEED), ${RUNS} requests per route (FUZZ_RUNS), ${routes.length} routes`)
}, 120_000)
afterAll(() => h?.close())

/** The seed of one route: independent of the order of the document, so a new route does not reshuffle the others. */
function routeSeed(route: RouteSpec): number {
  let hash = SEED >>> 0
  for (const ch of routeName(route)) hash = Math.imul(hash ^ ch.charCodeAt(0), 16_777_619) >>> 0
  return hash
}

/**
 * Bugs this suite found in code it was asked not to edit (api/ingest is being restructured). Until each is
 * fixed there, a 500 on exactly its input is counted instead of failing the run (and must still write
 * nothing), so it does not hide other bugs; the `it.fails` test below pins it. When the fix lands that test
 * fails: delete both.
 */
const knownBugs: Array<{ where: string; matches: (req: FuzzRequest) => boolean }> = []
const knownBugHits = new Map<string, number>()

let known: StoreSnapshot | null = null
let requests = 0

/** Sends one request and checks the property; returns the status. A 4xx is compared with the stores before it. */
async function sendAndCheck(req: FuzzRequest): Promise<number> {
  const before = known ?? (await counter.snapshot())
  known = null
  requests++
  const res = await h.app.request(req.url, { method: req.method, headers: req.headers, body: req.body })
  const text = await res.text()
  const knownBug = res.status === 500 ? knownBugs.find((b) => b.matches(req)) : undefined
  if (res.status >= 500 && !knownBug) throw new Error(`answered ${res.status} ${text.slice(0, 400)}\n  to ${describeRequest(req)}`)
  if (knownBug) knownBugHits.set(knownBug.where, (knownBugHits.get(knownBug.where) ?? 0) + 1)
  if (res.status >= 400) {
    let code: unknown
    try {
      code = JSON.parse(text)?.error?.code
    } catch {
      code = undefined
    }
    if (typeof code !== 'string') throw new Error(`answered ${res.status} without { error: { code } }: ${text.slice(0, 300)}\n  to ${describeRequest(req)}`)
    const after = await counter.snapshot()
    const changed = changedTables(before, after)
    if (changed.length) throw new Error(`answered ${res.status} ${code} but wrote to ${changed.join('; ')}\n  request: ${describeRequest(req)}`)
    known = after
  }
  return res.status
}

describe('fuzzing every route (issue 16)', () => {
  it('enumerates the routes from the OpenAPI document', () => {
    expect(routes.length).toBeGreaterThanOrEqual(KNOWN_ROUTES)
    expect(counter.pgTables).toEqual(expect.arrayContaining(['experiments', 'audit_log', 'api_keys', 'incentives', 'redemptions']))
    expect(counter.chTables).toEqual(expect.arrayContaining(['events', 'exposures', 'suppressions']))
  })

  it('answers every generated request below 500 with an error code, and a refused one writes nothing', async () => {
    const failures: string[] = []
    const table: string[] = []
    for (const route of routes.filter((r) => !ONLY || ONLY.test(routeName(r)))) {
      const statuses = new Map<number, number>()
      const seed = routeSeed(route)
      const details = await fc.check(
        fc.asyncProperty(requestFor(route, world, doc, MetricKey.options), async (req) => {
          const status = await sendAndCheck(req)
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
        }),
        { seed, numRuns: RUNS },
      )
      if (details.failed) {
        failures.push(
          `${routeName(route)} (seed ${seed}, path ${details.counterexamplePath}): ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`,
        )
      }
      const pastAuth = [...statuses].filter(([s]) => s !== 401 && s !== 403).reduce((n, [, c]) => n + c, 0)
      if (!details.failed && pastAuth === 0) failures.push(`${routeName(route)}: no generated request got past authentication`)
      table.push(
        `${routeName(route).padEnd(44)} ${[...statuses]
          .sort(([a], [b]) => a - b)
          .map(([s, c]) => `${s}×${c}`)
          .join(' ')}`,
      )
    }
    const bugs = [...knownBugHits].map(([where, n]) => `known bug hit ${n}×: ${where}`)
    console.log(`fuzz-routes: ${requests} requests\n${[...table, ...bugs].join('\n')}`)
    if (failures.length) expect.fail(`${failures.length} route(s) failed (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}):\n\n${failures.join('\n\n')}`)
  }, 600_000)
})

describe('bugs the fuzzer found, pinned', () => {
  it('refuses a pacing cap that its integer column cannot hold with a 400 naming maxIncentives', async () => {
    const created = await h.call('POST', '/v1/policies', { id: 'fz-cap-limit', name: 'cap', maxIncentives: 2 ** 31, windowDays: 30 })
    expect([created.status, created.body.error?.field]).toEqual([400, 'maxIncentives'])
    expect((await h.call('POST', '/v1/policies', { id: 'fz-cap-limit', name: 'cap', maxIncentives: 1_000_000, windowDays: 30 })).status).toBe(201)
    const patched = await h.call('PATCH', '/v1/policies/fz-cap-limit', { maxIncentives: Number.MAX_SAFE_INTEGER })
    expect([patched.status, patched.body.error?.field]).toEqual([400, 'maxIncentives'])
  })

  // Found by this suite: one such row failed the whole request, the valid rows beside it too, with a 500.
  it('refuses an event whose ts lies beyond the Date range by row and field, not with a 500', async () => {
    const res = await h.call('POST', '/v1/events', [{ eventId: 'fz-date-range', customerId: 'c-1', type: 'purchase', ts: 1e16, revenue: 1 }])
    expect(res.status).toBe(422)
    expect(res.body.rejected).toEqual([expect.objectContaining({ index: 0, field: 'ts' })])
  })
})
