import fc from 'fast-check'

/**
 * Values a client can send that a server should refuse by field, never with a 5xx: generators for the fuzz
 * suite (test/integration/fuzz-routes.test.ts). Everything here is plain data, independent of the routes.
 */

/** A value that JSON.stringify cannot produce (`1e999`, `-0`): put in place of the string when the body is serialised. */
export const raw = (token: string) => `\u0001RAW:${token}\u0001`
const rawPattern = /"\\u0001RAW:(.*?)\\u0001"/g

/** JSON text of `value`, with raw() placeholders replaced by their tokens. */
export function toJsonText(value: unknown): string {
  return (JSON.stringify(value) ?? '').replace(rawPattern, (_, token: string) => JSON.parse(`"${token}"`))
}

/**
 * `depth` levels of alternating objects and arrays around a string, as raw JSON text: built without recursion,
 * because a value this deep would overflow the test's own stack in structuredClone or JSON.stringify.
 */
export function nested(depth: number): string {
  let open = ''
  let close = ''
  for (let i = 0; i < depth; i++) {
    open = i % 2 ? `${open}[` : `${open}{"a":`
    close = i % 2 ? `]${close}` : `}${close}`
  }
  return raw(`${open}"bottom"${close}`)
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
/** Strings mixing ordinary text with the characters no store can hold (NUL, lone surrogates) and controls. */
export const hostileString = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: loneSurrogate },
    { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u0007', '\n', '\u007f', '\ufffd', '\u202e', '\ufeff', '😀', '"', '\\', '%', "'") },
  ),
  maxLength: 24,
})

const nastyConstants: unknown[] = [
  '',
  ' ',
  'a'.repeat(65),
  'a'.repeat(257),
  'x'.repeat(20_000),
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\ud83d',
  '😀',
  '\ufffd',
  'NaN',
  'Infinity',
  '-1',
  '1e999',
  '2026-02-30',
  '2026-02-30T10:00:00Z',
  '99999999999999999999',
  'true',
  'null',
  '__proto__',
  "'; drop table experiments; --",
  '../../etc/passwd',
  '%00',
  '<script>alert(1)</script>',
  '{"$regex":"^(a+)+$"}',
  0,
  -0,
  -1,
  1,
  0.5,
  1.5,
  2,
  1e308,
  -1e308,
  5e-324,
  2 ** 53 + 1,
  1e21,
  1_000_000_001,
  // around the integer column types of Postgres (int4, int8) and of JavaScript
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  true,
  false,
  null,
  [],
  {},
  [null],
  [[]],
  { '': '' },
  { $regex: '^(a+)+$' },
  { $regex: '(a)\\1' },
  { $where: 'sleep(1)' },
  JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
  raw('1e999'),
  raw('-1e999'),
  raw('1e-400'),
  raw('123456789012345678901234567890'),
  raw('-0.0'),
  raw('0.30000000000000004'),
  nested(32),
  nested(33),
  nested(200),
  nested(10_000),
  Array.from({ length: 10_001 }, (_, i) => i),
]

/** One hostile JSON value: fixed classics, random strings and numbers, random JSON. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...nastyConstants) },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
)

/** Keys a schema does not expect, including the ones that reach Object.prototype when merged carelessly. */
export const unknownKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'extra', 'ID', 'id ', '', '$where', '\u0000', '\ud800', 'a.b', 'x'.repeat(200)),
  fc.string({ maxLength: 12 }),
)

export interface Mutation {
  /** `extreme` replaces a number or a string (not any node), where bounds and column types are tested. */
  kind: 'set' | 'delete' | 'add' | 'retype' | 'wrap' | 'extreme'
  pick: number
  key: string
  value: unknown
  number: number
  text: string
}
const extremeNumbers = [
  2 ** 31 - 1,
  2 ** 31,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1e21,
  1e308,
  -1e308,
  5e-324,
  -0,
  -1,
  0.1,
]
const mutationOf = (kinds: Array<Mutation['kind']>): fc.Arbitrary<Mutation> =>
  fc.record({
    kind: fc.constantFrom(...kinds),
    pick: fc.nat(),
    key: unknownKey,
    value: nastyValue,
    number: fc.constantFrom(...extremeNumbers),
    text: fc.oneof(
      hostileString,
      fc.constantFrom(65, 129, 201, 257, 2_001, 5_001, 10_001, 20_000).map((n) => 'x'.repeat(n)),
    ),
  })
