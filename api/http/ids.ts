import { z } from '@hono/zod-openapi'

/** A customer id as the CRM knows it: printable, at most 256 characters. */
export const CustomerId = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(/^[^\u0000-\u001f\u007f\ufffd]+$/, 'must not contain control characters or invalid UTF-8')
