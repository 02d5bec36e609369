/**
 * Planning: customers per arm for a minimum detectable effect, and the inverse.
 *
 * Conventions: equal allocation; every variant is tested against the baseline with the same two-sided test
 * the report runs (Welch, normal approximation) at level α, with no multiplicity correction for the number of
 * arms (Bonferroni-free); `arms` counts every arm, baseline included, so total = perArm × arms. Both kinds are
 * decided by the test of the absolute difference (docs/statistics.md), so a relative MDE δ is planned as the
 * absolute difference μA·δ with variance (σ²A + σ²B)/n. Mean metrics assume the same standard deviation in both
 * arms. Reference: Chow, Shao, Wang (2008), Sample Size
 * Calculations in Clinical Research, §3.2 (two-sample, unequal variances) and §4.2 (proportions).
 */
import { normalCdf, normalUpperQuantile } from './distributions.ts'
import type { NotEstimable } from './types.ts'

export type PlanningBaseline = { kind: 'proportion'; baselineRate: number } | { kind: 'mean'; mean: number; sd: number }

export interface PlanningOptions {
  /** Effect to detect: a fraction of the baseline (0.05 = +5%) when relative, in metric units when absolute. */
  mde: number
  mdeKind: 'relative' | 'absolute'
  /** Two-sided level, default 0.05. */
  alpha?: number
  /** Probability of detecting the MDE, default 0.8. */
  power?: number
  /** Number of arms including the baseline, default 2. */
  arms?: number
}

export interface SampleSizeResult {
  perArm: number | null
  total: number | null
  arms: number
  alpha: number
  power: number
  mde: number | null
  mdeKind: 'relative' | 'absolute'
  notEstimable?: NotEstimable
}

interface Resolved {
  alpha: number
  power: number
  arms: number
  mdeKind: 'relative' | 'absolute'
}

/**
 * n·Var(estimate) for an effect δ in the MDE's units: σ²A + σ²B for an absolute δ, (σ²A + σ²B)/μA² for a
 * relative one (the absolute test's variance expressed in units of μA; μB = μA(1 + δ)).
 */
function unitVariance(baseline: PlanningBaseline, delta: number, kind: 'relative' | 'absolute'): number | null {
  const muA = baseline.kind === 'proportion' ? baseline.baselineRate : baseline.mean
  const muB = kind === 'relative' ? muA * (1 + delta) : muA + delta
  if (baseline.kind === 'proportion' && !(muB > 0 && muB < 1)) return null
  const varA = baseline.kind === 'proportion' ? muA * (1 - muA) : baseline.sd ** 2
  const varB = baseline.kind === 'proportion' ? muB * (1 - muB) : baseline.sd ** 2
  return kind === 'absolute' ? varA + varB : (varA + varB) / muA ** 2
}

function baselineProblem(baseline: PlanningBaseline, kind: 'relative' | 'absolute'): string | null {
  if (baseline.kind === 'proportion') {
    return baseline.baselineRate > 0 && baseline.baselineRate < 1 ? null : `baselineRate must lie strictly between 0 and 1, got ${baseline.baselineRate}`
  }
  if (!(Number.isFinite(baseline.mean) && baseline.sd > 0 && Number.isFinite(baseline.sd))) return 'a mean baseline needs a finite mean and a positive sd'
  if (kind === 'relative' && baseline.mean === 0) return 'a relative MDE needs a non-zero baseline mean'
  return null
}

function resolve(plan: Omit<PlanningOptions, 'mde'>): Resolved | string {
  const alpha = plan.alpha ?? 0.05
  const power = plan.power ?? 0.8
  const arms = plan.arms ?? 2
  if (!(alpha > 0 && alpha < 1)) return `alpha must lie strictly between 0 and 1, got ${alpha}`
  if (!(power > 0 && power < 1)) return `power must lie strictly between 0 and 1, got ${power}`
  if (!(Number.isInteger(arms) && arms >= 2)) return `arms counts the baseline too and must be an integer ≥ 2, got ${arms}`
  return { alpha, power, arms, mdeKind: plan.mdeKind }
}

/** (z_{1−α/2} + z_{power})², the normal-theory multiplier. */
function zFactor(alpha: number, power: number): number {
  return (normalUpperQuantile(alpha / 2) + normalUpperQuantile(1 - power)) ** 2
}

function failure(r: Resolved | { alpha: number; power: number; arms: number; mdeKind: 'relative' | 'absolute' }, message: string): SampleSizeResult {
  return {
    perArm: null,
    total: null,
    arms: r.arms,
    alpha: r.alpha,
    power: r.power,
    mde: null,
    mdeKind: r.mdeKind,
    notEstimable: { code: 'invalid_input', message },
  }
}

