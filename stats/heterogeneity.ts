/**
 * Heterogeneity of one effect across the segments of a dimension (docs/statistics.md → Segment heterogeneity):
 * do segments respond to a variant differently from the average, with correction across every segment tested?
 *
 * Inputs are per-segment estimates of the variant's effect vs control with their standard errors; the segments
 * are disjoint groups of customers, so the estimates are independent. References: Cochran (1954), "The
 * combination of estimates from different experiments", Biometrics 10; Higgins & Thompson (2002), "Quantifying
 * heterogeneity in a meta-analysis", Stat. Med. 21 (I²); DerSimonian & Laird (1986), Control. Clin. Trials 7
 * (τ²); Benjamini & Hochberg (1995), JRSS B 57; Benjamini & Yekutieli (2005), "False discovery rate–adjusted
 * multiple confidence intervals for selected parameters", JASA 100.
 */
import { chiSquareSf, normalUpperQuantile, twoSidedPValue } from './distributions.ts'
import { familyLevels } from './multiple.ts'

/** One segment's estimate of the effect (variant minus control) and its standard error. */
export interface SegmentEffect {
  segment: string
  estimate: number
  standardError: number
}

/** An inverse-variance weighted mean and its standard error. */
export interface PooledEffect {
  estimate: number
  standardError: number
}

/** A segment's effect against the pooled effect of all the other segments. */
export interface SegmentDeviation extends SegmentEffect {
  /** Inverse-variance pooled effect of the other segments. */
  rest: PooledEffect
  /** estimate − rest.estimate. */
  deviation: number
  /** √(SE² + SE_rest²): the segment and the rest are disjoint customers. */
  deviationStandardError: number
  z: number
  /** Two-sided normal p-value of the deviation (unadjusted). */
  pValue: number
}

export interface HomogeneityTest {
  k: number
  /** Fixed-effect (inverse-variance) pooled effect over all k segments. */
  pooled: PooledEffect
  /** Cochran's Q = Σ wᵢ(yᵢ − ȳ)², wᵢ = 1/SEᵢ². */
  q: number
  df: number
  /** P(χ²_{k−1} > Q): small when the segments' effects are not all equal. */
  pValue: number
  /** Higgins–Thompson I² = max(0, (Q − df)/Q): the share of the spread beyond chance (0 when Q = 0). */
  iSquared: number
  /** DerSimonian–Laird between-segment variance τ² = max(0, (Q − df)/(Σw − Σw²/Σw)). */
  tauSquared: number
  segments: SegmentDeviation[]
}

function pooled(effects: SegmentEffect[]): PooledEffect {
  let sumW = 0
  let sumWY = 0
  for (const e of effects) {
    const w = 1 / (e.standardError * e.standardError)
    sumW += w
    sumWY += w * e.estimate
  }
  return { estimate: sumWY / sumW, standardError: Math.sqrt(1 / sumW) }
}

/**
 * Cochran's Q test that every segment has the same effect, I², τ², and each segment's deviation from the
 * pooled effect of the others (a leave-one-out contrast):
 *   ȳ = Σwᵢyᵢ / Σwᵢ, SE(ȳ) = 1/√Σwᵢ, wᵢ = 1/SEᵢ²; Q = Σwᵢ(yᵢ − ȳ)² ~ χ²_{k−1} under homogeneity;
 *   dᵢ = yᵢ − ȳ₋ᵢ, SE(dᵢ) = √(SEᵢ² + 1/Σ_{j≠i}wⱼ), zᵢ = dᵢ/SE(dᵢ), pᵢ = 2·P(Z > |zᵢ|).
 * Needs k ≥ 2 segments, each with a finite estimate and a positive finite standard error (RangeError otherwise).
 * @example homogeneityTest([{ segment: 'a', estimate: 0.1, standardError: 0.02 }, { segment: 'b', estimate: 0.02, standardError: 0.02 }]).q // 8
 */
