import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import type { z } from 'zod'
import { ApiError, fromZodError } from './errors.ts'
import { firstStringProblem } from './safe-strings.ts'
import { bodyAllowance, overloaded } from './admission.ts'

/**
 * The request body as bytes, at most `maxBytes` (413 beyond, also for chunked uploads). On the Node server it
 * is read straight from the IncomingMessage: going through the web Request would build an AbortController and
 * a web stream per request, which on the hot routes (assign, decide, events) cost more than the work itself.
 * Nothing may touch `c.req.raw.body` before this runs (app.ts keeps Hono's bodyLimit off these routes).
 * Tests calling app.request() have no IncomingMessage and use the standard Request.
 */
export async function readBody(c: Context, maxBytes: number): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  const length = Number(c.req.header('content-length') ?? NaN)
  if (length > maxBytes) throw new ApiError(413, 'payload_too_large', `the request body exceeds ${maxBytes / 1024 / 1024} MB`)
  if (!incoming) {
    const body = new Uint8Array(await c.req.arrayBuffer())
    if (body.length > maxBytes) throw new ApiError(413, 'payload_too_large', `the request body exceeds ${maxBytes / 1024 / 1024} MB`)
    return body
  }
  // Admission control counts a body sent without Content-Length here, as it arrives (http/admission.ts).
  const allowance = bodyAllowance(incoming)
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    // Stop buffering and discard the rest, so the refusal can still be answered on this connection.
    const refuse = (error: ApiError) => {
      incoming.removeAllListeners('data')
      incoming.resume()
      reject(error)
    }
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) refuse(new ApiError(413, 'payload_too_large', `the request body exceeds ${maxBytes / 1024 / 1024} MB`))
      else if (allowance && !allowance.take(chunk.length)) refuse(overloaded('body bytes in flight'))
      else chunks.push(chunk)
    })
    incoming.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
    // A client that left (or was cut by the request timeout) while the key was being checked has already
    // emitted its error: without these the read would wait forever and hold its admission slot.
    const gone = () => reject(new ApiError(400, 'incomplete_body', 'the connection closed before the request body was complete'))
    if (incoming.destroyed) gone()
    incoming.on('error', gone)
    incoming.on('close', () => incoming.complete || gone())
  })
}

/** Parses a JSON body against a zod schema with the same errors as the validated routes. */
export async function readJson<T extends z.ZodType>(c: Context, schema: T, maxBytes: number): Promise<z.output<T>> {
  if (!/json/i.test(c.req.header('content-type') ?? ''))
    throw new ApiError(415, 'unsupported_media_type', 'send the body as JSON with Content-Type: application/json')
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(await readBody(c, maxBytes)).toString('utf8'))
  } catch (error) {
    if (error instanceof ApiError) throw error
    throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON')
  }
  rejectUnsafeStrings(value)
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw fromZodError(parsed.error)
  return parsed.data
}

/** A 400 naming the first string that no store could hold (see safe-strings.ts); checked before any schema. */
export function rejectUnsafeStrings(value: unknown): void {
  const problem = firstStringProblem(value)
  if (problem) throw new ApiError(400, 'invalid_input', `${problem.field}: ${problem.message}`, problem.field)
}