/**
 * Customers per arm to detect `mde` with the given power: n = ⌈(z_{1−α/2} + z_{1−β})² · V(δ) / δ²⌉ where
 * V(δ) = σ²A + σ²B for an absolute δ and (σ²A + σ²B)/μA² for a relative one (μB = μA(1 + δ)),
 * σ² = p(1 − p) for proportions. Total = perArm × arms. The far tail of the two-sided test (rejecting in the
 * wrong direction) is left out here, as in Chow et al. §3.2, so the exact power at this n (powerAt) is at least
 * the requested power.
 * @example sampleSizePerArm({ kind: 'proportion', baselineRate: 0.1 }, { mde: 0.1, mdeKind: 'relative', alpha: 0.05, power: 0.8, arms: 2 }).perArm // 14,749
 */
export function sampleSizePerArm(baseline: PlanningBaseline, plan: PlanningOptions): SampleSizeResult {
  const r = resolve(plan)
  const fallback = { alpha: plan.alpha ?? 0.05, power: plan.power ?? 0.8, arms: plan.arms ?? 2, mdeKind: plan.mdeKind }
  if (typeof r === 'string') return failure(fallback, r)
  const problem = baselineProblem(baseline, r.mdeKind)
  if (problem) return failure(r, problem)
  if (!(Number.isFinite(plan.mde) && plan.mde !== 0)) return failure(r, `mde must be a non-zero number, got ${plan.mde}`)
  const v = unitVariance(baseline, plan.mde, r.mdeKind)
  if (v === null) return failure(r, 'the variant rate implied by the MDE falls outside (0, 1)')
  const perArm = Math.max(2, Math.ceil((zFactor(r.alpha, r.power) * v) / plan.mde ** 2))
  return { perArm, total: perArm * r.arms, arms: r.arms, alpha: r.alpha, power: r.power, mde: plan.mde, mdeKind: r.mdeKind }
}

/**
 * Power of the two-sided test to detect δ with n customers per arm, both tails included:
 * Φ(|δ|/s − z_{1−α/2}) + Φ(−|δ|/s − z_{1−α/2}) with s = √(V(δ)/n) (Chow et al. §3.2, normal approximation),
 * so the power at δ → 0 is α. Null for an invalid baseline or n < 2.
 * @example powerAt({ kind: 'mean', mean: 50, sd: 20 }, 2000, 0.5, 'absolute') // ≈ 0.1241 (0.05 at δ = 0)
 */
export function powerAt(baseline: PlanningBaseline, perArm: number, mde: number, mdeKind: 'relative' | 'absolute', alpha = 0.05): number | null {
  if (baselineProblem(baseline, mdeKind) || !(perArm >= 2)) return null
  const v = unitVariance(baseline, mde, mdeKind)
  if (v === null || !(v > 0)) return null
  const z = normalUpperQuantile(alpha / 2)
  const shift = Math.abs(mde) / Math.sqrt(v / perArm)
  return normalCdf(shift - z) + normalCdf(-shift - z)
}

/**
 * Smallest upward effect δ > 0 detectable with `perArm` customers per arm at the given α and power: the root
 * of (z_{1−α/2} + z_{1−β})² V(δ)/δ² = n (see sampleSizePerArm), found by bisection (V/δ² decreases in δ).
 * @example minimumDetectableEffect({ kind: 'mean', mean: 50, sd: 20 }, { perArm: 10000, mdeKind: 'absolute' }).mde // ≈ 0.79
 */
export function minimumDetectableEffect(baseline: PlanningBaseline, plan: Omit<PlanningOptions, 'mde'> & { perArm: number }): SampleSizeResult {
  const r = resolve(plan)
  const fallback = { alpha: plan.alpha ?? 0.05, power: plan.power ?? 0.8, arms: plan.arms ?? 2, mdeKind: plan.mdeKind }
  if (typeof r === 'string') return failure(fallback, r)
  const problem = baselineProblem(baseline, r.mdeKind)
  if (problem) return failure(r, problem)
  if (!(Number.isFinite(plan.perArm) && plan.perArm >= 2)) return failure(r, `perArm must be at least 2, got ${plan.perArm}`)
  const k = zFactor(r.alpha, r.power)
  const excess = (delta: number) => {
    const v = unitVariance(baseline, delta, r.mdeKind)
    return v === null ? Number.NaN : (k * v) / delta ** 2 - plan.perArm
  }
  const muA = baseline.kind === 'proportion' ? baseline.baselineRate : baseline.mean
  let hi =
    baseline.kind === 'proportion' ? (r.mdeKind === 'relative' ? (1 - muA) / muA : 1 - muA) * (1 - 1e-12) : Math.abs(r.mdeKind === 'relative' ? 1 : muA) + 1
  if (baseline.kind === 'mean') while (excess(hi) > 0 && hi < 1e300) hi *= 2
  if (!(excess(hi) <= 0)) return failure(r, `${plan.perArm} customers per arm cannot reach this power for any effect the metric allows`)
  let lo = hi * 1e-15
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = Math.sqrt(lo * hi) > 0 && i < 60 ? Math.sqrt(lo * hi) : (lo + hi) / 2
    if (excess(mid) > 0) lo = mid
    else hi = mid
  }
  return { perArm: plan.perArm, total: plan.perArm * r.arms, arms: r.arms, alpha: r.alpha, power: r.power, mde: hi, mdeKind: r.mdeKind }
}
