/**
 * Seeds a world through the public API, as a CRM and an event pipeline would: creates and starts the
 * experiments, assigns every eligible customer with POST /v1/assign/batch, and posts their history, offer
 * events and outcomes with POST /v1/events.
 *
 * The limit of this mode: the API stamps each exposure with its own clock and refuses events more than a day
 * ahead, so a live server cannot be given weeks of outcomes after an assignment made now. With the default
 * `timeline: 'compressed'` the history keeps its real dates (up to a year back) but each customer's 30-day
 * outcome window is squeezed into the moments between their assignment and the post of their events — every
 * report metric counts correctly, but time-to-purchase and lift-over-time collapse to day 0, and experiments
 * start now. For a world with real dates use the direct writer (`--direct`). Tests that run the app with an
 * injected clock set in the past use `timeline: 'real'` and keep every offset.
 */
import { DEMO_CUSTOMERS, demoPlan } from './experiments.ts'
import {
  compressedTimeline,
  customerEventRows,
  eventInput,
  placeExperiments,
  placementOf,
  realTimeline,
  SeedError,
  type PlacedExperiment,
  type SeedSummary,
} from './generate.ts'
import { TruthBuilder, type Truth } from './truth.ts'
import { customerAt, DAY, type Customer } from './world.ts'
import type { SeedOptions } from './writer-direct.ts'

export interface ApiTarget {
  /** Base URL of the API, e.g. http://localhost:3000. */
  url: string
  /** An admin key (settings and experiments need admin/editor, assignment and events need ingest). */
  key: string
  /** Defaults to the global fetch; tests pass the app's `request`. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>
}

export interface ApiSeedOptions extends SeedOptions {
  timeline?: 'compressed' | 'real'
  /** The API's clock, when it is injected (with `timeline: 'real'`, set weeks in the past); defaults to Date.now. */
  clock?: () => number
  /** Customers per chunk (one assign batch per experiment, then their events). */
  chunkSize?: number
  /** Chunks in flight at once. */
  concurrency?: number
}

const MAX_EVENTS_PER_POST = 10_000
/**
 * Bodies stay under 1 MB: POST /v1/events is documented at 5 MB, but the app's generic 1 MB /v1 body limit
 * also matches it (api/app.ts applies every matching limit), so anything larger is refused with 413.
 */
const MAX_BODY_BYTES = 1_000_000 - 4_096

export class ApiSeedError extends SeedError {}

