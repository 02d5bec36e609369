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
 * One-sided harm tests of an effect (estimate, its standard error and Welch df, null for the normal) against a
 * margin in the effect's units, harm = estimate for 'increase' and −estimate for 'decrease':
 * harmPValue = P(T > (harm − margin)/SE) tests H0: harm ≤ margin; safePValue = P(T < (harm − margin)/SE)
 * tests H0: harm ≥ margin (non-inferiority; Schuirmann's 1987 two one-sided tests); T is Student t with df,
 * the normal when df is null or above NORMAL_APPROXIMATION_DF. ci = estimate ± t_{1−level}·SE (two-sided at
 * 1 − 2·level). Status: 'harmed' ⇔ harmPValue < level ⇔ the whole interval lies beyond the margin on the harmful
 * side; 'within_margin' ⇔ safePValue < level ⇔ it lies entirely on the safe side; else 'unclear'. Throws a
 * RangeError for a level outside (0, 0.5), a non-positive or non-finite SE, or a non-finite estimate or margin.
 * @example guardrailTest({ estimate: 0.01, standardError: 0.002, df: null }, 0.003, 0.05, 'increase').status // 'harmed'
 */
export function guardrailTest(
  input: { estimate: number; standardError: number; df: number | null },
  margin: number,
  level: number,
  harmDirection: 'increase' | 'decrease',
): GuardrailTestResult {
  const { estimate, standardError } = input
  if (!(level > 0 && level < 0.5)) throw new RangeError(`the one-sided level must lie strictly between 0 and 0.5, got ${level}`)
  if (!(standardError > 0 && Number.isFinite(standardError))) throw new RangeError(`the standard error must be a positive number, got ${standardError}`)
  if (!(Number.isFinite(estimate) && Number.isFinite(margin))) throw new RangeError('the estimate and the margin must be finite numbers')
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
