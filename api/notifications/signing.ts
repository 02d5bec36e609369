import { createHmac, timingSafeEqual } from 'node:crypto'

/** The header that carries a webhook's timestamp and signature: `X-Retention-Signature: t=<unix seconds>,v1=<hex>`. */
export const SIGNATURE_HEADER = 'x-retention-signature'

/**
 * HMAC-SHA256 with the destination's secret over `<timestamp>.<body>` (the exact bytes sent), as hex. Signing the
 * timestamp with the body lets a receiver refuse a replayed request whose timestamp is old (docs/notifications.md).
 * @example signatureHeader('whsec_x', 1767225600, '{"a":1}') // 't=1767225600,v1=5c…'
 */
export function signatureHeader(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${hmac(secret, timestampSeconds, body)}`
}

const hmac = (secret: string, t: number | string, body: string) => createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')

/**
 * The receiver's check, as docs/notifications.md shows it: the signature matches and the timestamp is at most
 * `toleranceSeconds` from `nowSeconds`.
 */
export function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]))
  const t = Number(parts.t)
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowSeconds - t) > toleranceSeconds) return false
  const expected = Buffer.from(hmac(secret, parts.t, body), 'hex')
  const given = Buffer.from(parts.v1, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}
