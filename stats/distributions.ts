/**
 * Normal, Student t and chi-square tails and quantiles.
 *
 * jStat provides log-gamma and the starting points of the quantile searches. Its tail functions lose
 * relative precision far out (jStat's erfc returns 0 beyond z ≈ 6, its incomplete beta stops at 3e-7 and
 * subtracts log-gammas of ~1e10 for large df), and a p-value of 1e-12 must still be right to 1e-6
 * relative, so the tails are computed here as continued fractions (Lentz's method) with prefactors taken
 * in log space. Reference: Press, Teukolsky, Vetterling, Flannery, Numerical Recipes 3rd ed. (2007),
 * §6.2 (incomplete gamma) and §6.4 (incomplete beta); Abramowitz & Stegun 26.2, 26.4, 26.7.
 */
import jStat from 'jstat'

/**
 * Above this many degrees of freedom the normal replaces the t: their quantiles differ by (z² + 1)/(4ν)
 * relative (< 1e-8 for α ≥ 1e-10), while the incomplete-beta continued fraction, whose rounding grows
 * like ν·1e-16 as x = ν/(ν + t²) nears 1, would start to lose the digits the normal keeps.
 */
export const NORMAL_APPROXIMATION_DF = 1e9

const EPS = 1e-15
const TINY = 1e-300
const MAX_ITERATIONS = 100_000
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI)

/** ln Γ(a + b) − ln Γ(a), without the cancellation of two huge log-gammas when a ≫ b (Stirling series). */
function logGammaRatio(a: number, b: number): number {
  if (a < 1e3) return jStat.gammaln(a + b) - jStat.gammaln(a)
  const c = a + b
  const stirlingTail = (z: number) => 1 / (12 * z) - 1 / (360 * z ** 3) + 1 / (1260 * z ** 5)
  return (a - 0.5) * Math.log1p(b / a) + b * Math.log(c) - b + stirlingTail(c) - stirlingTail(a)
}

/** Lower regularized gamma P(a, x) by its series; converges quickly for x < a + 1. */
function gammaSeries(a: number, x: number): number {
  let term = 1 / a
  let sum = term
  for (let k = 1; k < MAX_ITERATIONS; k++) {
    term *= x / (a + k)
    sum += term
    if (Math.abs(term) < Math.abs(sum) * EPS) break
  }
  return sum * Math.exp(-x + a * Math.log(x) - jStat.gammaln(a))
}

/** Upper regularized gamma Q(a, x) by its continued fraction; converges quickly for x ≥ a + 1. */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < TINY) d = TINY
    c = b + an / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return Math.exp(-x + a * Math.log(x) - jStat.gammaln(a)) * h
}

/**
 * Upper regularized incomplete gamma Q(a, x) = Γ(a, x) / Γ(a), accurate in relative terms in the far tail.
 * Reference: Numerical Recipes §6.2.
 */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1
  if (!Number.isFinite(x)) return 0
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x)
}

/** Continued fraction of the incomplete beta (Numerical Recipes `betacf`) to full double precision; y = 1 − x. */
function betaContinuedFraction(x: number, y: number, a: number, b: number): number {
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  // 1 − (a+b)x/(a+1) rewritten with y = 1 − x: no cancellation when x → 1 and a is large.
  let d = (1 - b + qab * y) / qap
  if (Math.abs(d) < TINY) d = TINY
  d = 1 / d
  let h = d
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return h
}

/**
 * Student t upper tail P(T > t) for t ≥ 0 with ν degrees of freedom:
 * P(T > t) = ½ I_x(ν/2, ½), x = ν / (ν + t²) (Abramowitz & Stegun 26.7.1 with 26.5.27).
 * ln x is taken as −log1p(t²/ν) so that ν/2 · ln x keeps its precision when ν is in the billions.
 */
function studentTUpperTailPositive(t: number, df: number): number {
  const a = df / 2
  const b = 0.5
  const t2 = t * t
  const x = df / (df + t2)
  const y = t2 / (df + t2)
  const logPrefix = logGammaRatio(a, b) - jStat.gammaln(b) - a * Math.log1p(t2 / df) + b * Math.log(y)
  const prefix = Math.exp(logPrefix)
  if (x < (a + 1) / (a + b + 2)) return (0.5 * prefix * betaContinuedFraction(x, y, a, b)) / a
  return 0.5 * (1 - (prefix * betaContinuedFraction(y, x, b, a)) / b)
}

/** Standard normal density φ(z) = exp(−z²/2) / √(2π) (A&S 26.2.1). */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z - LN_SQRT_2PI)
}

/**
 * Standard normal upper tail P(Z > z) = ½ erfc(z/√2) = ½ Q(½, z²/2) for z ≥ 0 (A&S 7.1.2, 6.5.17),
 * relative precision kept out to z ≈ 38 where the double range ends.
 */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN
  if (z < 0) return 1 - normalSf(-z)
  return 0.5 * upperRegularizedGamma(0.5, 0.5 * z * z)
}

/** Standard normal distribution function Φ(z) = P(Z ≤ z) = P(Z > −z) (A&S 26.2.2, via normalSf). */
export function normalCdf(z: number): number {
  return normalSf(-z)
}

