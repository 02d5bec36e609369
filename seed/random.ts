/**
 * Seeded randomness for the generated world. Every customer draws from its own streams, keyed by
 * (world seed, customer index, stream), so a customer is the same whatever order or chunk size the world is
 * generated in, and the API and direct writers see identical customers.
 */

export type Rng = () => number

/** Stream numbers: one per concern, so that adding a draw to one never shifts another. */
export const STREAM = { attributes: 1, history: 2, outcomes: 3, background: 4, wave: 5 } as const

/** Murmur3's 32-bit finaliser: spreads nearby integers (customer 41, 42…) over the whole range. */
function mix32(x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand): 128 bits of state, passes
 * PractRand and BigCrush, and is a handful of integer operations per draw. Returns numbers in [0, 1).
 *
 * @example
 * const rng = streamFor(42, 1001, STREAM.history)
 * rng() // 0.3739… — the same on every run and every machine
 */
export function streamFor(seed: number, index: number, stream: number): Rng {
  let a = mix32(seed ^ 0x9e3779b9)
  let b = mix32((index + 0x7f4a7c15) ^ a)
  let c = mix32(stream ^ 0x6a09e667 ^ b)
  let d = 1
  const next = () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 12; i++) next()
  return next
}

/** Standard normal by Box–Muller (one of the pair; simplicity over speed). */
export function normal(rng: Rng): number {
  const u = 1 - rng()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng())
}

/** Log-normal with location `mu` and scale `sigma` of the underlying normal: mean exp(mu + sigma²/2). */
export const logNormal = (rng: Rng, mu: number, sigma: number) => Math.exp(mu + sigma * normal(rng))

export const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng()

export const exponential = (rng: Rng, mean: number) => -mean * Math.log(1 - rng())

/** Exponential with the given mean, conditioned on being below `max` (inverse CDF of the truncated law). */
export function truncatedExponential(rng: Rng, mean: number, max: number): number {
  const tail = 1 - Math.exp(-max / mean)
  return -mean * Math.log(1 - rng() * tail)
}

/** Poisson by Knuth's product of uniforms: exact, and fast for the small means (< 5) the world uses. */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0
  const limit = Math.exp(-mean)
  let k = 0
  let p = rng()
  while (p > limit) {
    k++
    p *= rng()
  }
  return k
}

/** A key drawn with the given probabilities (which sum to 1). */
export function pick<K extends string>(rng: Rng, shares: Record<K, number>): K {
  const u = rng()
  let acc = 0
  let last: K | undefined
  for (const key in shares) {
    acc += shares[key]
    last = key
    if (u < acc) return key
  }
  return last!
}
