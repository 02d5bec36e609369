import { describe, expect, it } from 'vitest'
import { parsePrometheusText } from '../helpers/prometheus-text.ts'
import { createMetrics } from '../../api/observability/metrics.ts'

const histogram = (buckets: string) => `# TYPE h histogram\n${buckets}h_sum 1\nh_count 2\n`

describe('the Prometheus text parser of the tests', () => {
  it('reads what prom-client writes, escapes included', async () => {
    const metrics = createMetrics({ processMetrics: false })
    metrics.request('GET', '/v1/x/:id', 200, 0.003)
    metrics.request('GET', '/v1/x/:id', 200, 0.2)
    metrics.decision(null)
    metrics.watchBudgets(() => [{ experiment: 'a "quoted"\\\nname', currency: 'USD', amount: 10, spent: 2.5 }])
    const m = parsePrometheusText(await metrics.registry.metrics())
    expect(m.value('retention_http_requests_total', { route: '/v1/x/:id', status: '200' })).toBe(2)
    expect(m.value('retention_http_request_duration_seconds_bucket', { route: '/v1/x/:id', le: '0.005' })).toBe(1)
    expect(m.value('retention_http_request_duration_seconds_bucket', { route: '/v1/x/:id', le: '+Inf' })).toBe(2)
    expect(m.value('retention_decisions_total', { reason: 'offer' })).toBe(1)
    expect(m.value('retention_budget_spent', { experiment: 'a "quoted"\\\nname' })).toBe(2.5)
    expect(m.families.get('retention_http_request_duration_seconds')?.type).toBe('histogram')
  })

  it.each([
    ['a value that is not a number', 'x 1O\n'],
    ['a bad metric name', '1x 1\n'],
    ['an unterminated label value', 'x{a="b} 1\n'],
    ['an unknown escape', 'x{a="\\t"} 1\n'],
    ['a repeated label', 'x{a="1",a="2"} 1\n'],
    ['a duplicate series', 'x{a="1"} 1\nx{a="1"} 2\n'],
    ['a family split by another', 'x{a="1"} 1\ny 1\nx{a="2"} 1\n'],
    ['a TYPE after samples', 'x 1\n# TYPE x gauge\n'],
    ['an unknown type', '# TYPE x meter\n'],
    ['a negative counter', '# TYPE x counter\nx -1\n'],
    ['no final newline', 'x 1'],
    ['a histogram without +Inf', histogram('h_bucket{le="1"} 2\n')],
    ['a histogram whose +Inf differs from _count', histogram('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\n')],
    ['buckets that are not cumulative', histogram('h_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\n')],
  ])('refuses %s', (_problem, text) => {
    expect(() => parsePrometheusText(text)).toThrow()
  })
})
