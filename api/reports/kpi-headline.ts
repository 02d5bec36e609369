import type { KpiHeadline, KpiReport } from '../contract/kpis.ts'

const MINUS = '−'

/**
 * Money for a sentence: every figure in one sentence on one scale, chosen by the largest of them, so a range
 * never reads "−$76.4K to $8,604". `moneyScale([33_900, -76_400, 8_604])` formats as "$33.9K", "−$76.4K", "$8.6K".
 */
export function moneyScale(values: Array<number | null | undefined>): (x: number, signed?: boolean) => string {
  const largest = Math.max(0, ...values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).map(Math.abs))
  const scale: [number, string, number] = largest >= 1e6 ? [1e6, 'M', 2] : largest >= 1e4 ? [1e3, 'K', 1] : largest >= 100 ? [1, '', 0] : [1, '', 2]
  const format = (x: number, signed: boolean, [divisor, suffix, digits]: [number, string, number]): string => {
    const text = (Math.abs(x) / divisor).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    // A figure that is not zero never prints as zero (an interval end just above it would read "$0.0K").
    if (Number(text.replace(/,/g, '')) === 0 && x !== 0 && divisor !== 1) return format(x, signed, [1, '', 2])
    const sign = x === 0 ? '' : x < 0 ? MINUS : signed ? '+' : ''
    return `${sign}$${text}${suffix}`
  }
  return (x, signed = false) => format(x, signed, scale)
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
  if (estimate === null || ci === null) {
    const waiting = r.maturity.immature > 0 && !r.maturity.included ? ` (${r.maturity.immature.toLocaleString('en-US')} customers are still inside it)` : ''
    return {
      outcome: 'no_data',
      text: `No incremental net value for ${r.periodLabel} yet: it needs treated customers and customers in ${vs} whose ${r.windowDays}-day window has closed${waiting}.`,
    }
  }
  const money = moneyScale([estimate, ci[0], ci[1], r.incentiveSpend])
  const interval = `${Math.round(level * 100)}% CI ${money(ci[0], true)} to ${money(ci[1], true)}`
  const after = `after ${money(r.incentiveSpend)} of incentives`
  if (ci[0] > 0) {
    return {
      outcome: 'earned',
      text: `The retention program earned ${money(estimate, true)} (${interval}) in incremental net value over ${r.periodLabel} vs ${vs}, ${after}.`,
    }
  }
  if (ci[1] < 0) {
    return {
      outcome: 'lost',
      text: `The retention program lost money: ${money(estimate, true)} (${interval}) in incremental net value over ${r.periodLabel} vs ${vs}, ${after}.`,
    }
  }
  return {
    outcome: 'unclear',
    text: `The retention program's incremental net value over ${r.periodLabel} is ${money(estimate, true)} (${interval}) vs ${vs}, ${after}: not distinguishable from zero yet.`,
  }
}
