import { compareMeans, compareProportions, type Comparison } from '../../stats/index.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { KpiReport } from '../contract/kpis.ts'
import { kpiImmatureSql, kpiSql } from './sql/kpis.ts'

const DAY = 86_400_000

interface GroupSums {
  n: number
  reactivated: number
  revenue_sum: number
  revenue_ss: number
  cost_sum: number
  net_sum: number
  net_ss: number
}
const zero = (): GroupSums => ({ n: 0, reactivated: 0, revenue_sum: 0, revenue_ss: 0, cost_sum: 0, net_sum: 0, net_ss: 0 })
const add = (a: GroupSums, b: GroupSums) => {
  for (const k of Object.keys(a) as (keyof GroupSums)[]) a[k] += b[k]
}
const per = (sum: number, n: number) => (n > 0 ? sum / n : null)

function groupView(g: GroupSums) {
  return {
    n: g.n,
    reactivationRate: per(g.reactivated, g.n),
    revenuePerCustomer: per(g.revenue_sum, g.n),
    netValuePerCustomer: per(g.net_sum, g.n),
    incentiveSpend: g.cost_sum,
  }
}

function lifts(t: GroupSums, h: GroupSums, alpha: number) {
  return {
    reactivation: compareProportions(
      { n: h.n, sum: h.reactivated },
      { n: t.n, sum: t.reactivated },
      { alpha, metric: 'reactivation', baseline: 'global_holdout', variant: 'treated' },
    ),
    revenuePerCustomer: compareMeans(
      { n: h.n, sum: h.revenue_sum, sumSquares: h.revenue_ss },
      { n: t.n, sum: t.revenue_sum, sumSquares: t.revenue_ss },
      { alpha, metric: 'revenue', baseline: 'global_holdout', variant: 'treated' },
    ),
  }
}

const scaled = (c: Comparison, factor: number) => ({
  estimate: c.estimate === null ? null : c.estimate * factor,
  ci: c.ci ? ([c.ci[0] * factor, c.ci[1] * factor] as [number, number]) : null,
})

/**
 * Program KPIs for executives: treated vs global holdout reactivation and revenue per customer with intervals,
 * incremental revenue and net value (per-customer difference × treated customers), incentive spend, ROI
 * (incremental net value per unit of incentive spend), a weekly trend, and the experiment portfolio.
 */
export async function programKpis(
  ch: ClickHouse,
  experiments: Experiment[],
  q: { from: number; to: number; windowDays: number; asOf: number; marginRate: number; alpha: number; includeImmature?: boolean },
): Promise<KpiReport> {
  const params = { from: q.from, to: q.to, asOf: q.asOf, windowMs: q.windowDays * DAY, marginRate: q.marginRate, includeImmature: q.includeImmature ? 1 : 0 }
  const [r, im] = await Promise.all([
    ch.client.query({ query: kpiSql, query_params: params, format: 'JSONEachRow' }),
    ch.client.query({ query: kpiImmatureSql, query_params: params, format: 'JSONEachRow' }),
  ])
  const rows = await r.json<Record<string, string | number>>()
  const immature = Number((await im.json<{ immature: string }>())[0]?.immature ?? 0)
  const weeks = new Map<string, { treated: GroupSums; global_holdout: GroupSums }>()
  const total = { treated: zero(), global_holdout: zero() }
  for (const row of rows) {
    const sums: GroupSums = {
      n: +row.n,
      reactivated: +row.reactivated,
      revenue_sum: +row.revenue_sum,
      revenue_ss: +row.revenue_ss,
      cost_sum: +row.cost_sum,
      net_sum: +row.net_sum,
      net_ss: +row.net_ss,
    }
    const grp = row.grp as 'treated' | 'global_holdout'
    const week = String(row.week)
    const w = weeks.get(week) ?? { treated: zero(), global_holdout: zero() }
    add(w[grp], sums)
    add(total[grp], sums)
    weeks.set(week, w)
  }
  const t = total.treated
  const h = total.global_holdout
  const overall = lifts(t, h, q.alpha)
  const revenueDiff = compareMeans(
    { n: h.n, sum: h.revenue_sum, sumSquares: h.revenue_ss },
    { n: t.n, sum: t.revenue_sum, sumSquares: t.revenue_ss },
    { kind: 'absolute', alpha: q.alpha },
  )
  const netDiff = compareMeans(
    { n: h.n, sum: h.net_sum, sumSquares: h.net_ss },
    { n: t.n, sum: t.net_sum, sumSquares: t.net_ss },
    { kind: 'absolute', alpha: q.alpha },
  )
  const incrementalNetValue = scaled(netDiff, t.n)
  const byStatus = (s: Experiment['status']) => experiments.filter((e) => e.status === s).length
  return {
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    windowDays: q.windowDays,
    /** Customers inside their window at asOf: counted only when includeImmature is set. */
    maturity: { immature, included: q.includeImmature ?? false },
    treated: groupView(t),
    globalHoldout: groupView(h),
    lift: overall,
    incrementalRevenue: scaled(revenueDiff, t.n),
    incrementalNetValue,
    incentiveSpend: t.cost_sum,
    roi: t.cost_sum > 0 && incrementalNetValue.estimate !== null ? incrementalNetValue.estimate / t.cost_sum : null,
    weekly: [...weeks]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([week, g]) => {
        const l = lifts(g.treated, g.global_holdout, q.alpha)
        return {
          week,
          treated: groupView(g.treated),
          globalHoldout: groupView(g.global_holdout),
          reactivationLift: { estimate: l.reactivation.estimate, ci: l.reactivation.ci },
          revenueLift: { estimate: l.revenuePerCustomer.estimate, ci: l.revenuePerCustomer.ci },
        }
      }),
    experiments: {
      running: byStatus('running'),
      paused: byStatus('paused'),
      stopped: byStatus('stopped'),
      draft: byStatus('draft'),
      decisions: experiments
        .filter((e) => e.decision)
        .map((e) => ({ experimentId: e.id, name: e.name, chosenArm: e.decision!.chosenArm, rationale: e.decision!.body, decidedAt: e.decision!.createdAt })),
    },
  }
}
