import type { z } from 'zod'

type Issue = z.core.$ZodIssue

/** zod's own wording ("Too big: expected number to be <=0.2"): replaced; a schema's custom message is kept. */
const zodDefault = /^(Too big|Too small|Invalid input|Invalid option|Invalid string|Invalid number|Invalid discriminator|Unrecognized key)/

const typeNames: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  date: 'a date',
}

const show = (v: unknown) =>
  typeof v === 'bigint' ? String(v) : typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 10 }) : JSON.stringify(v)

/**
 * One place for the words a person reads when a field is wrong: "must be at most 0.2", "is required",
 * "must be one of: percent_off, amount_off". Schema messages written for people pass through unchanged.
 */
export function humanMessage(issue: Issue): string {
  if (!zodDefault.test(issue.message)) return issue.message
  switch (issue.code) {
    case 'too_big': {
      const max = show(issue.maximum)
      if (issue.origin === 'string') return `must be at most ${max} characters`
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${max} items`
      return issue.inclusive ? `must be at most ${max}` : `must be less than ${max}`
    }
    case 'too_small': {
      const min = show(issue.minimum)
      if (issue.origin === 'string') return Number(issue.minimum) === 1 ? 'must not be empty' : `must be at least ${min} characters`
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${min} item${Number(issue.minimum) === 1 ? '' : 's'}`
      return issue.inclusive ? `must be at least ${min}` : `must be more than ${min}`
    }
    case 'invalid_type':
      if (/received undefined/.test(issue.message)) return 'is required'
      return `must be ${typeNames[issue.expected] ?? issue.expected}`
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${show(issue.values[0])}`
        : `must be one of: ${issue.values.map((v) => (typeof v === 'string' ? v : show(v))).join(', ')}`
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.join(', ')} (check the spelling)`
    case 'invalid_union': {
      // A discriminated union (an offer's type, a metric's kind, a filter's operator) given a value it does not know.
      const options = (issue as { options?: unknown[] }).options
      if (Array.isArray(options) && options.length) return `must be one of: ${options.map((v) => (typeof v === 'string' ? v : show(v))).join(', ')}`
      return issue.message
    }
    case 'invalid_format':
      if (issue.format === 'date') return 'must be a date such as 2027-01-31'
      if (issue.format === 'datetime') return 'must be a date-time such as 2027-01-31T09:00:00Z'
      if (issue.format === 'regex') return 'is not in the expected format'
      return `must be a valid ${issue.format}`
    default:
      return issue.message
  }
}
