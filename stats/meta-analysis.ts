/**
 * Pooling one effect across independent experiments (docs/learning-library.md → Pooling): the learning library's
 * evidence that an offer works for a segment, from every experiment that tested it there.
 *
 * Inputs are per-experiment estimates of the same effect (an offer arm minus its experiment's control, in one
 * segment) with their standard errors; different experiments randomise different customers, so the estimates are
 * independent. The fixed-effect (inverse-variance) pool assumes one true effect; the DerSimonian–Laird
 * random-effects pool lets the true effect vary between experiments (other seasons, other populations, other
 * creatives) with variance τ², which adds τ² to every experiment's variance. The random-effects result is the
 * headline: when experiments disagree beyond chance it widens the interval instead of letting one big experiment
 * speak for all of them, and with no excess disagreement (Q ≤ k − 1, τ² = 0) it equals the fixed-effect result.
 *
 * References: Cochran (1954), Biometrics 10 (Q); DerSimonian & Laird (1986), "Meta-analysis in clinical trials",
 * Control. Clin. Trials 7 (τ², random-effects weights); Higgins & Thompson (2002), Stat. Med. 21 (I²); Borenstein,
 * Hedges, Higgins & Rothstein (2009), "Introduction to Meta-Analysis", Wiley, chapters 11–12 and 16.
 */
import { chiSquareSf, normalUpperQuantile, twoSidedPValue } from './distributions.ts'

/** One experiment's estimate of the effect and its standard error. */
export interface StudyEstimate {
  study: string
  estimate: number
  standardError: number
}

/** A pooled effect: estimate ± z_{1−α/2}·SE, z = estimate/SE and its two-sided normal p-value. */
export interface PooledEstimate {
  estimate: number
  standardError: number
  ci: [number, number]
  z: number
  pValue: number
}

export interface MetaAnalysis {
  k: number
  /** Two-sided error rate of the intervals (0.05 for 95% intervals). */
  alpha: number
  /** Inverse-variance pool, weights wᵢ = 1/SEᵢ². */
  fixed: PooledEstimate
  /** DerSimonian–Laird pool, weights wᵢ* = 1/(SEᵢ² + τ²): the headline. */
  random: PooledEstimate
  /** Cochran's Q = Σwᵢ(yᵢ − ȳ_FE)²; 0 when k = 1. */
  q: number
  df: number
  /** P(χ²_{k−1} > Q); null when k = 1 (nothing to compare). */
  qPValue: number | null
  /** Higgins–Thompson I² = max(0, (Q − df)/Q) (0 when Q = 0). */
  iSquared: number
  /** DerSimonian–Laird τ² = max(0, (Q − df)/(Σw − Σw²/Σw)) (0 when k = 1). */
  tauSquared: number
  /** Each study's share of the random-effects weight, in input order (sums to 1). */
  weights: number[]
}

function pool(estimates: number[], variances: number[], alpha: number): PooledEstimate {
  let sumW = 0
  let sumWY = 0
  estimates.forEach((y, i) => {
    const w = 1 / variances[i]
    sumW += w
    sumWY += w * y
  })
  const estimate = sumWY / sumW
  const standardError = Math.sqrt(1 / sumW)
  return pooledEstimate(estimate, standardError, alpha)
}

/**
 * An estimate with its normal interval at two-sided error rate α and its two-sided p-value.
 * @example pooledEstimate(0.02, 0.01, 0.05).ci // [0.0004, 0.0396] (rounded)
 */
export function pooledEstimate(estimate: number, standardError: number, alpha: number): PooledEstimate {
  const half = normalUpperQuantile(alpha / 2) * standardError
  const z = estimate / standardError
  return { estimate, standardError, ci: [estimate - half, estimate + half], z, pValue: twoSidedPValue(z, null) }
}

/**
 * Fixed-effect and DerSimonian–Laird random-effects pools of k ≥ 1 independent estimates, with Cochran's Q, its
 * χ² p-value, I² and τ²:
 *   wᵢ = 1/SEᵢ², ȳ_FE = Σwᵢyᵢ/Σwᵢ, SE_FE = 1/√Σwᵢ; Q = Σwᵢ(yᵢ − ȳ_FE)², df = k − 1;
 *   τ² = max(0, (Q − df)/(Σwᵢ − Σwᵢ²/Σwᵢ)); wᵢ* = 1/(SEᵢ² + τ²), ȳ_RE = Σwᵢ*yᵢ/Σwᵢ*, SE_RE = 1/√Σwᵢ*;
 *   intervals ȳ ± z_{1−α/2}·SE, p = 2·P(Z > |ȳ/SE|).
 * RangeError for no estimates, a non-finite estimate, a standard error that is not positive and finite, or α
 * outside (0, 1).
 * @example metaAnalysis([{ study: 'a', estimate: 0.03, standardError: 0.01 }, { study: 'b', estimate: 0.01, standardError: 0.01 }]).q // 2
 */
export function metaAnalysis(studies: StudyEstimate[], alpha = 0.05): MetaAnalysis {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie strictly between 0 and 1, got ${alpha}`)
  if (studies.length === 0) throw new RangeError('a meta-analysis needs at least one estimate')
  for (const s of studies) {
    if (!Number.isFinite(s.estimate)) throw new RangeError(`study ${s.study}: estimate must be finite, got ${s.estimate}`)
    if (!(Number.isFinite(s.standardError) && s.standardError > 0)) {
      throw new RangeError(`study ${s.study}: standard error must be positive and finite, got ${s.standardError}`)
    }
  }
  const y = studies.map((s) => s.estimate)
  const v = studies.map((s) => s.standardError * s.standardError)
  const fixed = pool(y, v, alpha)
  let q = 0
  let sumW = 0
  let sumW2 = 0
  y.forEach((yi, i) => {
    const w = 1 / v[i]
    q += w * (yi - fixed.estimate) ** 2
    sumW += w
    sumW2 += w * w
  })
  const k = studies.length
  const df = k - 1
  // One study has nothing to disagree with: Q is 0 by definition (w·y/w need not round back to y exactly).
  if (k === 1) q = 0
  const tauSquared = q > df ? (q - df) / (sumW - sumW2 / sumW) : 0
  const randomVariances = v.map((vi) => vi + tauSquared)
  const random = tauSquared > 0 ? pool(y, randomVariances, alpha) : fixed
  const randomW = randomVariances.map((vi) => 1 / vi)
  const totalW = randomW.reduce((s, w) => s + w, 0)
  return {
    k,
    alpha,
    fixed,
    random,
    q,
    df,
    qPValue: k > 1 ? chiSquareSf(q, df) : null,
    iSquared: q > df && q > 0 ? (q - df) / q : 0,
    tauSquared,
    weights: randomW.map((w) => w / totalW),
  }
}
