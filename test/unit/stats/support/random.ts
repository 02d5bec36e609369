/**
 * Seeded randomness for the simulation tests: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator,
 * PractRand-clean) with 53-bit uniforms, Marsaglia's polar method for normals and an exact binomial by
 * geometric waiting times (O(np) draws instead of O(n)).
 */
export class Random {
  private a: number
  private b: number
  private c: number
  private d: number
  private spare: number | null = null

  constructor(seed: number) {
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed >>> 0
    for (let i = 0; i < 16; i++) this.next32()
  }

  private next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992
  }

  /** Standard normal (Marsaglia polar method). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare
      this.spare = null
      return s
    }
    let u: number
    let v: number
    let s: number
    do {
      u = 2 * this.uniform() - 1
      v = 2 * this.uniform() - 1
      s = u * u + v * v
    } while (s >= 1 || s === 0)
    const f = Math.sqrt((-2 * Math.log(s)) / s)
    this.spare = v * f
    return u * f
  }

  /** Exact Binomial(n, p): successes counted by geometric gaps between them. */
  binomial(n: number, p: number): number {
    if (p <= 0) return 0
    if (p >= 1) return n
    if (p > 0.5) return n - this.binomial(n, 1 - p)
    const logQ = Math.log1p(-p)
    let count = 0
    let position = 0
    for (;;) {
      position += Math.floor(Math.log(1 - this.uniform()) / logQ) + 1
      if (position > n) return count
      count++
    }
  }
}

/** Sufficient statistics of a list of draws. */
export function meanStatsOf(draw: () => number, n: number): { n: number; sum: number; sumSquares: number } {
  let sum = 0
  let sumSquares = 0
  for (let i = 0; i < n; i++) {
    const x = draw()
    sum += x
    sumSquares += x * x
  }
  return { n, sum, sumSquares }
}
