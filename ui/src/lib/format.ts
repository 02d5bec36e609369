/**
 * Numbers for people. Every formatter answers "—" for null, undefined, NaN and ±Infinity, so a missing or
 * undefined statistic never reaches the screen as "NaN%".
 */

import { currency, DASH, isNumber, MINUS, moneyScale, scaledMoney, type MoneyScale } from '../../../api/contract/money.ts'

// Money is formatted by the module the API's sentences use too, so a figure reads the same in both.
export { currency, DASH, moneyScale, scaledMoney, type MoneyScale }

function signed(text: string, x: number): string {
  if (text.startsWith('-')) return MINUS + text.slice(1)
  return x > 0 ? `+${text}` : text
}

/** A share as a percentage: `percent(0.1234)` → "12.3%". */
export function percent(x: number | null | undefined, digits = 1): string {
  if (!isNumber(x)) return DASH
  return `${(x * 100).toFixed(digits).replace('-', MINUS)}%`
}

/** A relative change with its sign: `signedPercent(0.045)` → "+4.5%". */
export function signedPercent(x: number | null | undefined, digits = 1): string {
  if (!isNumber(x)) return DASH
  const rounded = Number((x * 100).toFixed(digits))
  return `${signed((rounded === 0 ? 0 : rounded).toFixed(digits), rounded)}%`
}

/** A difference of two rates in percentage points: `pp(0.032)` → "+3.2 pp". */
export function pp(delta: number | null | undefined, digits = 1): string {
  if (!isNumber(delta)) return DASH
  const rounded = Number((delta * 100).toFixed(digits))
  return `${signed((rounded === 0 ? 0 : rounded).toFixed(digits), rounded)} pp`
}

/** A signed money difference: `signedCurrency(1.2)` → "+$1.20". */
export function signedCurrency(x: number | null | undefined, code = 'USD', digits = 2): string {
  if (!isNumber(x)) return DASH
  const text = currency(Math.abs(x), code, digits)
  return x > 0 ? `+${text}` : x < 0 ? `${MINUS}${text}` : text
}

const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })
/** Large counts for headlines: `compact(12345)` → "12.3K". */
export function compact(x: number | null | undefined): string {
  return isNumber(x) ? compactFormat.format(x).replace('-', MINUS) : DASH
}

/** A count with thousands separators, rounded: `integer(12345.6)` → "12,346". */
export function integer(x: number | null | undefined): string {
  return isNumber(x) ? Math.round(x).toLocaleString('en-US').replace('-', MINUS) : DASH
}

/** A plain number with fixed decimals: `decimal(0.05, 2)` → "0.05". */
export function decimal(x: number | null | undefined, digits = 2): string {
  return isNumber(x) ? x.toFixed(digits).replace('-', MINUS) : DASH
}

/** A p-value as analysts write it: "< 0.001" below a thousandth. */
export function pValue(p: number | null | undefined): string {
  if (!isNumber(p)) return DASH
  return p < 0.001 ? '< 0.001' : p.toFixed(3)
}

function toDate(value: string | number | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null
  const d = value instanceof Date ? value : new Date(value)
  return Number.isNaN(d.getTime()) ? null : d
}

const dateFormat = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric' })
const dateTimeFormat = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })

/** `date('2026-11-22T10:00:00Z')` → "Nov 22, 2026". */
export function date(value: string | number | Date | null | undefined): string {
  const d = toDate(value)
  return d ? dateFormat.format(d) : DASH
}

/** `dateTime('2026-11-22T10:00:00Z')` → "Nov 22, 2026, 10:00 AM" (local time). */
export function dateTime(value: string | number | Date | null | undefined): string {
  const d = toDate(value)
  return d ? dateTimeFormat.format(d) : DASH
}

/** Whole days between two instants (to defaults to now): `daysBetween(start)` → 12. */
export function daysBetween(from: string | number | Date | null | undefined, to: string | number | Date = Date.now()): number | null {
  const a = toDate(from)
  const b = toDate(to)
  if (!a || !b) return null
  return Math.max(0, Math.floor((b.getTime() - a.getTime()) / 86_400_000))
}

/** "1 day", "12 days"; "—" when unknown. */
export function days(n: number | null | undefined): string {
  if (!isNumber(n)) return DASH
  const rounded = Math.ceil(n)
  return `${integer(rounded)} ${rounded === 1 ? 'day' : 'days'}`
}

/**
 * An estimate and its interval in one money format:
 * `moneyWithInterval(-33_900, [-76_400, 8_604])` → `{ estimate: "−$33.9K", interval: "[−$76.4K, $8.6K]" }`;
 * the interval is "—" when there is none.
 */
export function moneyWithInterval(
  estimate: number | null | undefined,
  ci: [number, number] | null | undefined,
  code = 'USD',
  signed = false,
): { estimate: string; interval: string; scale: MoneyScale } {
  const ends = ci && isNumber(ci[0]) && isNumber(ci[1]) ? ci : null
  const scale = moneyScale([estimate, ...(ends ?? [])])
  return {
    estimate: scaledMoney(estimate, scale, code, signed),
    interval: ends ? `[${scaledMoney(ends[0], scale, code, signed)}, ${scaledMoney(ends[1], scale, code, signed)}]` : DASH,
    scale,
  }
}

const calendarFormat = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' })
const calendarYearFormat = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' })

/**
 * A calendar day (YYYY-MM-DD, such as a week's Monday) as written, the same in every time zone:
 * `calendarDay('2026-09-07')` → "Sep 7"; with the year, "Sep 7, 2026".
 */
export function calendarDay(day: string | null | undefined, withYear = false): string {
  const t = day ? Date.parse(`${day.slice(0, 10)}T00:00:00Z`) : Number.NaN
  if (!Number.isFinite(t)) return DASH
  return (withYear ? calendarYearFormat : calendarFormat).format(t)
}
