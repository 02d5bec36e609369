import fc from 'fast-check'
import {
  type Mutation,
  gentleMutation,
  hostileString,
  invalidUtf8,
  malformedText,
  mutate,
  mutation,
  nastyValue,
  toJsonText,
  unknownKey,
} from './fuzz-values.ts'
import { fromSchema, routeName, type JsonSchema, type OpenApiDoc, type RouteSpec } from './openapi-routes.ts'
import { authorization, oddContentTypes, oddHeaders, type KeyKind } from './fuzz-headers.ts'

/**
 * Generates whole HTTP requests for one route of the OpenAPI document: path parameters (real ids and junk),
 * query strings, Authorization variants for every role, content types and bodies from valid to hostile.
 * The routes come from the document, so a new route is fuzzed without touching this file.
 */

export interface FuzzWorld {
  keys: Record<KeyKind, string>
  /** Valid values of a path parameter by the collection before it (`experiments`, `triggers`, `policies`, `keys`). */
  ids: Record<string, string[]>
  /** Ids valid only for GET routes (a running experiment that must stay running for the reports). */
  readOnlyIds: Record<string, string[]>
  /** Plausible bodies for known routes (`POST /v1/experiments` → …), so validation past the schema is reached. */
  validBodies: Record<string, fc.Arbitrary<unknown>>
}

export interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string | Uint8Array<ArrayBuffer>
}

const enc = (s: string) => encodeURIComponent(s.toWellFormed())
const percentJunk = [
  '%',
  '%zz',
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%ed%b0%80',
  '%FF',
  '%C0%AF',
  '%C0%80',
  '%E2%82',
  '%2',
  '%u0041',
  '%%',
  '%2F',
  '%2e%2e',
  '%0A',
  '%EF%BF%BD',
]
const segmentJunk = fc.oneof(
  fc.constantFrom(
    ...percentJunk,
    '..',
    '.',
    '',
    ' ',
    '~',
    "'",
    'a'.repeat(65),
    'a'.repeat(5000),
    'FZ-RUNNING',
    'fz-running%20',
    '%20',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    '0',
    '-1',
  ),
  fc.string({ maxLength: 80 }).map(enc),
  hostileString.map(enc),
)

function pathArb(route: RouteSpec, world: FuzzWorld, plausible: boolean): fc.Arbitrary<string> {
  const parts = route.path.split('/')
  return fc
    .tuple(
      ...parts.map((part, i) => {
        if (!/^\{.+\}$/.test(part)) return fc.constant(part)
        const collection = parts[i - 1]
        const valid = [...(world.ids[collection] ?? []), ...(route.method === 'GET' ? (world.readOnlyIds[collection] ?? []) : [])]
        if (!valid.length) return segmentJunk
        return plausible ? fc.constantFrom(...valid) : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 2, arbitrary: segmentJunk })
      }),
    )
    .map((segments) => segments.join('/'))
}

const DAY = 86_400_000
function instantValues(plausible: boolean): fc.Arbitrary<string> {
  const now = Date.now()
  const valid = fc.constantFrom(
    new Date(now - DAY).toISOString(),
    new Date(now - 30 * DAY).toISOString().slice(0, 10),
    String(now - 7 * DAY),
    String(now),
    new Date(now - 300 * DAY).toISOString().slice(0, 10),
    '2000-01-01',
    new Date(now + 300 * DAY).toISOString(),
  )
  if (plausible) return valid
  return fc.oneof(
    valid,
    fc.constantFrom(
      '99999999999999999999',
      '-1',
      '0',
      '1',
      '2026-02-30',
      '2026-13-01',
      '2026-01-01T25:00',
      '2026-01-01T23:60',
      'now',
      'NaN',
      'Infinity',
      '1e3',
      '+1',
      ' 1',
      '1.5',
      '1999-12-31T23:59:59Z',
      '9999-12-31',
      '275760-09-13',
      '2026-03-01T12:00:00+24:00',
      '2026-03-01T12:00:00.1234567890Z',
    ),
    fc.integer().map(String),
  )
}

