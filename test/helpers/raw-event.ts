/**
 * An event as a brute-force test sends it to POST /v1/events and keeps it to recompute a report from the raw
 * rows: `ts` in epoch milliseconds, the optional fields as the API takes them.
 */
export interface RawEvent {
  eventId: string
  customerId: string
  type: string
  ts: number
  revenue?: number
  margin?: number
  cost?: number
  orderId?: string
  experimentId?: string
  arm?: string
  properties?: Record<string, unknown>
}
