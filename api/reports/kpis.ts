import { compareMeans, compareProportions } from '../../stats/index.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Experiment } from '../experiments/schema.ts'
import type { KpiEstimate, KpiGroup, KpiProgram, KpiReport } from '../contract/kpis.ts'
import { kpiHeadline } from './kpi-headline.ts'
import { kpiSqlFor, kpiWindowFeaturesSql, type KpiSegmentFilter } from './sql/kpis.ts'
import type { ReportCatalogueMetric } from './catalogue-metrics.ts'
import { programMetrics } from './kpi-metrics.ts'
import { rfmGroupAmong } from '../segments/profile.ts'
import { ruleSql, ruleUsesRfm, SqlParams } from '../segments/rule-sql.ts'
import type { StoredSegment } from '../segments/schema.ts'

const DAY = 86_400_000
/** The run rate of newly treated customers is measured over the period's last four weeks (or the whole period). */
const RUN_RATE_DAYS = 28

interface GroupSums {
  n: number
  reactivated: number
  revenue_sum: number
  revenue_ss: number
  cost_sum: number
  net_sum: number
  net_ss: number
  immature: number
  recent: number
}
const zero = (): GroupSums => ({ n: 0, reactivated: 0, revenue_sum: 0, revenue_ss: 0, cost_sum: 0, net_sum: 0, net_ss: 0, immature: 0, recent: 0 })
const add = (a: GroupSums, b: GroupSums) => {
  for (const k of Object.keys(a) as (keyof GroupSums)[]) a[k] += b[k]
}
const per = (sum: number, n: number) => (n > 0 ? sum / n : null)

interface Pair {
  treated: GroupSums
  global_holdout: GroupSums
}
const pair = (): Pair => ({ treated: zero(), global_holdout: zero() })

function groupView(g: GroupSums): KpiGroup {
  return {
    n: g.n,
    reactivationRate: per(g.reactivated, g.n),
    revenuePerCustomer: per(g.revenue_sum, g.n),
    netValuePerCustomer: per(g.net_sum, g.n),
    incentiveSpend: g.cost_sum,
  }
}

const estimate = (c: { estimate: number | null; ci: [number, number] | null }): KpiEstimate => ({ estimate: c.estimate, ci: c.ci })
const scaled = (c: KpiEstimate, factor: number): KpiEstimate => ({
  estimate: c.estimate === null ? null : c.estimate * factor,
  ci: c.ci ? [c.ci[0] * factor, c.ci[1] * factor] : null,
})

/** Treated vs global holdout for one scope: relative lifts and the absolute per-customer differences. */
function compare({ treated: t, global_holdout: h }: Pair, alpha: number) {
  const means = (g: GroupSums, sum: 'revenue_sum' | 'net_sum', ss: 'revenue_ss' | 'net_ss') => ({ n: g.n, sum: g[sum], sumSquares: g[ss] })
  return {
    reactivation: compareProportions(
      { n: h.n, sum: h.reactivated },
      { n: t.n, sum: t.reactivated },
      { alpha, metric: 'reactivation', baseline: 'global_holdout', variant: 'treated' },
    ),
    revenuePerCustomer: compareMeans(means(h, 'revenue_sum', 'revenue_ss'), means(t, 'revenue_sum', 'revenue_ss'), {
      alpha,
      metric: 'revenue',
      baseline: 'global_holdout',
      variant: 'treated',
    }),
    revenueDiff: estimate(compareMeans(means(h, 'revenue_sum', 'revenue_ss'), means(t, 'revenue_sum', 'revenue_ss'), { kind: 'absolute', alpha })),
    netDiff: estimate(compareMeans(means(h, 'net_sum', 'net_ss'), means(t, 'net_sum', 'net_ss'), { kind: 'absolute', alpha })),
  }
}

/**
 * ROI = incremental net value / incentive spend. The spend is the amount actually paid out (observed, not
 * estimated), so the interval is the net value's interval over it and excludes zero exactly when that one does.
 */
function roiOf(net: KpiEstimate, spend: number): KpiEstimate {
  if (!(spend > 0) || net.estimate === null) return { estimate: null, ci: null }
  return scaled(net, 1 / spend)
}

export interface KpiQuery {
  from: number
  to: number
  windowDays: number
  asOf: number
  marginRate: number
  alpha: number
  includeImmature?: boolean
  globalHoldoutPct: number
  /** The period in words ("the last 90 days"); the route knows whether the caller chose the dates. */
  periodLabel: string
  /** Only the customers who met this segment's rule when their window started (features from events before it). */
  segment?: StoredSegment
  /** Catalogue metrics to report treated vs global holdout, each at the version resolved by the caller. */
  metrics?: ReportCatalogueMetric[]
}

/**
 * Program KPIs for executives: treated vs global holdout reactivation and revenue per customer with intervals,
 * incremental revenue and net value (per-customer difference × treated customers), incentive spend, ROI with its
 * interval, the projected annual impact at the current run rate, a weekly trend of the differences, the
 * per-experiment breakdown, and one sentence that says it all (docs/kpis.md).
 */
