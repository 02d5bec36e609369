/**
 * Forms show one API error at a time (the API reports the first problem): the message next to the input it
 * names, and a summary at the top that links there.
 */
export type FormErrors = {
  /** The form field the error belongs to, or null when it belongs to none (shown in the summary only). */
  target: string | null
  message: string
} | null

/** The id of the input for a field path, shared by the inputs, their error messages and the summary's links. */
export const inputId = (field: string) => `field-${field.replace(/[^a-zA-Z0-9_-]/g, '-')}`

/** Attributes that tie an input to its error: `<input {...invalid(errors, 'name')}>`. */
export function invalid(errors: FormErrors, field: string): { 'aria-invalid'?: 'true'; 'aria-describedby'?: string } {
  return errors?.target === field ? { 'aria-invalid': 'true', 'aria-describedby': `${inputId(field)}-error` } : {}
}
