import { afterEach, describe, expect, it, vi } from 'vitest'
import { TokenBuckets } from '../../../api/auth/token-buckets.ts'

/** A clock the test moves by hand, in milliseconds. */
function manualClock(start = 1_000_000) {
  let now = start
  return {
    now: () => now,
    advance(ms: number) {
      now += ms
    },
  }
}

/** Takes from `name` until refused; the number of takes that went through. */
function drain(buckets: TokenBuckets, name: string, limit = 1000): number {
  let taken = 0
  while (taken < limit && buckets.take(name) === 0) taken++
  return taken
}

/** How many names the buckets hold in memory (the map is private; its size is the memory bound under test). */
const namesHeld = (buckets: TokenBuckets) => (buckets as unknown as { buckets: Map<string, unknown> }).buckets.size

describe('TokenBuckets', () => {
  describe('burst', () => {
    it('lets a new name spend its whole burst at once, then refuses it', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 5, 10_000, clock.now)
      for (let i = 0; i < 5; i++) expect(buckets.take('client')).toBe(0)
      expect(buckets.take('client')).toBeGreaterThan(0)
    })

    it('keeps refusing while the clock stands still, however often the name asks', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 2, 10_000, clock.now)
      expect(drain(buckets, 'client')).toBe(2)
      for (let i = 0; i < 50; i++) expect(buckets.take('client')).toBe(1)
    })

    it('reports a wait of 0 for a name with a token, without spending it', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 3, 10_000, clock.now)
      for (let i = 0; i < 10; i++) expect(buckets.waitSeconds('client')).toBe(0)
      expect(drain(buckets, 'client')).toBe(3)
      expect(buckets.waitSeconds('client')).toBe(1)
    })

    it('gives a burst of one when the capacity is 1', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(10, 1, 10_000, clock.now)
      expect(drain(buckets, 'client')).toBe(1)
    })
  })

  describe('refill', () => {
    it('gives a token back after 1/perSecond seconds, and not a millisecond before', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(2, 3, 10_000, clock.now)
      expect(drain(buckets, 'client')).toBe(3)
      clock.advance(499)
      expect(buckets.take('client')).toBeGreaterThan(0)
      clock.advance(1)
      expect(buckets.take('client')).toBe(0)
      expect(buckets.take('client')).toBeGreaterThan(0)
    })

    it('does not let refused takes push the refill further back', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 1, 10_000, clock.now)
      expect(buckets.take('client')).toBe(0)
      for (let i = 0; i < 10; i++) {
        clock.advance(99)
        expect(buckets.take('client')).toBeGreaterThan(0)
      }
      clock.advance(10)
      expect(buckets.take('client')).toBe(0)
    })

    it('refills fractional tokens: two half-intervals make one token', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 1, 10_000, clock.now)
      expect(buckets.take('client')).toBe(0)
      clock.advance(500)
      expect(buckets.waitSeconds('client')).toBe(1)
      clock.advance(500)
      expect(buckets.waitSeconds('client')).toBe(0)
    })

    it('refills no further than the capacity, however long the name was idle', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 4, 10_000, clock.now)
      expect(drain(buckets, 'client')).toBe(4)
      clock.advance(24 * 3600 * 1000)
      expect(drain(buckets, 'client')).toBe(4)
    })

    it('holds the steady rate after the burst: 10 a second for 3 s lets 30 through', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(10, 5, 10_000, clock.now)
      expect(drain(buckets, 'client')).toBe(5)
      let allowed = 0
      for (let ms = 0; ms < 3000; ms += 10) {
        clock.advance(10)
        if (buckets.take('client') === 0) allowed++
      }
      expect(allowed).toBe(30)
    })

    it('supports a rate below one a second (60 failures a minute is 1/s; 6 a minute is one per 10 s)', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(6 / 60, 2, 10_000, clock.now)
      expect(drain(buckets, 'client')).toBe(2)
      clock.advance(9_999)
      expect(buckets.take('client')).toBeGreaterThan(0)
      clock.advance(1)
      expect(buckets.take('client')).toBe(0)
    })
  })

  describe('retry-after', () => {
    it('answers the whole seconds until the next token, rounded up', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(0.25, 1, 10_000, clock.now) // one token per 4 s
      expect(buckets.take('client')).toBe(0)
      expect(buckets.take('client')).toBe(4)
      clock.advance(1)
      expect(buckets.take('client')).toBe(4)
      clock.advance(999)
      expect(buckets.take('client')).toBe(3)
      clock.advance(2500)
      expect(buckets.take('client')).toBe(1)
    })

    it('never answers less than 1 s while refusing, even with a millisecond to go', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1000, 1, 10_000, clock.now) // one token per millisecond
      expect(buckets.take('client')).toBe(0)
      expect(buckets.take('client')).toBe(1)
      expect(buckets.waitSeconds('client')).toBe(1)
    })

    it('gives the same figure from waitSeconds as from a refused take', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1 / 60, 3, 10_000, clock.now)
      expect(drain(buckets, 'client')).toBe(3)
      for (const step of [0, 1, 17_000, 29_999, 12_345]) {
        clock.advance(step)
        const wait = buckets.waitSeconds('client')
        expect(buckets.take('client')).toBe(wait)
      }
    })

    it('is honest: waiting the answered seconds always yields a token', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(0.3, 2, 10_000, clock.now)
      expect(drain(buckets, 'client')).toBe(2)
      for (let i = 0; i < 20; i++) {
        const wait = buckets.take('client')
        expect(wait).toBeGreaterThan(0)
        clock.advance(wait * 1000)
        expect(buckets.take('client')).toBe(0)
        clock.advance(137 * i)
      }
    })

    it('counts a throttle of 60 a minute from the failure that emptied it', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(60 / 60, 20, 10_000, clock.now)
      expect(drain(buckets, '203.0.113.7')).toBe(20)
      expect(buckets.waitSeconds('203.0.113.7')).toBe(1)
    })
  })

  describe('names', () => {
    it('keeps each name to its own bucket', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 2, 10_000, clock.now)
      expect(drain(buckets, 'key-a')).toBe(2)
      expect(buckets.take('key-a')).toBeGreaterThan(0)
      expect(buckets.waitSeconds('key-b')).toBe(0)
      expect(drain(buckets, 'key-b')).toBe(2)
      clock.advance(1000)
      expect(buckets.take('key-a')).toBe(0)
      expect(buckets.take('key-b')).toBe(0)
      expect(buckets.take('key-a')).toBeGreaterThan(0)
    })

    it('does not confuse names that differ only in case or by a prefix', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 1, 10_000, clock.now)
      expect(buckets.take('Key')).toBe(0)
      expect(buckets.take('key')).toBe(0)
      expect(buckets.take('Key1')).toBe(0)
      expect(buckets.take('Key')).toBeGreaterThan(0)
    })

    it('takes no memory for names that only asked (waitSeconds) or were refused', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 1, 10_000, clock.now)
      for (let i = 0; i < 100; i++) buckets.waitSeconds(`asker-${i}`)
      expect(namesHeld(buckets)).toBe(0)
      expect(buckets.take('spender')).toBe(0)
      for (let i = 0; i < 100; i++) buckets.take('spender')
      expect(namesHeld(buckets)).toBe(1)
    })
  })

  describe('memory bound', () => {
    it('holds no more than maxNames names under a flood of distinct ones', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 1, 100, clock.now)
      let most = 0
      for (let i = 0; i < 2_000; i++) {
        expect(buckets.take(`flood-${i}`)).toBe(0)
        most = Math.max(most, namesHeld(buckets))
      }
      expect(most).toBe(100)
    })

    it('forgets the least recently used name first, handing it a full bucket', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 2, 10, clock.now)
      expect(buckets.take('a')).toBe(0)
      expect(buckets.take('b')).toBe(0)
      for (let i = 0; i < 8; i++) expect(buckets.take(`filler-${i}`)).toBe(0)
      // 'a' spends its second token and becomes the most recent; 'b' is now the oldest.
      expect(buckets.take('a')).toBe(0)
      expect(namesHeld(buckets)).toBe(10)
      expect(buckets.take('newcomer')).toBe(0)
      expect(buckets.take('a')).toBeGreaterThan(0)
      expect(drain(buckets, 'b')).toBe(2)
    })

    it('forgets names whose buckets have refilled before any name that still owes tokens', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 5, 10, clock.now)
      // The oldest name owes tokens for 5 s; the nine after it owe only one token each.
      expect(drain(buckets, 'oldest')).toBe(5)
      clock.advance(100)
      for (let i = 0; i < 9; i++) expect(buckets.take(`recent-${i}`)).toBe(0)
      clock.advance(1900) // the recent names are full again; 'oldest' has 2 of its 5 tokens
      expect(buckets.take('newcomer')).toBe(0)
      expect(namesHeld(buckets)).toBe(2)
      expect(drain(buckets, 'oldest')).toBe(2)
    })

    it('frees a tenth of the names at once, so that a flood does not scan the map per name', () => {
      const clock = manualClock()
      const buckets = new TokenBuckets(1, 1, 100, clock.now)
      for (let i = 0; i < 100; i++) buckets.take(`n-${i}`)
      expect(namesHeld(buckets)).toBe(100)
      buckets.take('n-100')
      expect(namesHeld(buckets)).toBe(91)
      for (let i = 101; i < 110; i++) buckets.take(`n-${i}`)
      expect(namesHeld(buckets)).toBe(100)
      // The ten forgotten are the ten oldest.
      for (let i = 0; i < 10; i++) expect(buckets.take(`n-${i}`)).toBe(0)
    })
  })

  describe('default clock', () => {
    afterEach(() => {
      vi.useRealTimers()
    })

    it('refills with the passing of time when no clock is injected', () => {
      vi.useFakeTimers()
      const buckets = new TokenBuckets(1, 1)
      expect(buckets.take('client')).toBe(0)
      expect(buckets.take('client')).toBe(1)
      vi.advanceTimersByTime(1000)
      expect(buckets.take('client')).toBe(0)
    })

    it('does not lock a name out when the wall clock is set back', () => {
      vi.useFakeTimers()
      vi.setSystemTime(new Date('2026-06-01T12:00:00Z'))
      const buckets = new TokenBuckets(1, 1)
      expect(buckets.take('key')).toBe(0)
      // An NTP step or a VM resume moves the wall clock an hour back; a second later the token is due again.
      vi.setSystemTime(new Date('2026-06-01T11:00:00Z'))
      vi.advanceTimersByTime(1000)
      expect(buckets.waitSeconds('key')).toBe(0)
      expect(buckets.take('key')).toBe(0)
    })
  })
})
