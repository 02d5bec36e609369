/**
 * Catalogue metrics on the Overview (docs/kpis.md → Catalogue metrics): which metrics a reader picked (kept in the
 * page's `?metrics=`, as `GET /v1/kpis` takes them), which ones can be picked, and one scope of a metric — the
 * program or one experiment — as a row reads it: each group's value and customers, the lift and its interval, and
 * the verdict. Numbers come from the API's comparison; nothing here recomputes a statistic.
 */
import type { KpiMetric, KpiMetricScope } from '../../../api/contract/index.ts'
import { integer } from './format.ts'
import { effectInterval, effectText, isAbsolute } from './effects.ts'
import { metricDelta, metricValue } from './metricFormat.ts'
import { previewVerdict, type CatalogueMetric, type CustomMetric } from './metricCatalogue.ts'
import type { Verdict } from './significance.ts'
import { KPI_METRICS_MAX, METRIC_REF } from '../../../api/contract/limits.ts'

export type { KpiMetric, KpiMetricScope }

export { KPI_METRICS_MAX }

/**
 * The metrics a URL names: `selectedMetrics('aov, orders_30d@2,aov,Bad!')` → ['aov', 'orders_30d@2']. What cannot
 * be a key is dropped, a repeat counts once, and only the first eight are kept, so a hand-edited link still opens.
 */
export function selectedMetrics(param: string | null | undefined): string[] {
  const keys: string[] = []
  for (const part of (param ?? '').split(',')) {
    const key = part.trim()
    if (METRIC_REF.test(key) && !keys.includes(key)) keys.push(key)
  }
  return keys.slice(0, KPI_METRICS_MAX)
}

/**
 * The page's query string with the selection in it, other parameters kept: `withMetrics('?x=1', ['a', 'b@2'])` →
 * "?x=1&metrics=a,b@2". Keys and versions need no escaping, so the link stays readable.
 */
export function withMetrics(search: string, keys: string[]): string {
  const params = new URLSearchParams(search)
  params.delete('metrics')
  const rest = params.toString()
  const parts = [...(rest ? [rest] : []), ...(keys.length ? [`metrics=${keys.join(',')}`] : [])]
  return parts.length ? `?${parts.join('&')}` : ''
}

/** What the picker offers: the analysts' own live metrics (built-ins are the KPIs already; archived ones are retired). */
export const pickableMetrics = (catalogue: CatalogueMetric[]): CustomMetric[] => catalogue.filter((m): m is CustomMetric => !m.builtIn && !m.archived)

/** The catalogue key of a selection entry: `baseKey('aov@3')` → "aov". */
export const baseKey = (ref: string) => ref.replace(/@\d+$/, '')

/**
 * Whether a lift is shown as significant: the API's own verdict, and never beside an unbounded interval (ci null
 * excludes nothing). The row's badge and the CSV read this one rule.
 */
export const isSignificant = (c: NonNullable<KpiMetricScope['lift']>) => c.significant && c.ci !== null

/** One scope of a metric as a row shows it. */
export interface MetricScopeRow {
  treated: string
  treatedN: string
  holdout: string
  holdoutN: string
  /** The relative lift ("+4.2%"), or the absolute difference when the relative one is undefined. */
  lift: string
  /** The 95% interval the verdict was made with, in the lift's units; null without a comparison. */
  interval: string | null
  /** The absolute difference beside a relative lift ("+1.2 pp"), or a note that the lift itself is absolute. */
  beside: string | null
  verdict: Verdict
  /** Why there is no lift: a group without customers, or the comparison's own reason. */
  missing: string | null
}

/**
 * `scopeRow(metric, metric.programs[0])` → the texts of that experiment's row. The verdict is the report's
 * (significance.ts) on the comparison's own `significant`, never one its printed interval contradicts.
 */
export function scopeRow(metric: Pick<KpiMetric, 'format' | 'direction'>, scope: KpiMetricScope, code = 'USD'): MetricScopeRow {
  const c = scope.lift
  const verdict = previewVerdict(c ? { ...c, significant: isSignificant(c) } : undefined, metric.direction !== 'lower')
  const groups = {
    treated: metricValue(metric.format, scope.treated.value, code),
    treatedN: integer(scope.treated.n),
    holdout: metricValue(metric.format, scope.globalHoldout.value, code),
    holdoutN: integer(scope.globalHoldout.n),
  }
  if (!c) {
    const empty = scope.treated.n === 0 ? 'no treated customer' : 'no globally held-out customer'
    return { ...groups, lift: '—', interval: null, beside: null, verdict, missing: `${empty} with a closed window yet` }
  }
  if (c.notEstimable || c.estimate === null) {
    return { ...groups, lift: '—', interval: null, beside: null, verdict, missing: c.notEstimable?.message ?? 'not estimable' }
  }
  const beside = isAbsolute(c)
    ? c.fallback === 'absolute'
      ? 'absolute difference: the holdout’s value is 0'
      : 'absolute difference'
    : c.absolute.estimate !== null
      ? metricDelta(metric.format, c.absolute.estimate, code)
      : null
  return {
    ...groups,
    lift: effectText(c, metric.format, code),
    interval: c.ci ? effectInterval(c, metric.format, code) : 'interval unbounded',
    beside,
    verdict,
    missing: null,
  }
}