function queryValue(name: string, schema: JsonSchema, metricKeys: readonly string[], plausible: boolean): fc.Arbitrary<string> {
  let value: fc.Arbitrary<string>
  if (/^(asOf|from|to)$/.test(name)) value = instantValues(plausible).map(enc)
  else if (name === 'metrics') {
    const valid = fc.subarray([...metricKeys], { minLength: 1 }).map((m) => enc(m.join(',')))
    value = plausible ? valid : fc.oneof(valid, fc.constantFrom('revenue,revenue', ',,', 'Revenue', 'revenue,nope', ' revenue '))
  } else if (schema.enum)
    value = plausible
      ? fc.constantFrom(...(schema.enum as string[]))
      : fc.oneof(fc.constantFrom(...(schema.enum as string[])), fc.constantFrom('IMMATURE', 'all', 'draft,running'))
  else if (schema.type === 'integer' || schema.type === 'number') {
    const valid = fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000 }).map(String)
    value = plausible
      ? valid
      : fc.oneof(
          fc.integer({ min: (schema.minimum ?? 0) - 2, max: (schema.maximum ?? 1000) + 2 }).map(String),
          fc.constantFrom(
            '',
            '1.5',
            '1e3',
            '0x10',
            '-0',
            'NaN',
            'Infinity',
            '-Infinity',
            '99999999999999999999',
            ' 7',
            '7 ',
            '+7',
            '1_000',
            '٣',
            '9007199254740993',
          ),
        )
  } else {
    const valid = fc.constantFrom('tier', 'recencyDays', 'experiment', 'api_key', 'settings', 'fz-running', 'fz-live')
    value = plausible ? valid : fc.oneof(valid, fc.string({ maxLength: 16 }).map(enc))
  }
  if (plausible) return value
  const junk = fc.oneof(fc.constantFrom(...percentJunk), fc.constantFrom('', ' ', 'x'.repeat(129), 'x'.repeat(20_000)), hostileString.map(enc))
  return fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: junk })
}

function queryArb(route: RouteSpec, metricKeys: readonly string[], plausible: boolean): fc.Arbitrary<string> {
  const pair = (p: RouteSpec['query'][number]) => queryValue(p.name, p.schema, metricKeys, plausible).map((v) => `${p.name}=${v}`)
  const declared = route.query.map((p) => fc.option(pair(p), { nil: undefined, freq: 2 }))
  const extra = fc.oneof(
    fc.tuple(unknownKey.map(enc), fc.string({ maxLength: 8 }).map(enc)).map(([k, v]) => `${k}=${v}`),
    fc.constantFrom('=', '&', '%', '=x', 'a', 'a=%zz', '%00=1', '%ED%A0%80=1', 'window[]=1', 'metrics[0]=revenue', '__proto__=1', 'constructor=x', 'a=1=2'),
    // a declared parameter a second time: ?window=1&window=2
    ...(route.query.length ? [fc.constantFrom(...route.query).chain(pair)] : []),
  )
  return fc.tuple(fc.tuple(...declared), fc.array(extra, { maxLength: plausible ? 0 : 2 })).map(([d, e]) => {
    const pairs = [...d.filter((x): x is string => x !== undefined), ...e]
    return pairs.length ? `?${pairs.join('&')}` : ''
  })
}

interface Payload {
  contentType?: string
  body?: string | Uint8Array<ArrayBuffer>
}

/**
 * A plausible body is a known route's body (or one from its schema), sometimes with one mutation, sent with a
 * declared content type; a chaotic one is anything from a mutated body to bytes that are not UTF-8.
 */
