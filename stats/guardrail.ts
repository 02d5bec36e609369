/**
 * Guardrails: one-sided tests for harm against a margin, in the metric's own units (docs/statistics.md →
 * Guardrails). `harm` is the difference measured in the harmful direction (a rise for unsubscribes, a fall
 * for net value). Two one-sided tests at `level`:
 * - harmed: H0 harm ≤ margin rejected (p_harm < level) ⇔ the interval lies entirely beyond the margin;
 * - within margin: H0 harm ≥ margin rejected (p_safe < level) ⇔ the interval lies entirely short of it;
 * - otherwise unclear. The interval is two-sided at 1 − 2·level (each bound one-sided at level).
 */
import { NORMAL_APPROXIMATION_DF, normalSf, normalUpperQuantile, studentTSf, studentTUpperQuantile } from './distributions.ts'

export interface GuardrailTestResult {
  harmPValue: number
  safePValue: number
  ci: [number, number]
  status: 'harmed' | 'within_margin' | 'unclear'
}

/**
 * @example guardrailTest({ estimate: 0.01, standardError: 0.002, df: null }, 0.003, 0.05, 'increase').status // 'harmed'
 */
export function guardrailTest(input: { estimate: number; standardError: number; df: number | null }, margin: number, level: number, harmDirection: 'increase' | 'decrease'): GuardrailTestResult {
  const { estimate, standardError } = input
  const df = input.df === null || !(input.df <= NORMAL_APPROXIMATION_DF) ? null : input.df
  const sf = (t: number) => (df === null ? normalSf(t) : studentTSf(t, df))
  const sign = harmDirection === 'increase' ? 1 : -1
  const harm = sign * estimate
  const t = (harm - margin) / standardError
  const harmPValue = sf(t)
  const safePValue = sf(-t)
  const crit = df === null ? normalUpperQuantile(level) : studentTUpperQuantile(level, df)
  const ci: [number, number] = [estimate - crit * standardError, estimate + crit * standardError]
  const status = harmPValue < level ? 'harmed' : safePValue < level ? 'within_margin' : 'unclear'
  return { harmPValue, safePValue, ci, status }
}
