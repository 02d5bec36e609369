/**
 * The planted truth: for every experiment, the population-level value of each window metric in each arm and
 * the relative lifts a report estimates, overall and per segment.
 *
 * Definition. For the customers who entered the experiment (its arms and its holdout, not the global
 * holdout), the true value of a metric in arm a is the average over all of them of the customer's expected
 * value had they been in arm a (`expectedOutcomes`, closed form). The true lift of a against b is
 * value(a) / value(b) − 1 — the quantity a report's relative lift estimates, since randomisation makes each
 * arm a random sample of those same customers. Average order value is a ratio of sums: gross / orders.
 */
import type { ArmEffect, OfferSpec } from './simulate.ts'
import { expectedOutcomes, type ExpectedOutcomes } from './simulate.ts'
import type { Customer, CustomerAttributes } from './world.ts'

export const TRUTH_METRICS = [
  'redemption',
  'reactivation',
  'repeat_purchase',
  'orders',
  'revenue',
  'aov',
  'incentive_cost',
  'net_value',
  'unsubscribe',
] as const
export type TruthMetric = (typeof TRUTH_METRICS)[number]
/** Dimensions the truth is broken down by (attributes captured at assignment). */
export const TRUTH_DIMENSIONS = ['valueTier', 'channel', 'churnBand'] as const satisfies readonly (keyof CustomerAttributes)[]

export interface TruthCell {
  /** Customers in this population (all arms), and how many were assigned to each arm. */
  n: number
  assigned: Record<string, number>
  /** True value of each metric in each arm. */
  values: Record<TruthMetric, Record<string, number>>
  /** True relative lift of each arm vs the control and vs the experiment holdout (null: baseline value 0). */
  lift: Record<TruthMetric, Record<string, { vsControl: number | null; vsHoldout: number | null }>>
}

export interface ExperimentTruth extends TruthCell {
  id: string
  name: string
  status: 'running' | 'stopped'
  control: string
  arms: string[]
  /** Eligible customers in the global holdout (logged as `global_holdout`, excluded from the report). */
  globalHoldout: number
  planted: Record<string, unknown>
  segments: Record<string, Record<string, TruthCell>>
}

export interface Truth {
  version: 1
  seed: number
  customers: number
  globalHoldout: { pct: number; seed: string }
  /** How many customers fall in each segment of each attribute. */
  segmentCounts: Record<string, Record<string, number>>
  experiments: ExperimentTruth[]
  notes: string[]
}

type Sums = Record<keyof ExpectedOutcomes, number>
const zero = (): Sums => ({
  redemption: 0,
  reactivation: 0,
  repeat_purchase: 0,
  orders: 0,
  gross: 0,
  revenue: 0,
  incentive_cost: 0,
  net_value: 0,
  unsubscribe: 0,
})

class CellBuilder {
  n = 0
  assigned: Record<string, number> = {}
  sums = new Map<string, Sums>()

  add(assignedArm: string, perArm: Map<string, ExpectedOutcomes>) {
    this.n++
    this.assigned[assignedArm] = (this.assigned[assignedArm] ?? 0) + 1
    for (const [arm, e] of perArm) {
      let s = this.sums.get(arm)
      if (!s) this.sums.set(arm, (s = zero()))
      for (const k in e) s[k as keyof Sums] += e[k as keyof Sums]
    }
  }

  build(arms: string[], control: string): TruthCell {
    const values = {} as TruthCell['values']
    const lift = {} as TruthCell['lift']
    for (const m of TRUTH_METRICS) {
      values[m] = {}
      for (const arm of arms) {
        const s = this.sums.get(arm) ?? zero()
        values[m][arm] = m === 'aov' ? (s.orders > 0 ? s.gross / s.orders : 0) : this.n > 0 ? s[m] / this.n : 0
      }
      const rel = (a: string, b: string) => (values[m][b] ? values[m][a] / values[m][b] - 1 : null)
      lift[m] = {}
      for (const arm of arms)
        lift[m][arm] = {
          vsControl: arm === control ? 0 : rel(arm, control),
          vsHoldout: arms.includes('holdout') && arm !== 'holdout' ? rel(arm, 'holdout') : null,
        }
    }
    return { n: this.n, assigned: this.assigned, values, lift }
  }
}

