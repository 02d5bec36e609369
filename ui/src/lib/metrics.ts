import type { MetricKey, MetricKind } from '../../../api/contract/index.ts'

export type { MetricKey, MetricKind }

export interface MetricInfo {
  label: string
  kind: MetricKind
  /** How a value of the metric reads: a rate, money, a count or days. */
  unit: 'rate' | 'currency' | 'count' | 'days'
  description: string
}

/** Every metric of the design, in the order the dashboard lists them (the keys are MetricKey's). */
export const METRICS: Record<MetricKey, MetricInfo> = {
  redemption: { label: 'Redemption rate', kind: 'proportion', unit: 'rate', description: 'redeemed this experiment’s offer in the window' },
  reactivation: { label: 'Reactivation rate', kind: 'proportion', unit: 'rate', description: 'made at least one purchase in the window' },
  repeat_purchase: { label: 'Repeat-purchase rate', kind: 'proportion', unit: 'rate', description: 'made two or more purchases in the window' },
  revenue: { label: 'Revenue per customer', kind: 'mean', unit: 'currency', description: 'purchase revenue minus refunds in the window' },
  ltv: { label: 'LTV per customer', kind: 'mean', unit: 'currency', description: 'revenue minus refunds over the LTV window' },
  orders: { label: 'Orders per customer', kind: 'mean', unit: 'count', description: 'purchases in the window' },
  aov: { label: 'Average order value', kind: 'ratio', unit: 'currency', description: 'revenue per order (delta method)' },
  incentive_cost: { label: 'Incentive cost per customer', kind: 'mean', unit: 'currency', description: 'redemption cost in the window' },
  net_value: { label: 'Net value per customer', kind: 'mean', unit: 'currency', description: 'margin minus incentive cost' },
  time_to_purchase: { label: 'Time to first purchase', kind: 'survival', unit: 'days', description: 'days from exposure to first purchase' },
  time_to_repurchase: {
    label: 'Time to repurchase',
    kind: 'survival',
    unit: 'days',
    description: 'for customers who purchased in the window: days from that purchase to the next',
  },
  unsubscribe: { label: 'Unsubscribe rate', kind: 'proportion', unit: 'rate', description: 'unsubscribed in the window (guardrail)' },
}

export const METRIC_KEYS = Object.keys(METRICS) as MetricKey[]

export const metricLabel = (key: string): string => METRICS[key as MetricKey]?.label ?? key

export const isBuiltInMetric = (key: string): key is MetricKey => Object.hasOwn(METRICS, key)
