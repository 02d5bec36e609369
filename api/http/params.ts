import { z } from '@hono/zod-openapi'

/** The earliest instant a query may name: nothing in Retention Lab predates it. */
export const MIN_INSTANT = Date.UTC(2000, 0, 1)
/** How far past now a query may look (a report "as of" next quarter is fine; year 5138 is a typo). */
export const MAX_INSTANT_AHEAD_MS = 366 * 86_400_000

// Date, then optionally a time (minutes, seconds, fraction) and a zone: the shapes Date.parse reads the same way
// everywhere. Anything else (`-1`, `2026-02-30T25:00`, `March 3`) is refused rather than guessed at.
const isoInstant = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))?)?$/

/**
 * Reads an ISO-8601 date/time or integer epoch milliseconds between 2000-01-01 and a year from `now`, or
 * explains why not. A calendar date must exist (2026-02-30 is refused, not rolled over to March 2).
 *
 * @example parseInstant('2026-03-01') // { ms: 1772323200000 }
 * @example parseInstant('-1')         // { problem: 'must be an ISO-8601 date/time …' }
 */
export function parseInstant(s: string, now = Date.now()): { ms: number } | { problem: string } {
  const shape = 'must be an ISO-8601 date/time (2026-03-01 or 2026-03-01T12:00:00Z) or integer epoch milliseconds'
  let ms: number
  if (/^\d+$/.test(s)) ms = Number(s)
  else {
    const m = isoInstant.exec(s)
    if (!m) return { problem: shape }
    const [year, month, day, hour = '0', minute = '0', second = '0', , offsetHours = '0', offsetMinutes = '0'] = m.slice(1)
    const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
    if (calendar.getUTCMonth() !== Number(month) - 1 || calendar.getUTCDate() !== Number(day)) return { problem: `${s.slice(0, 10)} is not a calendar date` }
    if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59 || Number(offsetHours) > 23 || Number(offsetMinutes) > 59)
      return { problem: `${s} is not a valid time of day` }
    ms = Date.parse(s)
  }
  const max = now + MAX_INSTANT_AHEAD_MS
  if (!Number.isFinite(ms) || ms < MIN_INSTANT || ms > max) {
    return { problem: `must be between 2000-01-01 and a year from now (${new Date(max).toISOString().slice(0, 10)})` }
  }
  return { ms }
}

/** An optional query-string instant (see parseInstant), as epoch ms; a 400 naming the field otherwise. */
export const instantParam = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return undefined
    const parsed = parseInstant(s)
    if ('problem' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.problem })
      return z.NEVER
    }
    return parsed.ms
  })
