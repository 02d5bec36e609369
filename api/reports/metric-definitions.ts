import type { MetricKey } from '../experiments/schema.ts'
import type { MetricFormat, MetricKind } from '../contract/report.ts'

export interface MetricDefinition {
  key: MetricKey
  label: string
  kind: MetricKind
  format: MetricFormat
  /** Direction of a good change; unsubscribes and incentive cost are better lower. */
  higherIsBetter: boolean
  /** Survival metrics: which per-day counts of the arm statistics feed the curve. */
  survivalColumn?: 'survival' | 'repurchase'
  /** CUPED covariate column (the same metric over the pre-exposure lookback), when the metric has one. */
  cupedPre?: 'pre_revenue' | 'pre_orders'
  description: string
}

/** The metrics of DESIGN.md, per customer, with every customer assigned to the arm in the denominator. */
export const metricDefinitions: MetricDefinition[] = [
  {
    key: 'redemption',
    label: 'Redemption rate',
    kind: 'proportion',
    format: 'percent',
    higherIsBetter: true,
    description: "redeemed this experiment's offer in the window",
  },
  {
    key: 'reactivation',
    label: 'Reactivation rate',
    kind: 'proportion',
    format: 'percent',
    higherIsBetter: true,
    description: 'made at least one purchase in the window',
  },
  {
    key: 'repeat_purchase',
    label: 'Repeat-purchase rate',
    kind: 'proportion',
    format: 'percent',
    higherIsBetter: true,
    description: 'made at least two purchases in the window',
  },
  {
    key: 'revenue',
    label: 'Revenue per customer',
    kind: 'mean',
    format: 'currency',
    higherIsBetter: true,
    cupedPre: 'pre_revenue',
    description: 'purchase revenue minus refunds in the window',
  },
  {
    key: 'ltv',
    label: 'LTV per customer',
    kind: 'mean',
    format: 'currency',
    higherIsBetter: true,
    cupedPre: 'pre_revenue',
    description: 'purchase revenue minus refunds over the LTV window',
  },
  {
    key: 'orders',
    label: 'Orders per customer',
    kind: 'mean',
    format: 'number',
    higherIsBetter: true,
    cupedPre: 'pre_orders',
    description: 'purchases in the window',
  },
  {
    key: 'aov',
    label: 'Average order value',
    kind: 'ratio',
    format: 'currency',
    higherIsBetter: true,
    description: 'purchase revenue / purchases in the window (delta method)',
  },
  {
    key: 'incentive_cost',
    label: 'Incentive cost per customer',
    kind: 'mean',
    format: 'currency',
    higherIsBetter: false,
    description: 'sum of redemption costs in the window',
  },
  {
    key: 'net_value',
    label: 'Net value per customer',
    kind: 'mean',
    format: 'currency',
    higherIsBetter: true,
    description: 'margin (or revenue × default margin rate) net of refunds, minus incentive cost',
  },
  {
    key: 'time_to_purchase',
    label: 'Time to first purchase',
    kind: 'survival',
    format: 'days',
    higherIsBetter: false,
    survivalColumn: 'survival',
    description: 'days from first exposure to first purchase (Kaplan–Meier; restricted mean within the window)',
  },
  {
    key: 'time_to_repurchase',
    label: 'Time to repurchase',
    kind: 'survival',
    format: 'days',
    higherIsBetter: false,
    survivalColumn: 'repurchase',
    description:
      'for customers who purchased in the window: days from that first purchase to the next, followed for as long as the window (Kaplan–Meier; restricted mean)',
  },
  {
    key: 'unsubscribe',
    label: 'Unsubscribe rate',
    kind: 'proportion',
    format: 'percent',
    higherIsBetter: false,
    description: 'unsubscribed in the window (guardrail)',
  },
]

export const metricByKey = new Map(metricDefinitions.map((m) => [m.key, m]))
