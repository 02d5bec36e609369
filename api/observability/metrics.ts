import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { BatcherObserver } from '../stores/batcher.ts'

/** One experiment's budget as the decisioning code sees it at scrape time; `reserved` when reservations exist. */
export interface BudgetReading {
  experiment: string
  currency: string
  amount: number
  spent: number
  reserved?: number
}

export interface IngestCounts {
  accepted: number
  duplicates: number
  rejected: Array<{ code?: string }>
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
// Seconds: the hot routes answer in milliseconds, reports in seconds, slow bodies are cut at REQUEST_TIMEOUT_MS.
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const INSERT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The process's Prometheus metrics, in a registry of their own (so that several apps in one test process do not
 * share series). Every label takes values from a fixed set or from the app's own configuration — route patterns,
 * writer names, decision reasons, experiment ids with a budget — never from request input, so the series stay
 * bounded whatever clients send. docs/operations.md lists them.
 *
 * @example
 * const metrics = createMetrics()
 * metrics.request('GET', '/v1/experiments/:id', 200, 0.004)
 * const text = await metrics.registry.metrics()
 */
export function createMetrics(opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry()
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry })
  const registers = [registry]

  const requests = new Counter({
    name: 'retention_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  })
  const requestSeconds = new Histogram({
    name: 'retention_http_request_duration_seconds',
    help: 'Time from the request to its response headers, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  })

  const queues = new Map<string, { pendingRows: number }>()
  new Gauge({
    name: 'retention_write_queue_rows',
    help: 'Rows waiting in a group-commit writer (queued and in flight), read at scrape time',
    labelNames: ['writer'] as const,
    registers,
    collect() {
      this.reset()
      for (const [writer, queue] of queues) this.set({ writer }, queue.pendingRows)
    },
  })
  const insertSeconds = new Histogram({
    name: 'retention_store_insert_duration_seconds',
    help: 'Duration of one group-commit insert, by writer and outcome (ok, failed)',
    labelNames: ['writer', 'outcome'] as const,
    buckets: INSERT_BUCKETS,
    registers,
  })
  const insertedRows = new Counter({
    name: 'retention_store_inserted_rows_total',
    help: 'Rows written by a group-commit writer',
    labelNames: ['writer'] as const,
    registers,
  })
  const rejectedRows = new Counter({
    name: 'retention_store_rejected_rows_total',
    help: 'Rows a group-commit writer answered with an error: rows_refused (422, the store refused them), unavailable, overloaded (buffer full) or shutting_down (503)',
    labelNames: ['writer', 'reason'] as const,
    registers,
  })
  const events = new Counter({
    name: 'retention_events_ingested_total',
    help: 'Rows sent to POST /v1/events, by outcome: accepted, duplicate, invalid (schema) or event_id_reused',
    labelNames: ['outcome'] as const,
    registers,
  })
  const decisions = new Counter({
    name: 'retention_decisions_total',
    help: 'Decisions of /v1/decide by reason: offer (an arm was chosen), holdout, pacing, cooldown, budget, not_targeted, no_experiment',
    labelNames: ['reason'] as const,
    registers,
  })

  let budgets: () => Promise<BudgetReading[]> | BudgetReading[] = () => []
  // The three budget gauges of one scrape share one reading (it may be a database query): the first one collected
  // (prom-client collects in registration order) reads, the other two reuse it.
  let reading: Promise<BudgetReading[]> = Promise.resolve([])
  const budgetGauge = (name: string, help: string, value: (b: BudgetReading) => number | undefined, read = false) =>
    new Gauge({
      name,
      help,
      labelNames: ['experiment', 'currency'] as const,
      registers,
      async collect() {
        this.reset()
        if (read) reading = Promise.resolve().then(budgets)
        for (const b of await reading.catch(() => [])) {
          const v = value(b)
          if (v !== undefined) this.set({ experiment: b.experiment, currency: b.currency }, v)
        }
      },
    })
  budgetGauge('retention_budget_amount', 'An experiment budget, in its currency', (b) => b.amount, true)
  budgetGauge('retention_budget_spent', 'Incentive spend counted against an experiment budget (redemption costs), read at scrape time', (b) => b.spent)
  budgetGauge('retention_budget_reserved', 'Expected cost of issued, unredeemed incentives held against an experiment budget', (b) => b.reserved)

  return {
    registry,
    /** One answered request; `route` is the matched pattern (`/v1/experiments/:id`), never the raw path. */
    request(method: string, route: string, status: number, seconds: number) {
      const m = METHODS.has(method) ? method : 'other'
      requests.inc({ method: m, route, status: String(status) })
      requestSeconds.observe({ method: m, route }, seconds)
    },
    /** Reports a writer's queue depth at each scrape and its inserts as they happen. */
    watchWriter(writer: string, batcher: { pendingRows: number; observer?: BatcherObserver }) {
      queues.set(writer, batcher)
      batcher.observer = {
        insert(rows, seconds, ok) {
          insertSeconds.observe({ writer, outcome: ok ? 'ok' : 'failed' }, seconds)
          if (ok) insertedRows.inc({ writer }, rows)
        },
        rejected(rows, reason) {
          rejectedRows.inc({ writer, reason }, rows)
        },
      }
    },
    ingested(outcome: IngestCounts) {
      if (outcome.accepted) events.inc({ outcome: 'accepted' }, outcome.accepted)
      if (outcome.duplicates) events.inc({ outcome: 'duplicate' }, outcome.duplicates)
      const byCode = new Map<string, number>()
      for (const r of outcome.rejected) byCode.set(r.code ?? 'invalid', (byCode.get(r.code ?? 'invalid') ?? 0) + 1)
      for (const [code, n] of byCode) events.inc({ outcome: code }, n)
    },
    decision(reason: string | null) {
      decisions.inc({ reason: reason ?? 'offer' })
    },
    /** Budgets are read when scraped, from whatever the decisioning code holds then (a failed read leaves them out). */
    watchBudgets(read: () => Promise<BudgetReading[]> | BudgetReading[]) {
      budgets = read
    },
  }
}
export type Metrics = ReturnType<typeof createMetrics>
