import { moneyScale, scaledMoney } from '../contract/money.ts'
import type { KpiHeadline, KpiReport } from '../contract/kpis.ts'

/** Figures read together on one scale, chosen by the largest of them (the dashboard's cards use the same rule). */
function sentenceMoney(values: number[]): (x: number, signed?: boolean) => string {
  const scale = moneyScale(values)
  return (x, signed = false) => scaledMoney(x, scale, 'USD', signed)
}

/** "5%", "2.5%": the holdout share as people write it. */
const share = (x: number) => `${+(x * 100).toFixed(2)}%`

/**
 * The overview's answer in one sentence, from the report's own numbers: the incremental net value over the
 * period with its interval, against the global holdout, after the incentives paid. Whether it says "earned",
 * "lost" or "not distinguishable from zero" follows the interval printed in the same sentence, so the words can
 * never contradict the numbers beside them.
 */
export function kpiHeadline(r: Omit<KpiReport, 'headline'>, level = 0.95): KpiHeadline {
  const { estimate, ci } = r.incrementalNetValue
  const vs = r.globalHoldoutPct > 0 ? `the ${share(r.globalHoldoutPct)} global holdout` : 'the global holdout'
  const among = r.segment ? ` among customers in the segment “${r.segment.name}”` : ''
  if (estimate === null || ci === null) {
    const waiting = r.maturity.immature > 0 && !r.maturity.included ? ` (${r.maturity.immature.toLocaleString('en-US')} customers are still inside it)` : ''
    return {
      outcome: 'no_data',
      text: `No incremental net value${among} for ${r.periodLabel} yet: it needs treated customers and customers in ${vs} whose ${r.windowDays}-day window has closed${waiting}.`,
    }
  }
  // The estimate and its interval share a scale, as on the card; the spend, a different quantity, has its own.
  const money = sentenceMoney([estimate, ci[0], ci[1]])
  const interval = `${Math.round(level * 100)}% CI ${money(ci[0], true)} to ${money(ci[1], true)}`
  const after = `after ${sentenceMoney([r.incentiveSpend])(r.incentiveSpend)} of incentives`
  if (ci[0] > 0) {
    return {
      outcome: 'earned',
      text: `The retention program earned ${money(estimate, true)} (${interval}) in incremental net value${among} over ${r.periodLabel} vs ${vs}, ${after}.`,
    }
  }
  if (ci[1] < 0) {
    return {
      outcome: 'lost',
      text: `The retention program lost money: ${money(estimate, true)} (${interval}) in incremental net value${among} over ${r.periodLabel} vs ${vs}, ${after}.`,
    }
  }
  return {
    outcome: 'unclear',
    text: `The retention program's incremental net value${among} over ${r.periodLabel} is ${money(estimate, true)} (${interval}) vs ${vs}, ${after}: not distinguishable from zero yet.`,
  }
}
