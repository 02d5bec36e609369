import fc from 'fast-check'

/** Authorization variants for every role, content types and other headers a client may send. */

export type KeyKind = 'admin' | 'editor' | 'viewer' | 'ingest' | 'revoked'
type Holder = KeyKind | 'unknown' | 'none'
const bearerOf = (k: string) => `Bearer ${k}`
const authFormats: Array<(k: string) => string> = [
  (k) => `bearer ${k}`,
  (k) => `BEARER ${k}`,
  (k) => `Bearer  ${k}`,
  (k) => `Bearer\t${k}`,
  (k) => `Bearer ${k} extra`,
  (k) => `Bearer ${k}x`,
  (k) => `Bearer ${k.slice(0, -1)}`,
  (k) => `Basic ${Buffer.from(`${k}:`).toString('base64')}`,
  () => 'Bearer',
  () => 'Bearer ',
  (k) => `Token ${k}`,
  (k) => k,
  (k) => `Bearer ${k}, Bearer ${k}`,
  () => `Bearer ${'a'.repeat(10_000)}`,
  (k) => `Bearer \u00e9\u00ff${k}`,
  (k) => `Bearer "${k}"`,
  () => 'Bearer %00',
]
/** An Authorization header (or none): a well-formed Bearer key of some role when plausible, anything otherwise. */
export function authorization(keys: Record<KeyKind, string>, plausible: boolean): fc.Arbitrary<string | undefined> {
  const holder = fc.oneof(
    { weight: plausible ? 6 : 4, arbitrary: fc.constant<Holder>('admin') },
    { weight: 3, arbitrary: fc.constantFrom<Holder>('editor', 'viewer', 'ingest') },
    ...(plausible ? [] : [{ weight: 1, arbitrary: fc.constantFrom<Holder>('revoked', 'unknown', 'none') }]),
  )
  const format = plausible
    ? fc.constant(bearerOf)
    : fc.oneof({ weight: 8, arbitrary: fc.constant(bearerOf) }, { weight: 1, arbitrary: fc.constantFrom(...authFormats) })
  return fc.tuple(holder, format, fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 })).map(([kind, format, junk]) => {
    if (kind === 'none') return undefined
    return format(kind === 'unknown' ? `rl_${junk.replace(/[^\x21-\x7e]/g, 'x')}` : keys[kind])
  })
}

export const oddContentTypes = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'multipart/form-data',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json;charset=latin1',
  'APPLICATION/JSON',
  'application/jsonx',
  'application/ld+json',
  'application/x-ndjson',
  'text/json',
  '*/*',
  ';',
  'application/json, text/plain',
  'application/octet-stream',
  'json',
  'application/json; boundary=x',
]
export const oddHeaders: Array<[string, string]> = [
  ['accept', 'text/html'],
  ['accept', '*/*;q=0'],
  ['x-forwarded-for', '1.1.1.1, ::1'],
  ['content-encoding', 'gzip'],
  ['x-http-method-override', 'DELETE'],
  ['origin', 'https://evil.example'],
  ['cookie', 'a=b'],
  ['accept-charset', 'utf-16'],
  ['if-none-match', '*'],
  ['range', 'bytes=0-1'],
  ['x-request-id', '\u00e9'.repeat(100)],
  ['content-language', 'x'.repeat(8000)],
]
