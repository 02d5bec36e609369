import { describe, expect, it } from 'vitest'
import { calendarDay, moneyScale, moneyWithInterval, scaledMoney } from '../../../ui/src/lib/format.ts'
import { intervalTone, moneyVerdict } from '../../../ui/src/lib/significance.ts'
import { everyWeek, weekTicks } from '../../../ui/src/lib/chart.ts'
import { intervalBar } from '../../../ui/src/lib/intervalBar.ts'

// The program overview's pure helpers: one money format per figure and its interval, colours that agree with
// the interval, and week ticks. No DOM.

describe('money with its interval', () => {
  it('reads the estimate and both ends in one scale, picked by the largest magnitude', () => {
    expect(moneyWithInterval(-33_912, [-76_431, 8_604])).toMatchObject({ estimate: '−$33.9K', interval: '[−$76.4K, $8.6K]' })
    expect(moneyWithInterval(1_250_000, [400_000, 2_100_000])).toMatchObject({ estimate: '$1.3M', interval: '[$0.4M, $2.1M]' })
    expect(moneyWithInterval(512, [-40, 980])).toMatchObject({ estimate: '$512', interval: '[−$40, $980]' })
    expect(moneyWithInterval(3.456, [1.2, 5.7])).toMatchObject({ estimate: '$3.46', interval: '[$1.20, $5.70]' })
    expect(moneyWithInterval(5_300, null)).toMatchObject({ estimate: '$5.3K', interval: '—' })
  })

  it('never mixes scales inside a card, even when one end is small', () => {
    const { estimate, interval } = moneyWithInterval(12_000, [850, 23_150])
    expect(estimate).toBe('$12.0K')
    expect(interval).toBe('[$0.9K, $23.2K]')
    expect(interval).not.toMatch(/\$\d{3}[,\]]/)
  })

  it('moves to the next scale where rounding would carry over', () => {
    expect(moneyScale([999.4]).suffix).toBe('')
    expect(moneyScale([999.6]).suffix).toBe('K')
    expect(moneyScale([999_960]).suffix).toBe('M')
    expect(scaledMoney(999_960, moneyScale([999_960]))).toBe('$1.0M')
    expect(moneyScale([2e9]).suffix).toBe('B')
  })

  it('keeps the sign of a value that rounds to zero, and signs positives when asked', () => {
    const k = moneyScale([50_000])
    expect(scaledMoney(-12, k)).toBe('−$0.0K')
    expect(scaledMoney(0, k)).toBe('$0.0K')
    expect(scaledMoney(5_300, k, 'USD', true)).toBe('+$5.3K')
    expect(scaledMoney(Number.NaN, k)).toBe('—')
    expect(scaledMoney(2_000, k, 'EUR')).toBe('€2.0K')
  })

  it('writes a week’s Monday the same in every time zone', () => {
    expect(calendarDay('2026-09-07')).toBe('Sep 7')
    expect(calendarDay('2026-09-07', true)).toBe('Sep 7, 2026')
    expect(calendarDay('nope')).toBe('—')
  })
})

describe('colours that agree with the interval', () => {
  it('is green or red only when the interval excludes zero', () => {
    expect(intervalTone([1, 5])).toBe('positive')
    expect(intervalTone([-5, -1])).toBe('negative')
    expect(intervalTone([-5, 1])).toBe('neutral')
    expect(intervalTone([0, 5])).toBe('neutral')
    expect(intervalTone(null)).toBe('neutral')
    expect(intervalTone([1, 5], false)).toBe('negative')
  })

  it('calls a loss with an interval that reaches above zero unclear, in grey', () => {
    expect(moneyVerdict({ estimate: -33_900, ci: [-76_400, 8_604] })).toMatchObject({ tone: 'neutral', label: 'Unclear' })
    expect(moneyVerdict({ estimate: -33_900, ci: [-76_400, -1_000] })).toMatchObject({ tone: 'negative', label: 'Loses money' })
    expect(moneyVerdict({ estimate: 5_300, ci: [1_200, 9_400] })).toMatchObject({ tone: 'positive', label: 'Earns money' })
    expect(moneyVerdict({ estimate: null, ci: null })).toMatchObject({ tone: 'neutral', label: 'Not estimable' })
    expect(moneyVerdict({ estimate: 10, ci: null })).toMatchObject({ tone: 'neutral', label: 'No interval' })
  })
})

describe('the weekly trend axis', () => {
  const weeks = everyWeek(['2026-09-07', '2026-09-28', '2026-11-30'])

  it('fills every week between the first and the last, so missing weeks are gaps', () => {
    expect(weeks).toHaveLength(13)
    expect(weeks.slice(0, 4)).toEqual(['2026-09-07', '2026-09-14', '2026-09-21', '2026-09-28'])
    expect(weeks.at(-1)).toBe('2026-11-30')
  })

  it('puts at most one tick per week, fewer on a phone, and always one on the latest week', () => {
    expect(weekTicks(weeks, 1100)).toEqual(weeks)
    const phone = weekTicks(weeks, 300)
    expect(phone.length).toBeLessThanOrEqual(5)
    expect(phone.at(-1)).toBe('2026-11-30')
    expect(weekTicks(weeks.slice(0, 7), 1100)).toHaveLength(7)
    expect(weekTicks(['2026-11-30'], 50)).toEqual(['2026-11-30'])
  })

  it('lets a table’s interval glyphs share one scale', () => {
    const own = intervalBar([10, 20], 15, null, 120)!
    const shared = intervalBar([10, 20], 15, null, 120, 6, [-100, 200])!
    expect(shared.hi - shared.lo).toBeLessThan(own.hi - own.lo)
    expect(shared.zero).toBeGreaterThan(6)
  })
})
