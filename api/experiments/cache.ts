import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import { compileExperiment, type GlobalHoldout } from '../assignment/index.ts'
import { getSettings } from '../settings/store.ts'
import { experimentsVersion, listExperiments } from './store.ts'
import type { Experiment } from './schema.ts'
import { errorFields, log } from '../observability/log.ts'

export type CompiledExperiment = ReturnType<typeof compileExperiment>

export interface CachedExperiment {
  experiment: Experiment
  compiled: CompiledExperiment
}

/**
 * Experiment configs and the global holdout, compiled for assignment and held in memory so that assigning
 * needs no database round trip. A process refreshes at once after its own writes and polls for other
 * processes' writes every `pollMs`, which is what lets many API processes run behind a load balancer.
 */
export class ExperimentCache {
  private byId = new Map<string, CachedExperiment>()
  private holdout: GlobalHoldout = { pct: 0, seed: '' }
  private version = ''
  private timer: NodeJS.Timeout | null = null
  private loading: Promise<void> | null = null
  private next: Promise<void> | null = null

  /** Called after each reload with the experiments it read (app.ts starts the feature preload from it). */
  onLoad: ((all: CachedExperiment[]) => void) | null = null

  constructor(private readonly db: Kysely<Database>) {}

  get globalHoldout(): GlobalHoldout {
    return this.holdout
  }

  get(id: string): CachedExperiment | undefined {
    return this.byId.get(id)
  }

  all(): CachedExperiment[] {
    return [...this.byId.values()]
  }

  /**
   * Reloads everything (after a local write, or a change notice): resolves once a reload that started after this
   * call has finished. A reload already running may have read before the change, so callers that arrive during it
   * share one more that starts when it ends.
   */
  refresh(): Promise<void> {
    if (!this.loading) {
      this.loading = this.load().finally(() => (this.loading = null))
      return this.loading
    }
    this.next ??= this.loading
      .catch(() => undefined)
      .then(() => {
        this.next = null
        return this.refresh()
      })
    return this.next
  }

  private async load() {
    const settings = await getSettings(this.db)
    const version = `${await experimentsVersion(this.db)}|${settings.globalHoldoutPct}|${settings.globalHoldoutSeed}`
    const experiments = await listExperiments(this.db)
    const byId = new Map<string, CachedExperiment>()
    for (const experiment of experiments) byId.set(experiment.id, { experiment, compiled: compileExperiment(experiment) })
    this.byId = byId
    this.holdout = { pct: settings.globalHoldoutPct, seed: settings.globalHoldoutSeed }
    this.version = version
    this.onLoad?.(this.all())
  }

  private async poll() {
    const settings = await getSettings(this.db)
    const version = `${await experimentsVersion(this.db)}|${settings.globalHoldoutPct}|${settings.globalHoldoutSeed}`
    if (version !== this.version) await this.refresh()
  }

  start(pollMs = 2000) {
    this.timer = setInterval(() => this.poll().catch((e) => log.error(errorFields(e), 'experiment cache refresh failed')), pollMs)
    this.timer.unref()
  }

  stop() {
    if (this.timer) clearInterval(this.timer)
  }
}
