import { describe, expect, it } from 'vitest'
import { SeenIds } from '../../../api/ingest/seen-ids.ts'

describe('SeenIds (Bloom filter of stored event ids)', () => {
  it('never forgets an id it was given, across growth, and rarely claims one it was not', () => {
    // A small first filter so that the test crosses two growth steps.
    const seen = new SeenIds(20_000)
    const n = 70_000
    for (let i = 0; i < n; i++) seen.add(`evt-${i}-${(i * 2654435761) >>> 0}`)
    expect(seen.size).toBe(n)
    for (let i = 0; i < n; i++) expect(seen.mightHave(`evt-${i}-${(i * 2654435761) >>> 0}`)).toBe(true)
    let falsePositives = 0
    const probes = 200_000
    for (let i = 0; i < probes; i++) if (seen.mightHave(`other-${i}`)) falsePositives++
    // Designed for 0.1% per filter; three filters checked in turn stay well under 1%.
    expect(falsePositives / probes).toBeLessThan(0.01)
  })

  it('has seen nothing when empty', () => {
    expect(new SeenIds().mightHave('x')).toBe(false)
  })
})
