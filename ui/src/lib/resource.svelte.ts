/// <reference types="svelte" />
/**
 * Data a page loads from the API, with its loading and error state: `const experiments = resource(listExperiments)`
 * then `{#if experiments.loading}…{:else if experiments.error}…{:else}{experiments.data}…{/if}`.
 * `reload()` fetches again (after a change, or from an error's "Try again"); a slower, older answer never
 * overwrites a newer one.
 */
export function resource<T>(load: () => Promise<T>) {
  const state = $state<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true })
  let generation = 0

  async function reload(opts: { quiet?: boolean } = {}): Promise<void> {
    const mine = ++generation
    if (!opts.quiet) state.loading = true
    try {
      const data = await load()
      if (mine !== generation) return
      state.data = data
      state.error = null
    } catch (error) {
      if (mine !== generation) return
      state.error = error
    } finally {
      if (mine === generation) state.loading = false
    }
  }

  void reload()

  return {
    get data() {
      return state.data
    },
    set data(value: T | undefined) {
      state.data = value
    },
    get error() {
      return state.error
    },
    get loading() {
      return state.loading
    },
    reload,
  }
}
