/**
 * Targeting by segment or feature (issue 20): when an experiment's targeting names `features.<name>` or `segments`
 * (targeting-refs.ts), /v1/assign and /v1/decide add the customer's features (plus `rfm_group`) and the keys of the
 * live segments they are in to the attributes the condition is evaluated on. An attribute the caller sent under
 * either name wins over the lookup. A condition naming neither costs nothing.
 *
 * How fresh (docs/segments.md, "Targeting by segment"): features at most `ttlMs` old, or a poll old while a
 * FeatureRefresher covers the cache (feature-cache.ts, feature-refresh.ts);
 * segment definitions re-read at once after a change through this process and within `segmentsTtlMs` after one
 * through another; RFM cut points at most `rfmTtlMs` old, the previous ones answering while new ones are computed.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { Condition } from '../assignment/targeting.ts'
import { errorFields, log } from '../observability/log.ts'
import { CustomerFeatureCache, type FeatureCacheOptions } from './feature-cache.ts'
import { FeatureRefresher, type FeatureRefreshOptions } from './feature-refresh.ts'
import type { CustomerFeatures } from './features.ts'
import { segmentsOf } from './membership.ts'
import { rfmCutsAsOf } from './profile.ts'
import { rfmScore, type RfmCuts } from './rfm.ts'
import type { StoredSegment } from './schema.ts'
import { activeSegments } from './store.ts'
import { FEATURES_ATTRIBUTE, NO_NEEDS, SEGMENTS_ATTRIBUTE, segmentsReadRfmGroup, serverNeeds, type ServerNeeds } from './targeting-refs.ts'

export interface ServerAttributeOptions {
  features?: Partial<FeatureCacheOptions>
  /** Started by the first lookup: a deployment whose targeting never names features reads nothing ahead. */
  refresh?: Partial<FeatureRefreshOptions>
  segmentsTtlMs?: number
  rfmTtlMs?: number
}

interface LiveSegments {
  at: number
  segments: StoredSegment[]
  readsRfmGroup: boolean
}

export class ServerAttributes {
  readonly features: CustomerFeatureCache
  readonly refresher: FeatureRefresher
  private readonly needsByCondition = new WeakMap<Condition, ServerNeeds>()
  private live: LiveSegments | null = null
  private liveLoading: Promise<LiveSegments> | null = null
  /** Bumped by `segmentsChanged`: a load that started before it must not be kept. */
  private liveGeneration = 0
  private cuts: { at: number; cuts: RfmCuts } | null = null
  private cutsLoading: Promise<RfmCuts> | null = null
  private readonly segmentsTtlMs: number
  private readonly rfmTtlMs: number

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ch: ClickHouse,
    private readonly now: () => number = Date.now,
    opts: ServerAttributeOptions = {},
  ) {
    this.features = new CustomerFeatureCache(ch, now, opts.features)
    this.refresher = new FeatureRefresher(ch, this.features, opts.refresh)
    this.segmentsTtlMs = opts.segmentsTtlMs ?? 30_000
    this.rfmTtlMs = opts.rfmTtlMs ?? 10 * 60_000
  }

  /** What a targeting condition needs looked up, computed once per condition object (configs are cached). */
  needsOf(condition: Condition | null): ServerNeeds {
    if (!condition) return NO_NEEDS
    let needs = this.needsByCondition.get(condition)
    if (!needs) {
      needs = serverNeeds(condition)
      this.needsByCondition.set(condition, needs)
    }
    return needs
  }

  /** Segments were created, versioned or archived: the next lookup reads them again. */
  segmentsChanged() {
    this.live = null
    this.liveLoading = null
    this.liveGeneration++
  }

  /**
   * `attributes` with `features` and `segments` added as `needs` asks, unless the caller sent them; the same
   * object when nothing is to be added.
   *
   * @example
   * await server.withServerAttributes('c-42', { cartValue: 30 }, { features: false, segments: true, rfmGroup: false })
   * // { cartValue: 30, segments: ['lapsed_regulars'] }
   */
  async withServerAttributes(customerId: string, attributes: Record<string, unknown>, needs: ServerNeeds): Promise<Record<string, unknown>> {
    const wantFeatures = needs.features && !Object.hasOwn(attributes, FEATURES_ATTRIBUTE)
    const wantSegments = needs.segments && !Object.hasOwn(attributes, SEGMENTS_ATTRIBUTE)
    if (!wantFeatures && !wantSegments) return attributes
    this.refresher.start()
    const [features, live] = await Promise.all([this.features.get(customerId), wantSegments ? this.liveSegments() : null])
    const needsRfm = (wantFeatures && needs.rfmGroup) || (live?.readsRfmGroup ?? false)
    const rfmGroup = needsRfm ? await this.rfmGroup(features) : null
    const out: Record<string, unknown> = { ...attributes }
    if (wantFeatures) out[FEATURES_ATTRIBUTE] = rfmGroup === null ? features : { ...features, rfm_group: rfmGroup }
    if (live) {
      // Without a segment reading rfm_group its value changes nothing: a placeholder spares the cut points.
      const member = segmentsOf({ ...features, rfm_group: rfmGroup ?? 'no_purchases' }, live.segments)
      out[SEGMENTS_ATTRIBUTE] = member.map((s) => s.key)
    }
    return out
  }

  /** Stops the refresher (app close). */
  close(): Promise<void> {
    return this.refresher.close()
  }

  private async liveSegments(): Promise<LiveSegments> {
    if (this.live && this.now() - this.live.at < this.segmentsTtlMs) return this.live
    if (!this.liveLoading) {
      const generation = this.liveGeneration
      const at = this.now()
      const loading = activeSegments(this.db).then((segments) => {
        const live = { at, segments, readsRfmGroup: segmentsReadRfmGroup(segments) }
        if (generation === this.liveGeneration) this.live = live
        return live
      })
      this.liveLoading = loading
      const settled = () => {
        if (this.liveLoading === loading) this.liveLoading = null
      }
      loading.then(settled, settled)
    }
    return this.liveLoading
  }

  private async rfmGroup(features: CustomerFeatures): Promise<string> {
    return rfmScore(features, await this.rfmCuts())?.group ?? 'no_purchases'
  }

  /** The last cut points while fresh ones are computed (a pass over every customer): only the first call waits. */
  private rfmCuts(): Promise<RfmCuts> {
    const t = this.now()
    if (this.cuts && t - this.cuts.at < this.rfmTtlMs) return Promise.resolve(this.cuts.cuts)
    this.cutsLoading ??= rfmCutsAsOf(this.ch, t)
      .then((cuts) => {
        this.cuts = { at: t, cuts }
        return cuts
      })
      .finally(() => (this.cutsLoading = null))
    if (!this.cuts) return this.cutsLoading
    this.cutsLoading.catch((e) => log.error(errorFields(e), 'RFM cut points refresh failed; the previous ones still answer'))
    return Promise.resolve(this.cuts.cuts)
  }
}