function bodyArb(route: RouteSpec, world: FuzzWorld, doc: OpenApiDoc, plausible: boolean): fc.Arbitrary<Payload> {
  const fromDoc = route.body ? fromSchema(route.body.schema, doc) : fc.jsonValue({ maxDepth: 2 })
  const known = world.validBodies[routeName(route)]
  const base = known ? fc.oneof({ weight: 3, arbitrary: known }, { weight: 1, arbitrary: fromDoc }) : fromDoc
  const mutated = (kinds: fc.Arbitrary<Mutation>, most: number) =>
    fc.tuple(base, fc.array(kinds, { minLength: 1, maxLength: most })).map(([v, ms]) => ms.reduce((acc, m) => mutate(acc, m), v))
  const declared = fc.constantFrom(...(route.body?.contentTypes ?? ['application/json']))
  const serialise = (type: string | undefined, v: unknown) => (type?.includes('ndjson') && Array.isArray(v) ? v.map(toJsonText).join('\n') : toJsonText(v))
  if (plausible) {
    return fc
      .tuple(declared, fc.oneof({ weight: 1, arbitrary: base }, { weight: 3, arbitrary: mutated(gentleMutation, 1) }))
      .map(([type, v]) => ({ contentType: type, body: serialise(type, v) }))
  }
  const value = fc.oneof({ weight: 2, arbitrary: base }, { weight: 5, arbitrary: mutated(mutation, 3) }, { weight: 2, arbitrary: nastyValue })
  const contentType = fc.oneof(
    { weight: 6, arbitrary: declared },
    { weight: 3, arbitrary: fc.constantFrom(...oddContentTypes) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
  return fc.tuple(contentType, value, fc.nat({ max: 9 })).chain(([type, v, roll]): fc.Arbitrary<Payload> => {
    if (roll === 0) return fc.constant({ contentType: type })
    if (roll === 1) return invalidUtf8.map((body) => ({ contentType: type, body }))
    const text = serialise(type, v)
    if (roll < 5) return malformedText(text).map((body) => ({ contentType: type, body }))
    return fc.constant({ contentType: type, body: text })
  })
}

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/**
 * One request for `route`. Half are plausible (real ids, sensible query values, a well-formed key, a
 * known body with at most one mutation), so that the domain's own checks run; the rest are chaotic: junk ids,
 * percent-encoding errors, repeated and unknown parameters, malformed Authorization, odd content types and
 * headers, another method now and then (GET never carries a body).
 */
export function requestFor(route: RouteSpec, world: FuzzWorld, doc: OpenApiDoc, metricKeys: readonly string[]): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(oneRequest(route, world, doc, metricKeys, true), oneRequest(route, world, doc, metricKeys, false))
}

function oneRequest(route: RouteSpec, world: FuzzWorld, doc: OpenApiDoc, metricKeys: readonly string[], plausible: boolean): fc.Arbitrary<FuzzRequest> {
  const method = plausible
    ? fc.constant(route.method)
    : fc.oneof({ weight: 10, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...methods) })
  const payload = route.body
    ? bodyArb(route, world, doc, plausible)
    : plausible
      ? fc.constant<Payload>({})
      : fc.oneof({ weight: 3, arbitrary: fc.constant<Payload>({}) }, { weight: 1, arbitrary: bodyArb(route, world, doc, false) })
  const extra = plausible
    ? fc.constant(undefined)
    : fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...oddHeaders) })
  return fc
    .record({
      method,
      path: pathArb(route, world, plausible),
      query: queryArb(route, metricKeys, plausible),
      auth: authorization(world.keys, plausible),
      payload,
      extra,
    })
    .map(({ method, path, query, auth, payload, extra }) => {
      const headers: Record<string, string> = {}
      if (auth !== undefined) headers.authorization = auth
      if (extra) headers[extra[0]] = extra[1]
      const withBody = method !== 'GET' && payload.body !== undefined
      if (withBody && payload.contentType !== undefined) headers['content-type'] = payload.contentType
      return { method, url: path + query, headers, ...(withBody ? { body: payload.body } : {}) }
    })
}

/** A short, printable account of a request for failure messages. */
export function describeRequest(r: FuzzRequest): string {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : `<${r.body.length} bytes: ${Buffer.from(r.body).toString('hex').slice(0, 80)}>`
  const clip = (s: string, n: number) => JSON.stringify(s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s)
  return `${r.method} ${clip(r.url, 300)} headers=${clip(JSON.stringify(r.headers), 300)} body=${clip(body, 600)}`
}