export function homogeneityTest(effects: SegmentEffect[]): HomogeneityTest {
  if (effects.length < 2) throw new RangeError(`a homogeneity test needs at least 2 segments, got ${effects.length}`)
  for (const e of effects) {
    if (!Number.isFinite(e.estimate)) throw new RangeError(`segment ${e.segment}: estimate must be finite, got ${e.estimate}`)
    if (!(Number.isFinite(e.standardError) && e.standardError > 0)) {
      throw new RangeError(`segment ${e.segment}: standard error must be positive and finite, got ${e.standardError}`)
    }
  }
  const all = pooled(effects)
  let q = 0
  let sumW = 0
  let sumW2 = 0
  for (const e of effects) {
    const w = 1 / (e.standardError * e.standardError)
    q += w * (e.estimate - all.estimate) ** 2
    sumW += w
    sumW2 += w * w
  }
  const df = effects.length - 1
  const segments = effects.map((e, i) => {
    const rest = pooled(effects.filter((_, j) => j !== i))
    const deviation = e.estimate - rest.estimate
    const deviationStandardError = Math.sqrt(e.standardError ** 2 + rest.standardError ** 2)
    const z = deviation / deviationStandardError
    return { ...e, rest, deviation, deviationStandardError, z, pValue: twoSidedPValue(z, null) }
  })
  return {
    k: effects.length,
    pooled: all,
    q,
    df,
    pValue: chiSquareSf(q, df),
    iSquared: q > df ? (q - df) / q : 0,
    tauSquared: q > df ? (q - df) / (sumW - sumW2 / sumW) : 0,
    segments,
  }
}

/** A segment deviation with its verdict after correction across the whole family of deviations. */
export interface AdjustedDeviation extends SegmentDeviation {
  /** Benjamini–Hochberg adjusted p-value over every deviation in the family. */
  adjustedPValue: number
  /** Two-sided level of `ci` (Benjamini–Yekutieli: R·α/m, α/m when nothing is rejected). */
  level: number
  /** deviation ± z_{1−level/2}·SE: excludes 0 exactly when `differs`. */
  ci: [number, number]
  /** The segment responds differently from the rest after correction (adjustedPValue < α). */
  differs: boolean
  /** Whether the segment's effect lies above or below the rest's (sign of the deviation). */
  direction: 'above' | 'below'
}

/**
 * Adjusts every segment deviation of several homogeneity tests (segments × variants × dimensions of a report)
 * as one family: Benjamini–Hochberg p-values, verdict p̃ < α, and Benjamini–Yekutieli false-coverage intervals
 * at the level familyLevels gives (R·α/m), so a segment is said to differ exactly when its interval excludes 0.
 * Where rounding puts a bound on the wrong side of 0 against the verdict (|z| within an ulp of the critical
 * value), that bound is moved to 0 (not differing) or to the smallest double on the verdict's side.
 * Returns, per test, its segments in input order. RangeError for α outside (0, 1).
 * @example adjustDeviations([homogeneityTest(effects)], 0.05)[0].filter((d) => d.differs)
 */
export function adjustDeviations(tests: HomogeneityTest[], alpha: number): AdjustedDeviation[][] {
  const flat = tests.flatMap((t) => t.segments)
  const { adjustedPValues, levels, significant } = familyLevels(
    flat.map((d) => d.pValue),
    'bh',
    alpha,
  )
  let i = 0
  return tests.map((t) =>
    t.segments.map((d) => {
      const at = i++
      const level = levels[at] as number
      const half = normalUpperQuantile(level / 2) * d.deviationStandardError
      const differs = significant[at]
      return {
        ...d,
        adjustedPValue: adjustedPValues[at] as number,
        level,
        ci: consistentInterval([d.deviation - half, d.deviation + half], d.deviation, differs),
        differs,
        direction: d.deviation >= 0 ? 'above' : 'below',
      }
    }),
  )
}

function consistentInterval(ci: [number, number], estimate: number, differs: boolean): [number, number] {
  const excludesZero = ci[0] > 0 || ci[1] < 0
  if (excludesZero === differs) return ci
  if (differs) return estimate >= 0 ? [Number.MIN_VALUE, ci[1]] : [ci[0], -Number.MIN_VALUE]
  return estimate >= 0 ? [0, ci[1]] : [ci[0], 0]
}
