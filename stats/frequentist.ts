/**
 * Fixed-horizon (frequentist) inference: two-sided Welch t interval and p-value.
 * Reference: Welch (1947), "The generalization of 'Student's' problem when several different population
 * variances are involved", Biometrika 34; Satterthwaite (1946), Biometrics Bulletin 2.
 */
import { NORMAL_APPROXIMATION_DF, twoSidedCriticalValue, twoSidedPValue } from './distributions.ts'
import type { ArmSummary } from './moments.ts'

/**
 * Welch–Satterthwaite degrees of freedom
 * ν = (σ²A/nA + σ²B/nB)² / ((σ²A/nA)²/(nA − 1) + (σ²B/nB)²/(nB − 1)).
 * With one zero variance it reduces to the other arm's n − 1. Requires nA, nB ≥ 2 and a positive total.
 * @example welchSatterthwaiteDf({ n: 10, mean: 0, variance: 1 }, { n: 10, mean: 0, variance: 1 }) // 18
 */
export function welchSatterthwaiteDf(a: ArmSummary, b: ArmSummary): number {
  const va = a.variance / a.n
  const vb = b.variance / b.n
  // Same formula divided through by (σ²A/nA + σ²B/nB)², which cannot overflow.
  const shareA = va / (va + vb)
  const shareB = vb / (va + vb)
  return 1 / ((shareA * shareA) / (a.n - 1) + (shareB * shareB) / (b.n - 1))
}

export interface IntervalTest {
  ci: [number, number]
  pValue: number
  /** 'welch-t' below NORMAL_APPROXIMATION_DF degrees of freedom, 'normal' above. */
  method: 'welch-t' | 'normal'
}

/**
 * Two-sided interval estimate ± t_{1−α/2,ν}·SE and p-value 2·P(T_ν > |estimate/SE|); the normal replaces
 * the t when ν > NORMAL_APPROXIMATION_DF. The interval excludes 0 exactly when p < α.
 * @example fixedHorizonTest(0.29, 0.12478, 6000, 0.05).pValue // ≈ 0.0201
 */
export function fixedHorizonTest(estimate: number, standardError: number, df: number, alpha: number): IntervalTest {
  const useNormal = !(df <= NORMAL_APPROXIMATION_DF)
  const dist = useNormal ? null : df
  const halfWidth = twoSidedCriticalValue(alpha, dist) * standardError
  return {
    ci: [estimate - halfWidth, estimate + halfWidth],
    pValue: twoSidedPValue(estimate / standardError, dist),
    method: useNormal ? 'normal' : 'welch-t',
  }
}
