/**
 * Strings that one store accepts and another refuses must be stopped before they join a shared insert:
 * a lone UTF-16 surrogate (JSON allows "\ud800"; ClickHouse and Postgres refuse the bytes it becomes) or a
 * NUL (Postgres text cannot hold it) in one client's row would otherwise fail every row written beside it.
 */

/** Deepest nesting of objects and arrays a body may have; deeper values are refused without recursion. */
export const MAX_DEPTH = 32

export interface StringProblem {
  /** Dot path of the offending value or key, e.g. `attributes.email` or `0.customerId`. */
  field: string
  message: string
}

/** Why a single string cannot be stored, or null when it can. */
export function stringProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain the NUL character (\\u0000)'
  if (!s.isWellFormed()) return 'must be well-formed Unicode (it holds a lone surrogate such as \\ud800)'
  return null
}

const join = (path: string, key: string | number) => (path === '' ? String(key) : `${path}.${key}`)

/**
 * The first string (value or object key) in a parsed JSON value that cannot be stored, or nesting deeper than
 * `maxDepth`; null when everything is fine. Iterative, so a 10,000-deep body cannot overflow the stack.
 * @example firstStringProblem({ customerId: 'c\ud800' }) // { field: 'customerId', message: 'must be well-formed …' }
 */
export function firstStringProblem(value: unknown, maxDepth = MAX_DEPTH, root = ''): StringProblem | null {
  const stack: Array<[unknown, string, number]> = [[value, root, 0]]
  while (stack.length) {
    const [v, path, depth] = stack.pop()!
    if (typeof v === 'string') {
      const message = stringProblem(v)
      if (message) return { field: path || '(body)', message }
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (depth >= maxDepth) return { field: path || '(body)', message: `is nested more than ${maxDepth} levels deep` }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], join(path, i), depth + 1])
      continue
    }
    const keys = Object.keys(v)
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]
      const message = stringProblem(key)
      if (message) return { field: join(path, key), message: `has a key that ${message}` }
      stack.push([(v as Record<string, unknown>)[key], join(path, key), depth + 1])
    }
  }
  return null
}