/** The arms of one experiment, with what each would do: its planted effect and offer. */
export interface TruthArms {
  id: string
  name: string
  status: 'running' | 'stopped'
  control: string
  planted: Record<string, unknown>
  arms: Array<{ key: string; offer: OfferSpec | null; effectFor: (c: Customer) => ArmEffect }>
}

/** Accumulates the truth customer by customer while the world is generated. */
export class TruthBuilder {
  private segmentCounts: Record<string, Record<string, number>> = {}
  private experiments = new Map<string, { arms: TruthArms; all: CellBuilder; globalHoldout: number; segments: Map<string, Map<string, CellBuilder>> }>()
  private customers = 0

  constructor(
    private readonly seed: number,
    private readonly globalHoldout: { pct: number; seed: string },
  ) {}

  /** Counts a generated customer in its segments. */
  customer(c: Customer) {
    this.customers++
    for (const [dim, value] of Object.entries(c.attributes)) {
      if (typeof value !== 'string') continue
      const counts = (this.segmentCounts[dim] ??= {})
      counts[value] = (counts[value] ?? 0) + 1
    }
  }

  /** Records a customer's assignment: `arm` is what the exposure logged (an arm, 'holdout' or 'global_holdout'). */
  assigned(exp: TruthArms, c: Customer, arm: string) {
    let entry = this.experiments.get(exp.id)
    if (!entry) this.experiments.set(exp.id, (entry = { arms: exp, all: new CellBuilder(), globalHoldout: 0, segments: new Map() }))
    if (arm === 'global_holdout') {
      entry.globalHoldout++
      return
    }
    const perArm = new Map(exp.arms.map((a) => [a.key, expectedOutcomes(c, a.effectFor(c), a.offer)]))
    entry.all.add(arm, perArm)
    for (const dim of TRUTH_DIMENSIONS) {
      const value = String(c.attributes[dim])
      let byValue = entry.segments.get(dim)
      if (!byValue) entry.segments.set(dim, (byValue = new Map()))
      let cell = byValue.get(value)
      if (!cell) byValue.set(value, (cell = new CellBuilder()))
      cell.add(arm, perArm)
    }
  }

  /** Registers an experiment so it appears in the truth even if no customer entered it. */
  experiment(exp: TruthArms) {
    if (!this.experiments.has(exp.id)) this.experiments.set(exp.id, { arms: exp, all: new CellBuilder(), globalHoldout: 0, segments: new Map() })
  }

  build(): Truth {
    return {
      version: 1,
      seed: this.seed,
      customers: this.customers,
      globalHoldout: this.globalHoldout,
      segmentCounts: this.segmentCounts,
      experiments: [...this.experiments.values()].map(({ arms, all, globalHoldout, segments }) => {
        const keys = arms.arms.map((a) => a.key)
        return {
          id: arms.id,
          name: arms.name,
          status: arms.status,
          control: arms.control,
          arms: keys,
          globalHoldout,
          planted: arms.planted,
          ...all.build(keys, arms.control),
          segments: Object.fromEntries(
            [...segments].map(([dim, byValue]) => [
              dim,
              Object.fromEntries([...byValue].sort(([a], [b]) => a.localeCompare(b)).map(([v, cell]) => [v, cell.build(keys, arms.control)])),
            ]),
          ),
        }
      }),
      notes: [
        'values: the population mean of each 30-day window metric per arm, over the customers who entered the experiment (arms and holdout), each evaluated in every arm by the closed-form model (seed/simulate.ts expectedOutcomes)',
        "lift: values[arm] / values[baseline] − 1, the estimand of a report's relative lift; null where the baseline is 0",
        'aov: gross purchase revenue / orders (ratio of sums); revenue is net of refunds; net_value = 0.3 × revenue − incentive cost',
        'windows are complete in the truth; a report as of now also counts customers whose window is still open',
      ],
    }
  }
}
