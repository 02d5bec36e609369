import { compareMeans, type Comparison } from '../../stats/index.ts'
import type { Economics } from '../contract/report.ts'
import type { ArmStatsRow } from './sql/arm-stats.ts'

const perCustomer = (sum: number, n: number) => (n > 0 ? sum / n : null)

/** The offer economics of one arm against a baseline, from the same per-arm sufficient statistics. */
export function armEconomics(baseline: ArmStatsRow, variant: ArmStatsRow, against: 'control' | 'holdout', alpha: number): Economics {
  const net: Comparison = compareMeans(
    { n: baseline.n, sum: baseline.net_sum, sumSquares: baseline.net_ss },
    { n: variant.n, sum: variant.net_sum, sumSquares: variant.net_ss },
    { kind: 'absolute', alpha },
  )
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a)
  const costDiff = diff(perCustomer(baseline.cost_sum, baseline.n), perCustomer(variant.cost_sum, variant.n))
  const reactivationDiff = diff(perCustomer(baseline.reactivation, baseline.n), perCustomer(variant.reactivation, variant.n))
  const netDiff = net.estimate ?? diff(perCustomer(baseline.net_sum, baseline.n), perCustomer(variant.net_sum, variant.n))
  return {
    arm: variant.arm,
    against,
    n: variant.n,
    incrementalNetValuePerCustomer: { estimate: netDiff, ci: net.ci },
    incrementalNetValueTotal: netDiff === null ? null : netDiff * variant.n,
    incrementalIncentiveCostPerCustomer: costDiff,
    incrementalRevenuePerCustomer: diff(perCustomer(baseline.revenue_sum, baseline.n), perCustomer(variant.revenue_sum, variant.n)),
    incentiveSpend: variant.cost_sum,
    roi: costDiff !== null && costDiff > 0 && netDiff !== null ? netDiff / costDiff : null,
    costPerIncrementalReactivation: costDiff !== null && reactivationDiff !== null && reactivationDiff > 0 ? costDiff / reactivationDiff : null,
  }
}
