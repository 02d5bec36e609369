import { describe, expect, it } from 'vitest'
import { ruleProblems } from '../../../api/segments/rule.ts'
import { SegmentDefinitionInput } from '../../../api/segments/schema.ts'
import {
  blankSegmentForm,
  checkSegmentForm,
  describeRule,
  FEATURE_OPTIONS,
  formatFeature,
  operatorsFor,
  rowsToRule,
  segmentErrorTarget,
  segmentFieldLabel,
  toSegmentDraft,
  type RuleRow,
  type SegmentForm,
} from '../../../ui/src/lib/segments.ts'

// The Segments page's builder (ui/src/lib/segments.ts) against the API's own rule check: what the form lets
// through the API accepts, what the form flags the API refuses too, and the API's paths land on the right input.

const form = (rows: RuleRow[]): SegmentForm => ({ ...blankSegmentForm(), key: 'some_key', name: 'Some segment', rows })
const sample = (f: (typeof FEATURE_OPTIONS)[number], list: boolean) =>
  f.kind === 'category' ? (list ? f.values.slice(0, 2).join(', ') : f.values[0]) : list ? '1, 2' : '3'

describe('the segment rule builder', () => {
  it('writes, for every feature and every operator it offers, a rule the API accepts', () => {
    for (const f of FEATURE_OPTIONS) {
      for (const operator of operatorsFor(f)) {
        const row = { feature: f.name, operator, value: operator === '$exists' ? 'false' : sample(f, operator === '$in' || operator === '$nin') }
        expect(checkSegmentForm(form([row])), `${f.name} ${operator}`).toEqual({})
        expect(ruleProblems(rowsToRule([row])), `${f.name} ${operator}`).toEqual([])
      }
    }
  })

  it('offers order comparisons only on numbers, and "is known" only where a feature may be unknown', () => {
    const ops = (name: string) => operatorsFor(FEATURE_OPTIONS.find((f) => f.name === name))
    expect(ops('lapse_stage')).toEqual(['$eq', '$ne', '$in', '$nin'])
    expect(ops('rfm_group')).not.toContain('$gt')
    expect(ops('recency_days')).toContain('$exists')
    expect(ops('orders_90d')).not.toContain('$exists')
  })

  it('sends a share typed as a percentage as a fraction, numbers as numbers and lists as lists', () => {
    expect(
      rowsToRule([
        { feature: 'discount_affinity', operator: '$gte', value: '50' },
        { feature: 'orders_90d', operator: '$in', value: '1, 2,,3' },
        { feature: 'lapse_stage', operator: '$nin', value: 'dormant, none' },
        { feature: 'recency_days', operator: '$exists', value: 'true' },
      ]),
    ).toEqual({
      $and: [
        { discount_affinity: { $gte: 0.5 } },
        { orders_90d: { $in: [1, 2, 3] } },
        { lapse_stage: { $nin: ['dormant', 'none'] } },
        { recency_days: { $exists: true } },
      ],
    })
    expect(toSegmentDraft({ ...form([]), tags: ' a, ,b ', description: ' d ' })).toMatchObject({ tags: ['a', 'b'], description: 'd', rule: { $and: [] } })
  })

  it('flags the values the API would refuse, beside the row they belong to', () => {
    const cases: Array<[RuleRow, string]> = [
      [{ feature: 'orders_90d', operator: '$gte', value: 'two' }, '“two” is not a number'],
      [{ feature: 'discount_affinity', operator: '$lt', value: 'half' }, '“half” is not a number (a percentage, e.g. 50)'],
      [{ feature: 'lapse_stage', operator: '$in', value: 'lapsed, asleep' }, '“asleep” is not one of: active, slipping, lapsed, dormant, none'],
      [
        { feature: 'rfm_group', operator: '$eq', value: 'whales' },
        '“whales” is not one of: champions, loyal, new_customers, potential_loyalists, cant_lose_them, at_risk, hibernating, needs_attention, no_purchases',
      ],
      [{ feature: 'recency_days', operator: '$lte', value: '' }, 'enter a value'],
      [{ feature: 'orders_365d', operator: '$nin', value: ' , ' }, 'enter at least one value, separated by commas'],
    ]
    for (const [row, message] of cases) {
      expect(checkSegmentForm(form([{ feature: 'lapse_stage', operator: '$eq', value: 'lapsed' }, row]))).toEqual({ 'rows.1.value': message })
      expect(ruleProblems(rowsToRule([row])).length, JSON.stringify(row)).toBeGreaterThan(0)
    }
    expect(checkSegmentForm({ ...form([]), key: 'Bad Key', name: ' ' })).toEqual({
      key: expect.stringMatching(/lowercase letters/),
      name: 'must not be empty',
      rows: 'add at least one condition',
    })
    expect(SegmentDefinitionInput.safeParse(toSegmentDraft({ ...form([]), key: 'Bad Key' })).success).toBe(false)
  })

  it("puts the API's field paths on the builder's inputs", () => {
    expect(segmentErrorTarget('rule.$and[1].recency_dayz')).toBe('rows.1.feature')
    expect(segmentErrorTarget('rule.$and[0].orders_90d.$gte')).toBe('rows.0.value')
    expect(segmentErrorTarget('rule.$and[12].lapse_stage.$in[1]')).toBe('rows.12.value')
    expect(segmentErrorTarget('rule')).toBe('rows')
    expect(segmentErrorTarget('rule.$or[0].x')).toBe('rows')
    expect(segmentErrorTarget('key')).toBe('key')
    expect(segmentErrorTarget('tags.1')).toBe('tags')
    expect(segmentErrorTarget('version')).toBeNull()
    expect(segmentFieldLabel('rows.1.value')).toBe('Condition 2: value')
    expect(segmentFieldLabel('key')).toBe('Key')
  })
})

describe('a profile for people', () => {
  it('formats each feature in its unit, and an unknown one as a dash', () => {
    expect(formatFeature('recency_days', 12)).toBe('12 days')
    expect(formatFeature('recency_days', 1)).toBe('1 day')
    expect(formatFeature('inter_purchase_days', 37.25)).toBe('37.3 days')
    expect(formatFeature('monetary_365d', 1234.5)).toBe('$1,234.50')
    expect(formatFeature('discount_affinity', 0.4)).toBe('40.0%')
    expect(formatFeature('orders_90d', 1)).toBe('1 order')
    expect(formatFeature('orders_365d', 14)).toBe('14 orders')
    expect(formatFeature('aov_365d', null)).toBe('—')
    expect(formatFeature('last_offer_response', 'ignored')).toBe('ignored')
  })

  it('describes a builder rule in words and any other rule as JSON', () => {
    expect(
      describeRule({ $and: [{ lapse_stage: { $in: ['lapsed', 'dormant'] } }, { discount_affinity: { $gte: 0.5 } }, { recency_days: { $exists: false } }] }),
    ).toBe('lapse_stage in [lapsed, dormant] and discount_affinity ≥ 0.5 and recency_days is unknown')
    expect(describeRule({ rfm_group: 'champions' })).toBe('rfm_group = champions')
    const or = { $or: [{ rfm_group: 'champions' }, { lapse_stage: 'active' }] }
    expect(describeRule(or)).toBe(JSON.stringify(or))
  })
})
