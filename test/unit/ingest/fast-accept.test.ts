import { describe, expect, it } from 'vitest'
import { EventInput, fastAccept, toRow } from '../../../api/ingest/event-schema.ts'
import { mulberry32 } from '../../helpers/prng.ts'

const NOW = Date.now()
const rand = mulberry32(11)
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]

// Values that are sometimes right and often subtly wrong for each field.
const candidates: Record<string, unknown[]> = {
  eventId: ['e-1', '', 'x'.repeat(128), 'x'.repeat(129), 'bad\u0000id', 42, null, 'ok\ufffd'],
  customerId: ['c-1', '', 'c'.repeat(256), 'c'.repeat(257), 'tab\tid', 7],
  type: ['purchase', 'refund', 'offer_redeemed', 'unsubscribe', 'custom.event_1', 'Purchase', '', '1abc', 'x'.repeat(65)],
  ts: [NOW - 86400_000, NOW + 3 * 86400_000, 946684799999, 1.5, '2026-10-01T10:00:00Z', '2026-10-01', 'yesterday', null, -1],
  revenue: [undefined, 0, 12.5, -1, '12', Number.MAX_VALUE, null],
  margin: [undefined, 3, -2.5, 'x', null],
  cost: [undefined, 0, 5, -5, '5'],
  experimentId: [undefined, 'exp', '', 'e'.repeat(65), 3],
  arm: [undefined, 'pct15', 'a'.repeat(65)],
  orderId: [undefined, 'o-1', 'o'.repeat(129)],
  properties: [undefined, { sku: 'a' }],
  extra: [undefined, 'unexpected'],
}

function randomEvent(): Record<string, unknown> {
  const e: Record<string, unknown> = {}
  for (const [k, values] of Object.entries(candidates)) {
    // The first value of each list is valid: mostly keep it, so that valid events are common too.
    const v = rand() < 0.85 ? values[0] : pick(values)
    if (v !== undefined && (k !== 'eventId' || rand() > 0.02)) e[k] = v
  }
  return e
}

describe('the ingestion fast path', () => {
  it('accepts only what the zod schema accepts, producing the identical row (20,000 random events)', () => {
    let fastAccepted = 0
    let zodAccepted = 0
    for (let i = 0; i < 20_000; i++) {
      const e = randomEvent()
      const fast = fastAccept(e, NOW)
      const viaZod = EventInput.safeParse(e)
      if (viaZod.success) zodAccepted++
      if (fast) {
        fastAccepted++
        expect(viaZod.success, JSON.stringify(e)).toBe(true)
        expect(fast).toEqual(toRow(viaZod.data!))
      }
    }
    // The fast path must actually carry most valid events (ISO strings and properties take the schema path).
    expect(zodAccepted).toBeGreaterThan(200)
    expect(fastAccepted).toBeGreaterThan(zodAccepted * 0.3)
  })

  it('takes the plain events a CRM sends', () => {
    expect(fastAccept({ eventId: 'e1', customerId: 'c1', type: 'purchase', ts: NOW - 5000, revenue: 19.99, margin: 6, orderId: 'o1' }, NOW)).toMatchObject({
      event_id: 'e1',
      revenue: 19.99,
      margin: 6,
    })
    expect(
      fastAccept({ eventId: 'e2', customerId: 'c1', type: 'offer_redeemed', ts: '2026-10-01T10:00:00Z', cost: 4, experimentId: 'x', arm: 'y' }, NOW),
    ).toMatchObject({ ts: Date.parse('2026-10-01T10:00:00Z'), cost: 4 })
  })
})