export async function programKpis(ch: ClickHouse, experiments: Experiment[], q: KpiQuery): Promise<KpiReport> {
  const basisDays = Math.max(1, Math.min(RUN_RATE_DAYS, Math.round((q.to - q.from) / DAY)))
  // Scope 0 is the whole program; scope i is ids[i - 1] (ClickHouse's indexOf counts from 1).
  const ids = experiments.map((e) => e.id)
  const params = {
    ids,
    from: q.from,
    to: q.to,
    asOf: q.asOf,
    windowMs: q.windowDays * DAY,
    marginRate: q.marginRate,
    includeImmature: q.includeImmature ? 1 : 0,
    recentFrom: Math.max(q.from, q.to - basisDays * DAY),
  }
  const filter = q.segment ? await segmentFilter(ch, q.segment, params) : null
  const [rows, metrics] = await Promise.all([
    queryRows(ch, kpiSqlFor(filter?.segment), { ...params, ...filter?.params }),
    programMetrics(ch, { ids, experiments, alpha: q.alpha, metrics: q.metrics ?? [] }, { ...params, ...filter?.params }, filter?.segment),
  ])

  const weeks = new Map<string, Pair>()
  const scopes = new Map<string, Pair>()
  for (const row of rows) {
    const sums: GroupSums = {
      n: +row.n,
      reactivated: +row.reactivated,
      revenue_sum: +row.revenue_sum,
      revenue_ss: +row.revenue_ss,
      cost_sum: +row.cost_sum,
      net_sum: +row.net_sum,
      net_ss: +row.net_ss,
      immature: +row.immature,
      recent: +row.recent,
    }
    const grp = row.grp as keyof Pair
    const scope = Number(row.scope) === 0 ? '' : ids[Number(row.scope) - 1]
    if (!scopes.has(scope)) scopes.set(scope, pair())
    add(scopes.get(scope)![grp], sums)
    if (scope === '') {
      const week = String(row.week)
      if (!weeks.has(week)) weeks.set(week, pair())
      add(weeks.get(week)![grp], sums)
    }
  }

  const total = scopes.get('') ?? pair()
  const t = total.treated
  const overall = compare(total, q.alpha)
  const incrementalNetValue = scaled(overall.netDiff, t.n)
  const treatedPerYear = (t.recent / basisDays) * 365
  const byId = new Map(experiments.map((e) => [e.id, e]))
  const programs: KpiProgram[] = [...scopes]
    .filter(([scope, p]) => scope !== '' && p.treated.n + p.global_holdout.n > 0)
    .map(([scope, p]) => {
      const c = compare(p, q.alpha)
      const net = scaled(c.netDiff, p.treated.n)
      const e = byId.get(scope)
      return {
        experimentId: scope,
        name: e?.name ?? scope,
        trigger: e?.trigger ?? null,
        status: e?.status ?? 'stopped',
        treated: groupView(p.treated),
        globalHoldout: groupView(p.global_holdout),
        incrementalNetValue: net,
        reactivationLift: estimate(c.reactivation),
        incentiveSpend: p.treated.cost_sum,
        roi: roiOf(net, p.treated.cost_sum),
      }
    })
    .sort((a, b) => (b.incrementalNetValue.estimate ?? -Infinity) - (a.incrementalNetValue.estimate ?? -Infinity) || a.name.localeCompare(b.name))

  const byStatus = (s: Experiment['status']) => experiments.filter((e) => e.status === s).length
  const roi = roiOf(incrementalNetValue, t.cost_sum)
  const report: Omit<KpiReport, 'headline'> = {
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    segment: q.segment ? { key: q.segment.key, name: q.segment.name, version: q.segment.version } : null,
    periodLabel: q.periodLabel,
    windowDays: q.windowDays,
    globalHoldoutPct: q.globalHoldoutPct,
    maturity: { immature: total.treated.immature + total.global_holdout.immature, included: q.includeImmature ?? false },
    treated: groupView(t),
    globalHoldout: groupView(total.global_holdout),
    lift: { reactivation: overall.reactivation, revenuePerCustomer: overall.revenuePerCustomer },
    incrementalRevenue: scaled(overall.revenueDiff, t.n),
    incrementalNetValue,
    incentiveSpend: t.cost_sum,
    roi: roi.estimate,
    roiCi: roi.ci,
    // Nobody newly treated lately: no run rate to project from (not a projection of $0).
    projectedAnnual: {
      netValue: t.recent > 0 ? scaled(overall.netDiff, treatedPerYear) : { estimate: null, ci: null },
      treatedPerYear: t.recent > 0 ? treatedPerYear : null,
      basisDays,
    },
    weekly: [...weeks]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([week, g]) => {
        const c = compare(g, q.alpha)
        return {
          week,
          treated: groupView(g.treated),
          globalHoldout: groupView(g.global_holdout),
          reactivationLift: estimate(c.reactivation),
          revenueLift: estimate(c.revenuePerCustomer),
          incrementalNetValue: scaled(c.netDiff, g.treated.n),
        }
      }),
    programs,
    metrics,
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
  return { ...report, headline: kpiHeadline(report) }
}

/**
 * A segment's rule as a filter of the KPI windows, with its bound values. A rule over the RFM group needs cut
 * points: the quintiles among the period's windows whose customer had bought before the window started, each as of then.
 */
async function segmentFilter(
  ch: ClickHouse,
  segment: StoredSegment,
  params: Record<string, unknown>,
): Promise<{ segment: KpiSegmentFilter; params: Record<string, unknown> }> {
  const bound = new SqlParams('kseg_')
  const rfm = ruleUsesRfm(segment.rule) ? await rfmGroupAmong(ch, kpiWindowFeaturesSql(), params, bound) : undefined
  return { segment: { where: ruleSql(segment.rule, bound), rfm }, params: bound.values }
}

const queryRows = async (ch: ClickHouse, query: string, params: Record<string, unknown>) =>
  (await ch.client.query({ query, query_params: params, format: 'JSONEachRow' })).json<Record<string, string | number>>()