/** Any change, from a changed leaf to a replaced root. */
export const mutation = mutationOf(['set', 'set', 'delete', 'add', 'retype', 'wrap', 'extreme', 'extreme'])
/** A change that leaves the rest of a plausible body intact: one extreme leaf, one field less or one more. */
export const gentleMutation = mutationOf(['extreme', 'extreme', 'extreme', 'extreme', 'delete', 'add'])

type Path = Array<string | number>
function pathsOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path)
  if (path.length < 8 && value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, Array.isArray(value) ? Number(k) : k], out)
  }
  return out
}

function retype(v: unknown): unknown {
  if (typeof v === 'number') return String(v)
  if (typeof v === 'string') return Number(v) || v.length
  if (typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return { ...v }
  if (v && typeof v === 'object') return Object.values(v)
  return 'null'
}

/** `value` with one mutation applied at the node `pick` selects (the root included); `value` itself is not changed. */
export function mutate(value: unknown, m: Mutation): unknown {
  const root = { v: structuredClone(value) }
  const at = (p: Path) => p.reduce<any>((node, k) => node?.[k], root.v)
  let paths = pathsOf(root.v)
  if (m.kind === 'extreme') {
    // Numbers on even picks, strings on odd ones (either when the body has only one kind).
    const numbers = paths.filter((p) => typeof at(p) === 'number')
    const strings = paths.filter((p) => typeof at(p) === 'string')
    paths = (m.pick % 2 === 0 && numbers.length) || !strings.length ? numbers : strings
  }
  if (!paths.length) return root.v
  const path: Path = ['v', ...paths[Math.floor(m.pick / 2) % paths.length]]
  const parent = path.slice(0, -1).reduce<any>((node, k) => node[k], root)
  const last = path[path.length - 1]
  const node = parent[last]
  switch (m.kind) {
    case 'extreme':
      parent[last] = typeof node === 'number' ? m.number : m.text
      break
    case 'set':
      parent[last] = m.value
      break
    case 'delete':
      if (parent === root) break
      if (Array.isArray(parent)) parent.splice(last as number, 1)
      else delete parent[last]
      break
    case 'add':
      if (Array.isArray(node)) node.push(m.value)
      else if (node && typeof node === 'object') Object.defineProperty(node, m.key, { value: m.value, enumerable: true, writable: true, configurable: true })
      else parent[last] = { [m.key]: m.value }
      break
    case 'retype':
      parent[last] = retype(node)
      break
    case 'wrap':
      parent[last] = [node]
      break
  }
  return root.v
}

/** Bodies that are not JSON at all, or JSON only in part. */
export function malformedText(validText: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: Math.max(0, validText.length - 1) }).map((i) => validText.slice(0, i)),
    fc.constant('\ufeff' + validText),
    fc.constant(validText.replaceAll('"', "'")),
    fc.constant(validText + validText),
    fc.constant(`${validText.slice(0, -1)},}`),
    fc.constantFrom(
      '',
      ' ',
      '\n',
      '{',
      '[',
      '}',
      ']',
      'null',
      'true',
      '0',
      '-1',
      '"x"',
      '[]',
      '{}',
      '[{}]',
      '{"a":1,}',
      '{a:1}',
      'NaN',
      '[1,2',
      '{"__proto__":{"polluted":true}}',
      '{"a":1}{"b":2}',
      '//c\n{}',
      '\u0000',
      '{"a":"\\ud800"}',
      '{"a":"\\u0000"}',
      '{"a":"\\x41"}',
      '{"a":"\\uZZZZ"}',
      '[1e999]',
      '{"a":-}',
      '['.repeat(100_000),
      '{"a":'.repeat(20_000),
      '"' + 'x'.repeat(2_000_000) + '"',
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
  )
}

/** Bytes that are not valid UTF-8, alone or inside otherwise valid JSON. */
export const invalidUtf8 = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 48 }),
  fc
    .constantFrom([0xff, 0xfe], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80])
    .map((bad) => new Uint8Array([...Buffer.from('{"name":"a'), ...bad, ...Buffer.from('","customerId":"c'), ...bad, ...Buffer.from('"}')])),
  fc.constant(new Uint8Array(Buffer.from('{"name":"utf-16"}', 'utf16le'))),
)
