/**
 * Money for people, shared by the dashboard and the API's sentences (the overview's headline), so a figure reads
 * the same in both. Pure and self-contained: the dashboard imports this module at run time (see
 * test/unit/ui/wire-contract.test.ts), so it imports nothing.
 */

export const DASH = '—'
// A real minus sign lines up with "+" in tabular figures; a hyphen looks like a dash.
export const MINUS = '\u2212'

export const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)

const currencyFormats = new Map<string, Intl.NumberFormat>()

/** Money: `currency(1234.5)` → "$1,234.50"; `currency(-2, 'EUR')` → "−€2.00". */
export function currency(x: number | null | undefined, code = 'USD', digits = 2): string {
  if (!isNumber(x)) return DASH
  const key = `${code}:${digits}`
  let format = currencyFormats.get(key)
  if (!format) {
    try {
      format = new Intl.NumberFormat('en-US', { style: 'currency', currency: code, minimumFractionDigits: digits, maximumFractionDigits: digits })
    } catch {
      format = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: digits, maximumFractionDigits: digits })
    }
    currencyFormats.set(key, format)
  }
  return format.format(x).replace('-', MINUS)
}

/** A scale for money: divide by `divisor`, show `digits` decimals, append `suffix` ("K", "M", "B" or none). */
export interface MoneyScale {
  divisor: number
  suffix: '' | 'K' | 'M' | 'B'
  digits: number
}

/**
 * The one scale for numbers shown together (an estimate and its interval), chosen by the largest magnitude
 * among them so that they read alike: `moneyScale([-33_900, -76_400, 8_604])` → thousands with one decimal, and
 * the interval reads "[−$76.4K, $8.6K]", never "[−$76.4K, $8,604]". Below $100: cents; below $1,000: whole dollars.
 */
export function moneyScale(values: Array<number | null | undefined>): MoneyScale {
  const max = Math.max(0, ...values.filter(isNumber).map(Math.abs))
  // The thresholds sit where rounding would carry into the next scale ("$1,000K" is "$1.0M").
  if (max >= 999_950_000) return { divisor: 1e9, suffix: 'B', digits: 1 }
  if (max >= 999_950) return { divisor: 1e6, suffix: 'M', digits: 1 }
  if (max >= 999.5) return { divisor: 1e3, suffix: 'K', digits: 1 }
  if (max >= 99.995) return { divisor: 1, suffix: '', digits: 0 }
  return { divisor: 1, suffix: '', digits: 2 }
}

/**
 * Money at a given scale: `scaledMoney(-33_912, moneyScale([-33_912]))` → "−$33.9K". A value that rounds to
 * zero keeps its sign ("−$0.0K"), so an interval end never appears to sit on the other side of zero.
 * `signed` adds "+" to positive values.
 */
export function scaledMoney(x: number | null | undefined, scale: MoneyScale, code = 'USD', signed = false): string {
  if (!isNumber(x)) return DASH
  const f = 10 ** scale.digits
  const magnitude = Math.round((Math.abs(x) / scale.divisor) * f) / f
  const text = `${currency(magnitude, code, scale.digits)}${scale.suffix}`
  return x < 0 ? `${MINUS}${text}` : x > 0 && signed ? `+${text}` : text
}
