import { getReport, type Experiment } from './api.ts'
import { limiter } from './limit.ts'
import type { ExperimentReport, MetricComparison, MetricResult } from './reports.ts'

/**
 * The primary metric's lift for list views (experiments list, overview), from the report endpoint asked for
 * the primary metric only. Requests go two at a time and answers are kept for a minute, shared by every
 * page, so scrolling a long list or going back and forth does not hammer the API.
 */
export interface PrimaryLift {
  metric: MetricResult | null
  /** Variant-vs-control comparisons on the primary metric, in arm order. */
  comparisons: MetricComparison[]
  arms: ExperimentReport['arms']
  srm: ExperimentReport['srm']
  totalCustomers: number
}

const FRESH_MS = 60_000
const queue = limiter(2)
const cache = new Map<string, { at: number; answer: Promise<PrimaryLift> }>()

/** Only experiments that have started have a report. */
export const hasReport = (e: Pick<Experiment, 'status'>) => e.status === 'running' || e.status === 'paused' || e.status === 'stopped'

export function primaryLift(e: Pick<Experiment, 'id' | 'updatedAt' | 'analysis'>): Promise<PrimaryLift> {
  const key = `${e.id}@${e.updatedAt}`
  const hit = cache.get(key)
  if (hit && Date.now() - hit.at < FRESH_MS) return hit.answer
  const answer = queue(() => getReport(e.id, { metrics: [e.analysis.primaryMetric] })).then((r) => {
    const metric = r.metrics.find((m) => m.key === e.analysis.primaryMetric) ?? null
    return { metric, comparisons: metric?.comparisons.filter((c) => c.against === 'control') ?? [], arms: r.arms, srm: r.srm, totalCustomers: r.totalCustomers }
  })
  cache.set(key, { at: Date.now(), answer })
  answer.catch(() => cache.delete(key))
  return answer
}
