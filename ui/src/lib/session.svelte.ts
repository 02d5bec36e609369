/// <reference types="svelte" />
/**
 * The API key this browser uses, kept in localStorage under `rl.apiKey` so it is entered once. When the API
 * rejects it (401) the key is forgotten and the app shows the key prompt again with the reason.
 */

const STORAGE_KEY = 'rl.apiKey'

function stored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY) || null
  } catch {
    return null
  }
}

export const session = $state<{ key: string | null; reason: string | null }>({ key: stored(), reason: null })

export function signIn(key: string): void {
  session.key = key
  session.reason = null
  try {
    localStorage.setItem(STORAGE_KEY, key)
  } catch {
    // Private mode without storage: the key lives until the tab closes.
  }
}

export function signOut(reason: string | null = null): void {
  session.key = null
  session.reason = reason
  try {
    localStorage.removeItem(STORAGE_KEY)
  } catch {
    // Nothing stored, nothing to forget.
  }
}

/** "rl_ab12…" — enough to recognise a key without showing it. */
export function keyHint(key: string | null): string {
  return key ? `${key.slice(0, 7)}…` : ''
}