/**
 * The z with P(Z > z) = p, for 0 < p < 1: jStat's inverse as the start, then Newton steps on
 * ln P(Z > z) − ln p, whose derivative is −φ(z)/P(Z > z). Accurate to ~1e-14 relative even for p = 1e-300.
 */
export function normalUpperQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalUpperQuantile needs 0 < p < 1, got ${p}`)
  if (p > 0.5) return -normalUpperQuantile(1 - p)
  let z = -jStat.normal.inv(p, 0, 1)
  if (!Number.isFinite(z)) z = Math.sqrt(-2 * Math.log(p))
  let previous = Infinity
  for (let i = 0; i < 50; i++) {
    const tail = normalSf(z)
    const step = (Math.log(tail) - Math.log(p)) / (normalPdf(z) / tail)
    if (Math.abs(step) >= Math.abs(previous) && Math.abs(step) < 1e-12 * Math.max(1, Math.abs(z))) break
    z += step
    if (Math.abs(step) <= 1e-15 * Math.max(1, Math.abs(z))) break
    previous = step
  }
  return z
}

/** Standard normal quantile Φ⁻¹(p) = −z with P(Z > z) = p (A&S 26.2.23 for the idea; computed by normalUpperQuantile). */
export function normalQuantile(p: number): number {
  return -normalUpperQuantile(p)
}

/** Student t density f(t) = Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) · (1 + t²/ν)^(−(ν+1)/2) (A&S 26.7.1). */
export function studentTPdf(t: number, df: number): number {
  if (df > NORMAL_APPROXIMATION_DF) return normalPdf(t)
  const logC = logGammaRatio(df / 2, 0.5) - 0.5 * Math.log(df * Math.PI)
  return Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df))
}

/**
 * Student t upper tail P(T > t) with df degrees of freedom (ν/2 and ½ incomplete beta, see above);
 * the normal when df > NORMAL_APPROXIMATION_DF or df is infinite.
 */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN
  if (df > NORMAL_APPROXIMATION_DF) return normalSf(t)
  if (t === Infinity) return 0
  if (t === -Infinity) return 1
  return t >= 0 ? studentTUpperTailPositive(t, df) : 1 - studentTUpperTailPositive(-t, df)
}

/** t quantile from the normal one by the series in 1/ν of Abramowitz & Stegun 26.7.5 (a Newton start). */
function cornishFisherStart(z: number, df: number): number {
  const z2 = z * z
  const g1 = (z * (z2 + 1)) / 4
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160
  return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df
}

/**
 * The t with P(T > t) = p for 0 < p < 1 and df degrees of freedom. Below 30 df jStat's inverse (via the inverse
 * incomplete beta) starts a Newton iteration in u = ln t on ln P(T > t) − ln p, derivative −t·f(t)/P(T > t),
 * which is nearly linear in u for heavy tails and converges in a few steps. From 30 df on, the Cornish–Fisher
 * series starts the iteration instead, one or two steps from the answer.
 */
export function studentTUpperQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTUpperQuantile needs 0 < p < 1, got ${p}`)
  if (!(df > 0)) throw new RangeError(`studentTUpperQuantile needs df > 0, got ${df}`)
  if (df > NORMAL_APPROXIMATION_DF) return normalUpperQuantile(p)
  if (p > 0.5) return -studentTUpperQuantile(1 - p, df)
  if (p === 0.5) return 0
  let t = df >= 30 ? cornishFisherStart(normalUpperQuantile(p), df) : jStat.studentt.inv(1 - p, df)
  if (!(Number.isFinite(t) && t > 0)) t = Math.max(normalUpperQuantile(p), 1e-8)
  let u = Math.log(t)
  let previous = Infinity
  for (let i = 0; i < 50; i++) {
    const tail = studentTSf(t, df)
    const slope = (-t * studentTPdf(t, df)) / tail
    const step = -(Math.log(tail) - Math.log(p)) / slope
    // Stop at convergence, or once rounding noise in ln P(T > t) stops the steps from shrinking.
    if (Math.abs(step) >= Math.abs(previous) && Math.abs(step) < 1e-12) break
    u += Math.max(-2, Math.min(2, step))
    t = Math.exp(u)
    if (Math.abs(step) < 1e-15) break
    previous = step
  }
  return t
}

/** Chi-square upper tail P(X > x) with k degrees of freedom: Q(k/2, x/2) (A&S 26.4.19). */
export function chiSquareSf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return Number.NaN
  return upperRegularizedGamma(df / 2, Math.max(0, x) / 2)
}

/**
 * Critical value of a two-sided interval at level α: t_{1−α/2, df}, or z_{1−α/2} when df is null
 * (normal theory) or beyond NORMAL_APPROXIMATION_DF. Reference: Welch (1947) for the t interval.
 */
export function twoSidedCriticalValue(alpha: number, df: number | null): number {
  return df === null ? normalUpperQuantile(alpha / 2) : studentTUpperQuantile(alpha / 2, df)
}

/** Two-sided p-value 2·P(T > |stat|) under t with df degrees of freedom, or the normal when df is null (Welch 1947). */
export function twoSidedPValue(stat: number, df: number | null): number {
  const tail = df === null ? normalSf(Math.abs(stat)) : studentTSf(Math.abs(stat), df)
  return Math.min(1, 2 * tail)
}
