import { DASH, currency, decimal, pp, percent, signedCurrency, signedPercent } from './format.ts'
import type { MetricFormat } from './reports.ts'

/**
 * A metric's values as people read them, by the report's `format`: rates as percentages, money in the
 * report's currency, counts with two decimals, days. Differences are signed: "+3.2 pp", "+$1.20".
 */

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)

/** An arm's value: `metricValue('percent', 0.153)` → "15.3%". */
export function metricValue(format: MetricFormat, x: number | null | undefined, code = 'USD'): string {
  if (!isNumber(x)) return DASH
  switch (format) {
    case 'percent':
      return percent(x, x !== 0 && Math.abs(x) < 0.01 ? 2 : 1)
    case 'currency':
      return currency(x, code)
    case 'days':
      return `${decimal(x, x % 1 === 0 ? 0 : 1)} d`
    default:
      return decimal(x, Math.abs(x) < 10 ? 3 : 2)
  }
}

/** An absolute difference: percentage points for rates, money for currency. */
export function metricDelta(format: MetricFormat, x: number | null | undefined, code = 'USD'): string {
  if (!isNumber(x)) return DASH
  switch (format) {
    case 'percent':
      return pp(x, Math.abs(x) < 0.001 && x !== 0 ? 2 : 1)
    case 'currency':
      return signedCurrency(x, code)
    case 'days':
      return `${x > 0 ? '+' : ''}${decimal(x, 1)} d`
    default: {
      const text = decimal(x, 3)
      return x > 0 ? `+${text}` : text
    }
  }
}

/** An interval as "[−1.2%, +4.5%]"; a dash when there is none. */
export function interval(ci: [number, number] | null | undefined, show: (x: number) => string = (x) => signedPercent(x)): string {
  if (!ci || !isNumber(ci[0]) || !isNumber(ci[1])) return DASH
  return `[${show(ci[0])}, ${show(ci[1])}]`
}
