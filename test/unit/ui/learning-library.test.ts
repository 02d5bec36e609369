import { describe, expect, it } from 'vitest'
import { coverage, filterPairs, heterogeneity, outcomeInterval, outcomeDelta, outcomeTone, pairSegments } from '../../../ui/src/lib/learningLibrary.ts'
import type { LibraryPair } from '../../../ui/src/lib/reports.ts'

// The Offer library page's reading of the learning library's pairs: segments to filter by, the filter, and each
// pooled outcome in its own units. No DOM.

const pair = (dimension: string, segment: string, offer: string, proven: boolean): LibraryPair => ({
  key: `${dimension}=${segment}|||${offer}`,
  dimension,
  segment,
  trigger: null,
  tier: null,
  offer: { type: offer.split(':')[0], value: Number(offer.split(':')[1]) },
  proven,
  outcomes: [],
})

const pairs = [
  pair('valueTier', 'low', 'free_shipping:0', true),
  pair('valueTier', 'high', 'loyalty_points:500', true),
  pair('(all)', 'all customers', 'percent_off:15', false),
  pair('channel', 'email', 'free_shipping:0', false),
  pair('valueTier', 'low', 'loyalty_points:500', false),
]

describe('the learning library on the Offer library page', () => {
  it('offers each segment once, all customers first, then by attribute and value, in the API’s ?segment= spelling', () => {
    expect(pairSegments(pairs)).toEqual([
      { key: '(all)=all customers', label: 'All customers' },
      { key: 'channel=email', label: 'channel = email' },
      { key: 'valueTier=high', label: 'valueTier = high' },
      { key: 'valueTier=low', label: 'valueTier = low' },
    ])
  })

  it('filters by segment and by the API’s proven flag, keeping the API’s order', () => {
    expect(filterPairs(pairs, { segment: '', provenOnly: false })).toEqual(pairs)
    expect(filterPairs(pairs, { segment: '', provenOnly: true }).map((p) => p.key)).toEqual([pairs[0].key, pairs[1].key])
    expect(filterPairs(pairs, { segment: 'valueTier=low', provenOnly: false }).map((p) => p.key)).toEqual([pairs[0].key, pairs[4].key])
    expect(filterPairs(pairs, { segment: 'valueTier=low', provenOnly: true }).map((p) => p.key)).toEqual([pairs[0].key])
    // A bare value is not a segment key here: the select only ever holds dimension=value.
    expect(filterPairs(pairs, { segment: 'low', provenOnly: false })).toEqual([])
  })

  it('writes rates in percentage points and net value in money per customer', () => {
    expect(outcomeDelta('rate', 0.0312)).toBe('+3.1 pp')
    expect(outcomeInterval('rate', [0.013, 0.048])).toBe('[+1.3 pp, +4.8 pp]')
    expect(outcomeDelta('currency', -0.05)).toBe('−$0.05')
    expect(outcomeInterval('currency', [-0.36, 0.26])).toBe('[−$0.36, +$0.26]')
    expect(outcomeInterval('rate', null)).toBe('—')
  })

  it('colours by the API’s verdict and shows I² only between two or more experiments', () => {
    expect([outcomeTone({ verdict: 'proven' }), outcomeTone({ verdict: 'harmful' }), outcomeTone({ verdict: 'unproven' }), outcomeTone(undefined)]).toEqual([
      'positive',
      'negative',
      'neutral',
      'neutral',
    ])
    expect(heterogeneity({ k: 3, iSquared: 0.2119 })).toBe('21%')
    expect(heterogeneity({ k: 1, iSquared: 0 })).toBe('—')
    expect(coverage(0.0194)).toBe('98.1%')
    expect(coverage(null)).toBe('—')
  })
})
