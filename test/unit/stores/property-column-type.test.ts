import { describe, expect, it } from 'vitest'
import { propertyColumnName, propertyColumnType, propertyKeysOf } from '../../../api/stores/property-columns.ts'
import { MetricDefinitionInput } from '../../../api/metrics/schema.ts'

describe('property columns', () => {
  it('choose LowCardinality only for a key whose sampled values repeat, within a part dictionary', () => {
    expect(propertyColumnType({ events: 1_000_000, distinct: 3 })).toBe('LowCardinality(String)')
    expect(propertyColumnType({ events: 1_000, distinct: 100 })).toBe('LowCardinality(String)')
    expect(propertyColumnType({ events: 1_000_000, distinct: 5_000 })).toBe('LowCardinality(String)')
    // Past 5,000 distinct values, too few events to judge, or values that rarely repeat: String.
    expect(propertyColumnType({ events: 1_000_000, distinct: 5_001 })).toBe('String')
    expect(propertyColumnType({ events: 999, distinct: 2 })).toBe('String')
    expect(propertyColumnType({ events: 0, distinct: 0 })).toBe('String')
    expect(propertyColumnType({ events: 1_000, distinct: 101 })).toBe('String')
  })

  it('name a column by a hash of the key, never by its text', () => {
    expect(propertyColumnName('category')).toMatch(/^pk_[0-9a-f]{32}$/)
    expect(propertyColumnName(`a') OR 1=1 --`)).toMatch(/^pk_[0-9a-f]{32}$/)
    expect(propertyColumnName('category')).not.toBe(propertyColumnName('Category'))
  })

  it('read the top-level keys of filters and values, once each, and none for a ratio', () => {
    const def = MetricDefinitionInput.parse({
      key: 'vip_minutes',
      name: 'VIP minutes',
      kind: 'mean',
      source: {
        eventTypes: ['support_ticket'],
        filters: [
          { on: 'property', path: 'account.tier', op: 'eq', value: 'vip' },
          { on: 'property', path: 'account.region', op: 'exists' },
          { on: 'field', field: 'revenue', op: 'gt', value: 0 },
        ],
      },
      value: { of: 'property', path: 'minutes' },
      window: { endDays: 30 },
    })
    expect(propertyKeysOf(def)).toEqual(['account', 'minutes'])
    expect(propertyKeysOf(MetricDefinitionInput.parse({ key: 'aov', name: 'AOV', kind: 'ratio', numerator: 'revenue', denominator: 'orders' }))).toEqual([])
  })
})
