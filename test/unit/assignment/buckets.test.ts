import { describe, expect, it } from 'vitest'
import { chooseVariation, getBucketRanges, getEqualWeights, inNamespace } from '../../../api/assignment/buckets.ts'
import { growthbookCases } from './growthbookCases.ts'

describe('getBucketRanges (GrowthBook spec cases)', () => {
  it.each(growthbookCases.getBucketRange)('%s', (_name, [numVariations, coverage, weights], expected) => {
    const ranges = getBucketRanges(numVariations, coverage, weights)
    expect(ranges).toHaveLength(expected.length)
    ranges.forEach(([start, end], i) => {
      // The spec's expectations are rounded; 0.4 + 0.5999 is 0.9998999999999999 in binary floating point.
      expect(start).toBeCloseTo(expected[i][0], 10)
      expect(end).toBeCloseTo(expected[i][1], 10)
    })
  })
})

describe('chooseVariation (GrowthBook spec cases)', () => {
  it.each(growthbookCases.chooseVariation)('%s', (_name, n, ranges, expected) => {
    expect(chooseVariation(n, ranges)).toBe(expected)
  })
})

describe('inNamespace (GrowthBook spec cases)', () => {
  it.each(growthbookCases.inNamespace)('%s', (_name, id, [name, start, end], expected) => {
    expect(inNamespace(id, { name, range: [start, end] })).toBe(expected)
  })
})

describe('getBucketRanges', () => {
  it('defaults to equal weights and full coverage', () => {
    expect(getBucketRanges(2)).toEqual([
      [0, 0.5],
      [0.5, 1],
    ])
  })

  it('keeps every range start fixed while coverage ramps up, so ranges only grow', () => {
    const weights = [0.1, 0.45, 0.45]
    const ramps = [0, 0.2, 0.5, 0.8, 1].map((coverage) => getBucketRanges(3, coverage, weights))
    for (let step = 1; step < ramps.length; step++) {
      ramps[step].forEach(([start, end], i) => {
        expect(start).toBe(ramps[step - 1][i][0])
        expect(end).toBeGreaterThanOrEqual(ramps[step - 1][i][1])
      })
    }
  })

  it('accepts weights that sum to 1 within ±0.01, and falls back to equal weights outside that', () => {
    expect(getBucketRanges(2, 1, [0.5, 0.505])[1][1]).toBeCloseTo(1.005, 10)
    expect(getBucketRanges(2, 1, [0.5, 0.52])).toEqual([
      [0, 0.5],
      [0.5, 1],
    ])
  })
})

describe('getEqualWeights', () => {
  it('splits 1 evenly and returns nothing for no variations', () => {
    expect(getEqualWeights(4)).toEqual([0.25, 0.25, 0.25, 0.25])
    expect(getEqualWeights(0)).toEqual([])
    expect(getEqualWeights(-1)).toEqual([])
  })
})

describe('inNamespace', () => {
  it('puts every customer in exactly one of two complementary ranges', () => {
    for (let i = 0; i < 2000; i++) {
      const id = `customer-${i}`
      const low = inNamespace(id, { name: 'winback', range: [0, 0.3] })
      const high = inNamespace(id, { name: 'winback', range: [0.3, 1] })
      expect(low !== high).toBe(true)
    }
  })
})
