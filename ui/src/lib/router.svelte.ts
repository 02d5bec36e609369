/// <reference types="svelte" />
/**
 * A tiny history-API router. The API answers every non-/v1 path with index.html, so deep links and reloads
 * land here; `route` is reactive state that pages read, `navigate` changes it without a reload.
 */

export type Route =
  | { name: 'overview' }
  | { name: 'experiments' }
  | { name: 'new-experiment' }
  | { name: 'experiment'; id: string }
  | { name: 'library' }
  | { name: 'metrics' }
  | { name: 'new-metric' }
  | { name: 'metric'; key: string }
  | { name: 'segments' }
  | { name: 'triggers' }
  | { name: 'settings' }
  | { name: 'notifications' }
  | { name: 'digest' }
  | { name: 'not-found'; path: string }

/** The route a pathname names: `matchRoute('/experiments/win-back')` → `{ name: 'experiment', id: 'win-back' }`. */
export function matchRoute(pathname: string): Route {
  const clean = pathname.replace(/\/+$/, '') || '/'
  if (clean === '/') return { name: 'overview' }
  if (clean === '/experiments') return { name: 'experiments' }
  if (clean === '/experiments/new') return { name: 'new-experiment' }
  if (clean === '/library') return { name: 'library' }
  if (clean === '/metrics') return { name: 'metrics' }
  if (clean === '/metrics/new') return { name: 'new-metric' }
  if (clean === '/segments') return { name: 'segments' }
  if (clean === '/triggers') return { name: 'triggers' }
  if (clean === '/settings') return { name: 'settings' }
  if (clean === '/settings/notifications') return { name: 'notifications' }
  if (clean === '/digest') return { name: 'digest' }
  const m = /^\/experiments\/([^/]+)$/.exec(clean)
  if (m) return { name: 'experiment', id: decodeURIComponent(m[1]) }
  const metric = /^\/metrics\/([^/]+)$/.exec(clean)
  if (metric) return { name: 'metric', key: decodeURIComponent(metric[1]) }
  return { name: 'not-found', path: pathname }
}

export const currentUrl = $state({ pathname: window.location.pathname, search: window.location.search })

export const route = {
  get current(): Route {
    return matchRoute(currentUrl.pathname)
  },
  /** A query parameter of the current URL, e.g. the experiments list's `?q=` search. */
  param(name: string): string | null {
    return new URLSearchParams(currentUrl.search).get(name)
  },
}

function sync() {
  currentUrl.pathname = window.location.pathname
  currentUrl.search = window.location.search
}

window.addEventListener('popstate', sync)

/** Goes to a path inside the app; `replace` rewrites the current history entry (filters, redirects). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(to, window.location.href)
  const next = url.pathname + url.search + url.hash
  if (next === window.location.pathname + window.location.search + window.location.hash) return
  if (opts.replace) history.replaceState(null, '', next)
  else history.pushState(null, '', next)
  const pageChanged = url.pathname !== currentUrl.pathname
  sync()
  if (pageChanged && !opts.replace) window.scrollTo(0, 0)
}

/**
 * Turns clicks on ordinary same-origin links into `navigate` calls; links to the API (/v1, /docs), new-tab
 * clicks and downloads keep the browser's behaviour. Install once on the document.
 */
export function interceptLinks(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  const anchor = (event.target as Element | null)?.closest?.('a')
  if (!anchor || anchor.target || anchor.hasAttribute('download')) return
  const url = new URL(anchor.href, window.location.href)
  if (url.origin !== window.location.origin || /^\/(v1|docs)(\/|$)/.test(url.pathname)) return
  event.preventDefault()
  navigate(url.pathname + url.search + url.hash)
}
