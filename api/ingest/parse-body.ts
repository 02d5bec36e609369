import { ApiError } from '../http/errors.ts'

export type ParsedItem = { index: number; value: unknown } | { index: number; error: string }

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
export function parseEventBody(body: Uint8Array, contentType: string | undefined, maxItems: number): ParsedItem[] {
  let first = 0
  while (first < body.length && (body[first] === 0x20 || body[first] === 0x0a || body[first] === 0x0d || body[first] === 0x09 || body[first] === 0xef || body[first] === 0xbb || body[first] === 0xbf)) first++
  if (first === body.length) throw new ApiError(400, 'empty_body', 'the body holds no events: send a JSON array or NDJSON lines')
  const ndjson = /ndjson|jsonl|json-seq|x-jsonlines/i.test(contentType ?? '') || (body[first] !== 0x5b /* [ */ && !looksLikeSingleObject(body, first))

  if (!ndjson) return parseJsonArray(body, maxItems)

  const items: ParsedItem[] = []
  let start = 0
  let parsedAny = false
  for (let i = 0; i <= body.length; i++) {
    if (i < body.length && body[i] !== 0x0a) continue
    if (!isBlank(body, start, i)) {
      const index = items.length
      if (index >= maxItems) throw new ApiError(413, 'too_many_events', `at most ${maxItems.toLocaleString('en-US')} events per request; split the batch`)
      let text: string | null = null
      try {
        text = strict.decode(body.subarray(start, i))
      } catch {
        items.push({ index, error: 'the line is not valid UTF-8' })
      }
      if (text !== null) {
        try {
          items.push({ index, value: JSON.parse(text) })
          parsedAny = true
        } catch {
          items.push({ index, error: 'the line is not valid JSON (NaN, Infinity and trailing commas are not JSON)' })
        }
      }
    }
    start = i + 1
  }
  if (!parsedAny && items.every((it) => 'error' in it && it.error.includes('JSON'))) {
    throw new ApiError(400, 'invalid_body', 'the body is neither a JSON array nor NDJSON (one JSON object per line)')
  }
  return items
}

function looksLikeSingleObject(body: Uint8Array, first: number): boolean {
  // `{...}` alone (one event) is JSON; `{...}\n{...}` is NDJSON. Decide by whether a second line has content.
  if (body[first] !== 0x7b) return false
  const nl = body.indexOf(0x0a, first)
  return nl === -1 || isBlank(body, nl, body.length)
}

function parseJsonArray(body: Uint8Array, maxItems: number): ParsedItem[] {
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
    throw new ApiError(400, 'invalid_json', 'the body is not valid JSON (NaN, Infinity and trailing commas are not JSON); send a JSON array of events or NDJSON')
  }
  const list = Array.isArray(value) ? value : [value]
  if (list.length > maxItems) throw new ApiError(413, 'too_many_events', `at most ${maxItems.toLocaleString('en-US')} events per request; split the batch`)
  return list.map((item, index) =>
    repaired && JSON.stringify(item).includes('\ufffd') ? { index, error: 'the event contains invalid UTF-8' } : { index, value: item },
  )
}
