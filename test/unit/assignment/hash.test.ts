import { describe, expect, it } from 'vitest'
import { FNV_OFFSET_BASIS, fnv1a32, hash, seededHashV1, seededHashV2 } from '../../../api/assignment/hash.ts'
import { growthbookCases } from './growthbookCases.ts'

describe('hash (GrowthBook spec cases)', () => {
  it.each(growthbookCases.hash)('hash(%j, %j, v%i) = %j', (seed, value, version, expected) => {
    expect(hash(seed, value, version)).toBe(expected)
  })
})

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(FNV_OFFSET_BASIS)
    expect(fnv1a32('a')).toBe(0xe40c292c)
    expect(fnv1a32('foobar')).toBe(0xbf9cf968)
  })

  it('continues from a previous state exactly as if the strings were concatenated', () => {
    expect(fnv1a32('bar', fnv1a32('foo'))).toBe(fnv1a32('foobar'))
    expect(fnv1a32('', fnv1a32('x'))).toBe(fnv1a32('x'))
  })

  it('returns an unsigned 32-bit integer', () => {
    for (const input of ['', 'a', 'zzzzzzzz', '日本語', '\u{1F600}']) {
      const h = fnv1a32(input)
      expect(Number.isInteger(h)).toBe(true)
      expect(h).toBeGreaterThanOrEqual(0)
      expect(h).toBeLessThan(2 ** 32)
    }
  })
})

describe('hash', () => {
  it('is in [0, 1) and deterministic', () => {
    for (let i = 0; i < 1000; i++) {
      const h = hash('seed', `customer-${i}`, 2)!
      expect(h).toBeGreaterThanOrEqual(0)
      expect(h).toBeLessThan(1)
      expect(hash('seed', `customer-${i}`, 2)).toBe(h)
    }
  })

  it('returns null for hash versions other than 1 and 2', () => {
    expect(hash('seed', 'a', 0)).toBeNull()
    expect(hash('seed', 'a', 3)).toBeNull()
  })
})

describe('seeded hashes (hot path)', () => {
  const ids = [
    '',
    '0',
    '1',
    'customer-42',
    'c_000001',
    'ÄÖÜ-ß',
    '\u{1F600}smile',
    'a'.repeat(200),
    ...Array.from({ length: 20_000 }, (_, i) => `id-${i * 7919}`),
  ]

  it('seededHashV2(seed)(value) equals hash(seed, value, 2) for every value', () => {
    for (const seed of ['', 'seed', 'spring-winback-2026', '()**(%$##$%#$#']) {
      const bucketOf = seededHashV2(seed)
      expect(ids.filter((id) => bucketOf(id) !== hash(seed, id, 2))).toEqual([])
    }
  })

  it('seededHashV1(seed)(value) equals hash(seed, value, 1) for every value', () => {
    for (const seed of ['', '__pricing', '__winback']) {
      const bucketOf = seededHashV1(seed)
      expect(ids.filter((id) => bucketOf(id) !== hash(seed, id, 1))).toEqual([])
    }
  })
})
