import { describe, expect, it } from 'vitest'
import { pickableMetrics, scopeRow, selectedMetrics, withMetrics, type KpiMetricScope } from '../../../ui/src/lib/kpiMetrics.ts'
import type { CatalogueMetric } from '../../../ui/src/lib/metricCatalogue.ts'
import { kpiComparison } from './comparison-fixture.ts'

// Catalogue metrics on the Overview: the choice read from and written to the URL, what the picker offers, and one
// scope of a metric as its row reads it. No DOM.

const comparison = kpiComparison
const scope = (lift: KpiMetricScope['lift'], holdoutN = 500): KpiMetricScope => ({
  treated: { arm: 'treated', n: 9_500, value: 0.12, stats: { n: 9_500, sum: 1_140 } },
  globalHoldout: { arm: 'global_holdout', n: holdoutN, value: holdoutN ? 0.1 : null, stats: { n: holdoutN, sum: holdoutN * 0.1 } },
  lift,
})

describe('the metrics chosen for the Overview', () => {
  it('reads keys and pinned versions from ?metrics=, dropping what cannot be a key and repeats, eight at most', () => {
    expect(selectedMetrics('aov, orders_30d@2,aov,Bad!,,x')).toEqual(['aov', 'orders_30d@2'])
    expect(selectedMetrics(null)).toEqual([])
    expect(selectedMetrics(Array.from({ length: 10 }, (_, i) => `m_${i}`).join(','))).toHaveLength(8)
  })

  it('writes the choice into the query string readably and keeps the other parameters', () => {
    expect(withMetrics('?x=1', ['a_b', 'cc@2'])).toBe('?x=1&metrics=a_b,cc@2')
    expect(withMetrics('?metrics=old&x=1', [])).toBe('?x=1')
    expect(withMetrics('', [])).toBe('')
    expect(selectedMetrics(new URLSearchParams(withMetrics('', ['a_b', 'cc@2']).slice(1)).get('metrics'))).toEqual(['a_b', 'cc@2'])
  })

  it('offers the analysts’ own live metrics only', () => {
    const catalogue = [
      { key: 'reactivation', builtIn: true, archived: false },
      { key: 'aov', builtIn: false, archived: false },
      { key: 'old', builtIn: false, archived: true },
    ] as CatalogueMetric[]
    expect(pickableMetrics(catalogue).map((m) => m.key)).toEqual(['aov'])
  })
})

describe('one scope of a catalogue metric as its row reads it', () => {
  it('formats each group by the metric’s format and the lift with the interval its verdict was made with', () => {
    const row = scopeRow({ format: 'percent', direction: 'higher' }, scope(comparison(0.2, [0.05, 0.35])))
    expect(row).toMatchObject({ treated: '12.0%', treatedN: '9,500', holdout: '10.0%', holdoutN: '500', lift: '+20.0%', interval: '[+5.0%, +35.0%]' })
    expect(row.beside).toBe('+2.0 pp')
    expect(row.verdict.label).toBe('Significant ▲ better')
  })

  it('colours a significant rise red when lower is better, and says inconclusive when the interval spans 0', () => {
    expect(scopeRow({ format: 'number', direction: 'lower' }, scope(comparison(0.2, [0.05, 0.35]))).verdict).toMatchObject({
      tone: 'negative',
      label: 'Significant ▲ worse',
    })
    expect(scopeRow({ format: 'number', direction: 'lower' }, scope(comparison(-0.2, [-0.35, -0.05]))).verdict.tone).toBe('positive')
    expect(scopeRow({ format: 'number', direction: 'higher' }, scope(comparison(0.1, [-0.05, 0.25]))).verdict.label).toBe('Inconclusive')
  })

  it('never shows a significant badge beside an interval that does not exclude 0, nor beside an unbounded one', () => {
    const contradicted = scopeRow({ format: 'percent', direction: 'higher' }, scope(comparison(0.1, [-0.05, 0.25], { significant: true })))
    expect(contradicted.verdict.label).toBe('Inconclusive')
    const unbounded = scopeRow({ format: 'percent', direction: 'higher' }, scope(comparison(0.1, null, { significant: true, ciUnbounded: true })))
    expect(unbounded).toMatchObject({ interval: 'interval unbounded', verdict: { label: 'Inconclusive' } })
  })

  it('shows an absolute difference in the metric’s units when the holdout’s value is 0', () => {
    const row = scopeRow({ format: 'currency', direction: 'higher' }, scope(comparison(1.5, [0.9, 2.1], { kind: 'absolute', fallback: 'absolute' })))
    expect(row).toMatchObject({ lift: '+$1.50', interval: '[+$0.90, +$2.10]', beside: 'absolute difference: the holdout’s value is 0' })
  })

  it('says why there is no lift while a group is empty', () => {
    const row = scopeRow({ format: 'percent', direction: 'higher' }, scope(null, 0))
    expect(row).toMatchObject({ lift: '—', interval: null, holdout: '—', missing: 'no globally held-out customer with a closed window yet' })
    expect(row.verdict.label).toBe('Not estimable')
  })
})
