import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { ReportCache } from '../reports/cache.ts'
import type { Comparison } from '../../stats/types.ts'
import type { Digest } from '../contract/notifications.ts'
import { listExperiments } from '../experiments/store.ts'
import { programKpiReport } from '../routes/program.ts'
import { currentReport } from './experiment-reports.ts'
import { budgetStatus } from '../reports/budget-status.ts'

const DAY = 86_400_000

export type { Digest }

export interface DigestDeps {
  db: Kysely<Database>
  ch: ClickHouse
  reports: ReportCache
  publicUrl: string
}

/** The digest for first exposures in [from, to), as of `at` (ms). */
export async function buildDigest(deps: DigestDeps, period: { from: number; to: number }, at: number): Promise<Digest> {
  const { db, ch, reports, publicUrl } = deps
  const kpis = await programKpiReport({ db, ch, cache: reports }, { from: period.from, to: period.to, window: 30 }, at)
  const experiments = await listExperiments(db)
  const expLink = (id: string) => `${publicUrl}/experiments/${encodeURIComponent(id)}`
  const weekAgo = at - 7 * DAY
  const decisions = kpis.experiments.decisions
    .filter((d) => Date.parse(d.decidedAt) >= weekAgo && Date.parse(d.decidedAt) <= at)
    .map((d) => ({ ...d, link: expLink(d.experimentId) }))
  const running = await Promise.all(
    experiments
      .filter((e) => e.status === 'running')
      .map(async (e) => {
        try {
          const { recommendation: r } = await currentReport({ db, ch, cache: reports }, e, at)
          return { experimentId: e.id, name: e.name, action: r.action as string | null, arm: r.arm, headline: r.headline, link: expLink(e.id) }
        } catch {
          return { experimentId: e.id, name: e.name, action: null, arm: null, headline: 'The report could not be computed.', link: expLink(e.id) }
        }
      }),
  )
  // The overview's numbers (GET /v1/kpis budgets): spend plus what open offers hold reserved, as the decider counts.
  const budgets = (await budgetStatus(db, experiments))
    .filter((b) => b.amount > 0)
    .map((b) => ({
      experimentId: b.experimentId,
      name: b.name,
      amount: b.amount,
      currency: b.currency,
      spent: b.spent,
      reserved: b.reserved,
      share: (b.spent + b.reserved) / b.amount,
    }))
  const lift = (c: Comparison) => ({ estimate: c.estimate, ci: c.ci, significant: c.significant })
  return {
    title: `Retention program: ${kpis.periodLabel}`,
    periodLabel: kpis.periodLabel,
    from: kpis.from,
    to: kpis.to,
    generatedAt: new Date(at).toISOString(),
    link: `${publicUrl}/digest?from=${encodeURIComponent(kpis.from)}&to=${encodeURIComponent(kpis.to)}`,
    kpis: {
      headline: kpis.headline,
      treated: kpis.treated,
      globalHoldout: kpis.globalHoldout,
      reactivationLift: lift(kpis.lift.reactivation),
      revenueLift: lift(kpis.lift.revenuePerCustomer),
      incrementalRevenue: kpis.incrementalRevenue,
      incrementalNetValue: kpis.incrementalNetValue,
      incentiveSpend: kpis.incentiveSpend,
      roi: kpis.roi,
      roiCi: kpis.roiCi,
      windowDays: kpis.windowDays,
    },
    decisions,
    running,
    budgets,
  }
}

/** The period a scheduled digest covers: the `periodDays` days before its slot. */
export const digestPeriod = (slot: number, periodDays: number) => ({ from: slot - periodDays * DAY, to: slot })

/**
 * The latest scheduled instant at or before `now`: the last `dayOfWeek` (0 = Sunday) at `hourUtc`.
 * @example latestSlot(Date.parse('2026-12-09T12:00Z'), 1, 8) // Monday 2026-12-07T08:00Z
 */
export function latestSlot(now: number, dayOfWeek: number, hourUtc: number): number {
  const d = new Date(now)
  const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hourUtc)
  const back = (d.getUTCDay() - dayOfWeek + 7) % 7
  const slot = today - back * DAY
  return slot > now ? slot - 7 * DAY : slot
}
