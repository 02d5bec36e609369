import { DomainError } from '../domain-errors.ts'

/**
 * The items of a body by index; `errors` names the indexes that could not be read at all (their value slot
 * is undefined). A separate map rather than a wrapper object per item: a 1,000-event request would
 * otherwise allocate 1,000 wrappers on the hottest path of ingestion.
 */
export interface ParsedBody {
  values: unknown[]
  errors: Map<number, string>
}

const strict = new TextDecoder('utf-8', { fatal: true })
const lenient = new TextDecoder('utf-8')

function isBlank(bytes: Uint8Array, start: number, end: number) {
  for (let i = start; i < end; i++) {
    const b = bytes[i]
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false
  }
  return true
}

/**
 * Splits a request body into items: a JSON array (or one JSON object), or NDJSON, one event per line.
 * NDJSON lines are decoded and parsed one by one, so a line with invalid UTF-8 or broken JSON is named
 * by its index while its neighbours go through. A body that is neither form at all is a 400.
 */
export function parseEventBody(body: Uint8Array, contentType: string | undefined, maxItems: number): ParsedBody {
  let first = 0
  while (
    first < body.length &&
    (body[first] === 0x20 ||
      body[first] === 0x0a ||
      body[first] === 0x0d ||
      body[first] === 0x09 ||
      body[first] === 0xef ||
      body[first] === 0xbb ||
      body[first] === 0xbf)
  )
    first++
  if (first === body.length) throw new DomainError('invalid', 'empty_body', 'the body holds no events: send a JSON array or NDJSON lines')
  const ndjson = /ndjson|jsonl|json-seq|x-jsonlines/i.test(contentType ?? '') || (body[first] !== 0x5b /* [ */ && !looksLikeSingleObject(body, first))

  if (!ndjson) return parseJsonArray(body, maxItems)

  const values: unknown[] = []
  const errors = new Map<number, string>()
  let start = 0
  let parsedAny = false
  for (let i = 0; i <= body.length; i++) {
    if (i < body.length && body[i] !== 0x0a) continue
    if (!isBlank(body, start, i)) {
      const index = values.length
      if (index >= maxItems)
        throw new DomainError('too_large', 'too_many_events', `at most ${maxItems.toLocaleString('en-US')} events per request; split the batch`)
      values.push(undefined)
      let text: string | null = null
      try {
        text = strict.decode(body.subarray(start, i))
      } catch {
        errors.set(index, 'the line is not valid UTF-8')
      }
      if (text !== null) {
        try {
          values[index] = JSON.parse(text)
          parsedAny = true
        } catch {
          errors.set(index, 'the line is not valid JSON (NaN, Infinity and trailing commas are not JSON)')
        }
      }
    }
    start = i + 1
  }
  if (!parsedAny && [...errors.values()].every((e) => e.includes('JSON'))) {
    throw new DomainError('invalid', 'invalid_body', 'the body is neither a JSON array nor NDJSON (one JSON object per line)')
  }
  return { values, errors }
}

function looksLikeSingleObject(body: Uint8Array, first: number): boolean {
  // `{...}` alone (one event) is JSON; `{...}\n{...}` is NDJSON. Decide by whether a second line has content.
  if (body[first] !== 0x7b) return false
  const nl = body.indexOf(0x0a, first)
  return nl === -1 || isBlank(body, nl, body.length)
}

function parseJsonArray(body: Uint8Array, maxItems: number): ParsedBody {
  let text: string
  let repaired = false
  try {
    text = strict.decode(body)
  } catch {
    // Decode anyway and reject, by index, the items that carry a replacement character.
    text = lenient.decode(body)
    repaired = true
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new DomainError(
      'invalid',
      'invalid_json',
      'the body is not valid JSON (NaN, Infinity and trailing commas are not JSON); send a JSON array of events or NDJSON',
    )
  }
  const values = Array.isArray(value) ? value : [value]
  if (values.length > maxItems)
    throw new DomainError('too_large', 'too_many_events', `at most ${maxItems.toLocaleString('en-US')} events per request; split the batch`)
  const errors = new Map<number, string>()
  if (repaired) values.forEach((item, index) => JSON.stringify(item).includes('\ufffd') && errors.set(index, 'the event contains invalid UTF-8'))
  return { values, errors }
}
