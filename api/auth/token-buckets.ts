/**
 * One token bucket per name (a client address, an API key id): each holds up to `capacity` tokens and refills at
 * `perSecond`. A name never seen, or whose bucket has refilled, has a full bucket, so only names that spent
 * tokens recently take memory.
 *
 * @example
 * const failures = new TokenBuckets(1, 20) // 20 at once, then one a second
 * if (failures.waitSeconds(address) > 0) answer429()
 * failures.take(address)
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    readonly perSecond: number,
    readonly capacity: number,
    private readonly maxNames = 10_000,
    // Monotonic: a wall clock set back (NTP step, VM resume) would otherwise lock out every name that spent tokens.
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Seconds until `name` has a whole token again (0 when it has one now), rounded up for Retry-After. */
  waitSeconds(name: string): number {
    const tokens = this.level(name, this.now())
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.perSecond))
  }

  /** Spends one token if there is one; the answer is waitSeconds() before the spending. */
  take(name: string): number {
    const at = this.now()
    const tokens = this.level(name, at)
    if (tokens < 1) return Math.max(1, Math.ceil((1 - tokens) / this.perSecond))
    // Re-inserted so that the map's order is the order of last use, which evict() relies on.
    this.buckets.delete(name)
    if (this.buckets.size >= this.maxNames) this.evict(at)
    this.buckets.set(name, { tokens: tokens - 1, at })
    return 0
  }

  private level(name: string, at: number): number {
    const bucket = this.buckets.get(name)
    return bucket ? Math.min(this.capacity, bucket.tokens + ((at - bucket.at) / 1000) * this.perSecond) : this.capacity
  }

  /**
   * Full buckets go first (forgetting them changes nothing); past that the least recently used names are
   * forgotten, which hands them a full bucket: under a flood of distinct names the limit errs towards letting
   * requests through rather than growing without bound. It frees a tenth at a time so that a flood does not
   * pay a scan of the whole map per name.
   */
  private evict(at: number) {
    for (const name of this.buckets.keys()) if (this.level(name, at) >= this.capacity) this.buckets.delete(name)
    const keep = Math.floor(this.maxNames * 0.9)
    for (const name of this.buckets.keys()) {
      if (this.buckets.size <= keep) break
      this.buckets.delete(name)
    }
  }
}
