import type { FieldProblem } from '../../../api/contract/index.ts'

/**
 * How forms show errors: each message next to the input it names, and a summary at the top that links there.
 * Small forms hold one API error at a time (`FormErrors`); the experiment form holds every problem at once
 * (`FormProblems`: its own range checks and all of an API answer's `error.fields`).
 */
export type FormErrors = {
  /** The form field the error belongs to, or null when it belongs to none (shown in the summary only). */
  target: string | null
  message: string
} | null

/** Every problem of a form at once: the message beside each field, by the field's path, and those no input owns. */
export interface FormProblems {
  fields: Record<string, string>
  /** Shown in the summary only. */
  other: string[]
}

export type AnyFormErrors = FormErrors | FormProblems

export const noProblems = (): FormProblems => ({ fields: {}, other: [] })

export const problemCount = (problems: FormProblems) => Object.keys(problems.fields).length + problems.other.length

/** The id of the input for a field path, shared by the inputs, their error messages and the summary's links. */
export const inputId = (field: string) => `field-${field.replace(/[^a-zA-Z0-9_-]/g, '-')}`

/** The message shown beside `field`, if any. */
export function messageFor(errors: AnyFormErrors | undefined, field: string): string | null {
  if (!errors) return null
  if ('fields' in errors) return errors.fields[field] ?? null
  return errors.target === field ? errors.message : null
}

/** Attributes that tie an input to its error: `<input {...invalid(errors, 'name')}>`. */
export function invalid(errors: AnyFormErrors | undefined, field: string): { 'aria-invalid'?: 'true'; 'aria-describedby'?: string } {
  return messageFor(errors, field) === null ? {} : { 'aria-invalid': 'true', 'aria-describedby': `${inputId(field)}-error` }
}

/**
 * An API error answer as problems beside the form's inputs: every `error.fields` entry (or the single `field`),
 * placed by `target` (an API dot path → the form field showing it, or null), in the API's words. Problems no input
 * owns keep their path in front so the summary still says where they are.
 *
 * @example
 * problemsFromApi({ message: 'name: must not be empty', fields: [{ field: 'name', message: 'must not be empty' }, { field: 'seed', message: 'must not be empty' }] }, (f) => (f === 'name' ? f : null))
 * // { fields: { name: 'must not be empty' }, other: ['seed: must not be empty'] }
 */
export function problemsFromApi(error: { message: string; field?: string; fields?: FieldProblem[] }, target: (field: string) => string | null): FormProblems {
  const problems = noProblems()
  const list: FieldProblem[] = error.fields?.length ? error.fields : [{ field: error.field ?? null, message: error.message }]
  for (const { field, message } of list) {
    const at = field ? target(field) : null
    // Two problems inside one group (e.g. two analysis settings without inputs of their own) share its message.
    if (at) problems.fields[at] = problems.fields[at] ? `${problems.fields[at]}; ${message}` : message
    else problems.other.push(field && !message.startsWith(`${field}:`) ? `${field}: ${message}` : message)
  }
  return problems
}
