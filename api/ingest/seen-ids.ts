/**
 * A Bloom filter of every event id this process knows to be stored: "definitely new" for almost every fresh id
 * without a query, "maybe stored" for true copies and about 1 in 10 million others, which are then looked up in
 * ClickHouse — by id alone, a scan of the event_id column, so they must stay rare (at 1 in 1,000, most
 * 1,000-event requests needed a lookup and ingest throughput fell by half). It grows by adding filters of the
 * capacity so far, so the false-positive rate stays near its target however many ids arrive; memory is 4–8 bytes
 * per id (40–80 MB for 10M events).
 */
export class SeenIds {
  private filters: BloomFilter[] = []
  private count = 0
  private capacity = 0

  constructor(private readonly initialCapacity = 1_000_000) {}

  add(id: string): void {
    if (this.count >= this.capacity) {
      const size = this.filters.length ? this.capacity : this.initialCapacity
      this.filters.push(new BloomFilter(size))
      this.capacity += size
    }
    const [h1, h2] = hashes(id)
    this.filters[this.filters.length - 1].add(h1, h2)
    this.count++
  }

  mightHave(id: string): boolean {
    if (!this.filters.length) return false
    const [h1, h2] = hashes(id)
    for (const f of this.filters) if (f.has(h1, h2)) return true
    return false
  }

  get size(): number {
    return this.count
  }
}

const PROBES = 23 // optimal for ~34 bits per id, a false-positive rate of 1e-7

class BloomFilter {
  private readonly bits: Uint32Array
  private readonly mask: number

  constructor(capacity: number) {
    // A power-of-two bit count so the probe index is a mask, not a modulo.
    const bits = 2 ** Math.ceil(Math.log2(Math.max(1024, capacity * 34)))
    this.bits = new Uint32Array(bits / 32)
    this.mask = bits - 1
  }

  add(h1: number, h2: number) {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask
      this.bits[bit >>> 5] |= 1 << (bit & 31)
    }
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask
      if (!(this.bits[bit >>> 5] & (1 << (bit & 31)))) return false
    }
    return true
  }
}

/** Two independent 32-bit hashes of the UTF-16 code units (FNV-1a and a murmur-style mix), for double hashing. */
function hashes(s: string): [number, number] {
  let a = 0x811c9dc5
  let b = 0x9747b28c
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
    b ^= b >>> 15
  }
  a ^= a >>> 16
  a = Math.imul(a, 0x85ebca6b)
  a ^= a >>> 13
  b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35)
  b ^= b >>> 16
  return [a >>> 0, (b | 1) >>> 0]
}
