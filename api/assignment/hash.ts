/**
 * GrowthBook-compatible hashing: FNV-1a 32-bit over UTF-16 code units, as in GrowthBook's SDK spec
 * (`packages/sdk-js/src/util.ts` → `hash`). Any GrowthBook SDK computes the same numbers for the same
 * seed and value, which is what makes an assignment reproducible outside the API.
 */

/** FNV-1a 32-bit offset basis: the hash of the empty string. */
export const FNV_OFFSET_BASIS = 0x811c9dc5

const FNV_PRIME = 0x01000193

/** Hash versions GrowthBook defines; anything else hashes to `null`. */
export type HashVersion = 1 | 2

/**
 * FNV-1a 32-bit hash of a string's UTF-16 code units, as an unsigned integer.
 *
 * FNV-1a is a stream hash, so `fnv1a32(b, fnv1a32(a)) === fnv1a32(a + b)`: pass a previous result as
 * `state` to continue hashing without concatenating strings.
 *
 * @example
 * fnv1a32('a') // 0xe40c292c
 * fnv1a32('b', fnv1a32('a')) === fnv1a32('ab') // true
 */
export function fnv1a32(input: string, state: number = FNV_OFFSET_BASIS): number {
  let h = state
  for (let i = 0; i < input.length; i++) {
    h = Math.imul(h ^ input.charCodeAt(i), FNV_PRIME)
  }
  return h >>> 0
}

/**
 * GrowthBook's `hash(seed, value, version)`, a number in [0, 1).
 *
 * - version 1: `(fnv1a32(value + seed) % 1000) / 1000` — used for namespaces.
 * - version 2: `(fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000` — used for bucketing; the double
 *   hash removes the bias v1 showed for sequential ids.
 * - any other version: `null`.
 *
 * @example
 * hash('seed', 'a', 2) // 0.0505
 * hash('', 'a', 1) // 0.22
 * hash('abc', 'def', 99) // null
 */
export function hash(seed: string, value: string, version: number): number | null {
  if (version === 2) return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000
  return null
}

// Scratch space for the decimal digits of a uint32 (at most 10). Safe: JS runs this synchronously.
const digits = new Uint8Array(10)

/** `fnv1a32(String(n))` for a uint32 `n`, without building the string. */
function fnv1a32OfDecimal(n: number): number {
  let length = 0
  let rest = n
  do {
    const digit = rest % 10
    digits[length++] = 48 + digit
    rest = (rest - digit) / 10
  } while (rest > 0)
  let h = FNV_OFFSET_BASIS
  for (let i = length - 1; i >= 0; i--) {
    h = Math.imul(h ^ digits[i], FNV_PRIME)
  }
  return h >>> 0
}

/**
 * A version-2 hash with its seed fixed, for the hot path: the seed's FNV state is computed once, and no
 * string is built per call. Returns exactly `hash(seed, value, 2)`.
 *
 * @example
 * const bucketOf = seededHashV2('spring-winback')
 * bucketOf('customer-42') === hash('spring-winback', 'customer-42', 2) // true
 */
export function seededHashV2(seed: string): (value: string) => number {
  const seedState = fnv1a32(seed)
  return (value) => (fnv1a32OfDecimal(fnv1a32(value, seedState)) % 10000) / 10000
}

/**
 * A version-1 hash with its seed fixed (namespaces use v1). Returns exactly `hash(seed, value, 1)`; the
 * value comes first in v1, so only the concatenation is saved, not the seed's hashing.
 *
 * @example
 * seededHashV1('__pricing')('123') === hash('__pricing', '123', 1) // true
 */
export function seededHashV1(seed: string): (value: string) => number {
  return (value) => (fnv1a32(seed, fnv1a32(value)) % 1000) / 1000
}