function client(target: ApiTarget) {
  const doFetch = target.fetch ?? ((url: string, init: RequestInit) => fetch(url, init))
  return async function call<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: T }> {
    for (let attempt = 0; ; attempt++) {
      let res: Response
      try {
        res = await doFetch(new URL(path, target.url).toString(), {
          method,
          headers: { authorization: `Bearer ${target.key}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        })
      } catch (e) {
        throw new ApiSeedError(
          `no Retention Lab API answers at ${target.url} (${e instanceof Error ? ((e.cause as Error)?.message ?? e.message) : e}): start it with npm start, or write into the data directory with --direct`,
        )
      }
      const text = await res.text()
      let json: any = null
      try {
        json = text ? JSON.parse(text) : null
      } catch {
        throw new ApiSeedError(`${target.url} answered ${method} ${path} with ${res.status} and no JSON: is it a Retention Lab API?`)
      }
      // The API sheds load with 503 + Retry-After when its write buffer is full: wait and resend (idempotent).
      if (res.status === 503 && attempt < 60) {
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)))
        continue
      }
      if (res.status === 401) throw new ApiSeedError(`the API refused the key (${json?.error?.message ?? 401}): pass an admin key with --key`)
      return { status: res.status, body: json }
    }
  }
}

const expectOk = (r: { status: number; body: any }, what: string) => {
  if (r.status >= 300) throw new ApiSeedError(`${what}: ${r.status} ${r.body?.error?.message ?? JSON.stringify(r.body)}`)
  return r.body
}

/**
 * Seeds `customers` customers of the plan's world through the API and returns the planted truth.
 *
 * @example
 * const { summary } = await seedThroughApi({ url: 'http://localhost:3000', key }, { customers: 100_000 })
 */
export async function seedThroughApi(target: ApiTarget, opts: ApiSeedOptions = {}): Promise<{ summary: SeedSummary; truth: Truth }> {
  const started = performance.now()
  const call = client(target)
  const seed = opts.seed ?? 42
  const total = opts.customers ?? DEMO_CUSTOMERS
  const plan = opts.plan ?? demoPlan
  const clock = opts.clock ?? Date.now
  const real = opts.timeline === 'real'
  // One assign batch per experiment per chunk: the batch endpoint takes at most 10,000 customers.
  const chunkSize = Math.min(10_000, opts.chunkSize ?? 5_000)
  const warn = opts.onWarning ?? ((m: string) => console.warn(m))

  const existing: Array<{ id: string }> = expectOk(await call('GET', '/v1/experiments'), 'listing experiments').experiments
  const taken = plan.experiments.map((e) => e.definition.id).filter((id) => existing.some((x) => x.id === id))
  if (taken.length) throw new ApiSeedError(`experiment(s) ${taken.join(', ')} already exist on ${target.url}: seed into a server with an empty data directory`)
  const put = await call('PUT', '/v1/settings', { globalHoldoutPct: plan.globalHoldout.pct, globalHoldoutSeed: plan.globalHoldout.seed })
  if (put.status !== 200) warn(`keeping the current global holdout (${put.body?.error?.message ?? put.status})`)
  const settings = expectOk(await call('GET', '/v1/settings'), 'reading settings')
  const truth = new TruthBuilder(seed, { pct: settings.globalHoldoutPct, seed: settings.globalHoldoutSeed })

  const placed = placeExperiments(plan, () => clock())
  for (const e of placed) {
    expectOk(await call('POST', '/v1/experiments', e.planned.definition), `creating ${e.id}`)
    expectOk(await call('POST', `/v1/experiments/${e.id}/start`), `starting ${e.id}`)
    truth.experiment(e.truthArms)
  }

  let exposures = 0
  let events = 0
  let done = 0
  async function seedChunk(from: number, to: number) {
    const customers: Customer[] = []
    for (let i = from; i < to; i++) customers.push(customerAt(seed, i))
    const byExperiment = new Map<PlacedExperiment, Customer[]>()
    const placement = new Map<Customer, { exp: PlacedExperiment | null; arm: string | null; anchor: number }>()
    for (const c of customers) {
      truth.customer(c)
      const exp = placementOf(c, placed)
      if (exp) {
        const cohort = byExperiment.get(exp)
        if (cohort) cohort.push(c)
        else byExperiment.set(exp, [c])
      } else placement.set(c, { exp: null, arm: null, anchor: real ? clock() - plan.referenceDaysAgo * DAY : clock() })
    }
    for (const [exp, cohort] of byExperiment) {
      const res = expectOk(
        await call('POST', '/v1/assign/batch', { experimentId: exp.id, customers: cohort.map((c) => ({ customerId: c.id, attributes: c.attributes })) }),
        `assigning customers to ${exp.id}`,
      )
      // The server stamped the exposures during that request: later is safe for outcomes, on the same clock.
      const anchor = clock()
      res.assignments.forEach((a: { arm: string | null; reason: string | null }, k: number) => {
        const arm = a.arm ?? (a.reason === 'global_holdout' ? 'global_holdout' : null)
        placement.set(cohort[k], { exp, arm, anchor })
        if (arm) {
          exposures++
          truth.assigned(exp.truthArms, cohort[k], arm)
        }
      })
    }
    // With an injected clock set in the past, outcomes may run up to the real now (what the API accepts).
    const timeline = real ? realTimeline(Date.now()) : compressedTimeline(clock())
    let body: string[] = []
    let bytes = 0
    const post = async () => {
      const r = await call('POST', '/v1/events', body.join('\n'), 'application/x-ndjson')
      const result = expectOk(r, 'posting events')
      if (result.rejected?.length) throw new ApiSeedError(`the API rejected generated events: ${JSON.stringify(result.rejected.slice(0, 3))}`)
      events += body.length
      body = []
      bytes = 0
    }
    for (const c of customers) {
      const p = placement.get(c)!
      for (const row of customerEventRows(seed, c, p.exp, p.arm, p.anchor, timeline)) {
        const line = JSON.stringify(eventInput(row))
        if (bytes + line.length + 1 > MAX_BODY_BYTES) await post()
        body.push(line)
        bytes += line.length + 1
        if (body.length === MAX_EVENTS_PER_POST) await post()
      }
    }
    if (body.length) await post()
    done += to - from
    opts.onProgress?.(done, events)
  }

  let next = 0
  const worker = async () => {
    for (;;) {
      const from = next
      if (from >= total) return
      next = Math.min(total, from + chunkSize)
      await seedChunk(from, next)
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker))

  for (const e of placed) {
    if (e.planned.timeline.stopDaysAgo !== undefined) expectOk(await call('POST', `/v1/experiments/${e.id}/stop`), `stopping ${e.id}`)
    const d = e.planned.decision
    if (d)
      expectOk(
        await call('POST', `/v1/experiments/${e.id}/notes`, { kind: 'decision', body: d.body, chosenArm: d.chosenArm }),
        `recording the decision on ${e.id}`,
      )
  }
  return {
    summary: { mode: 'api', customers: total, experiments: placed.map((e) => e.id), exposures, events, seconds: (performance.now() - started) / 1000 },
    truth: truth.build(),
  }
}
