import { OpenAPIHono, z } from '@hono/zod-openapi'
import type { AuthEnv } from '../auth/middleware.ts'
import { fromZodError } from './errors.ts'
import { rejectUnsafeStrings } from './body.ts'

export type App = OpenAPIHono<AuthEnv>

/** Every route shares one validation hook so that all bad input reads `{ error: { code, message, field } }`. */
export function newRouter(): App {
  return new OpenAPIHono<AuthEnv>({
    defaultHook: (result) => {
      if (!result.success) throw fromZodError(result.error)
      // Bodies, params and queries alike: a NUL or lone surrogate would fail the Postgres or ClickHouse write.
      rejectUnsafeStrings(result.data)
    },
  })
}

export const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) }).openapi('Error')

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } })

/** The error answers every authenticated route can give, for the OpenAPI document. */
export const standardErrors = {
  400: errorResponse('Invalid input: the field and the problem are named'),
  401: errorResponse('Missing, unknown or revoked API key'),
  403: errorResponse('The key’s role may not do this'),
  404: errorResponse('Not found'),
  409: errorResponse('Conflicts with the current state'),
} as const

export const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({ description, content: { 'application/json': { schema } } })
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } })
export const bearer = [{ Bearer: [] }]
