/**
 * What a comparison means for the business, in colour and in words. A significant rise is good news only
 * when higher is better: more unsubscribes or a higher incentive cost is a significant harm, shown in red.
 */
import type { GuardrailResult } from '../../../api/contract/index.ts'

export type Tone = 'positive' | 'negative' | 'neutral'

export interface Verdict {
  tone: Tone
  /** Short words for a table cell: "Significant ▲ better", "Inconclusive", "Not estimable". */
  label: string
  /** A sentence for a tooltip or a screen reader. */
  explanation: string
}

interface Judged {
  estimate: number | null
  significant: boolean
  notEstimable?: { message: string } | null
}

export function verdict(c: Judged | null | undefined, higherIsBetter: boolean): Verdict {
  if (!c || c.notEstimable || c.estimate === null || !Number.isFinite(c.estimate)) {
    return { tone: 'neutral', label: 'Not estimable', explanation: c?.notEstimable?.message ?? 'Not enough data to compare yet.' }
  }
  if (!c.significant || c.estimate === 0) {
    return { tone: 'neutral', label: 'Inconclusive', explanation: 'The interval includes no change: this could be noise.' }
  }
  const up = c.estimate > 0
  const good = up === higherIsBetter
  return {
    tone: good ? 'positive' : 'negative',
    label: `Significant ${up ? '▲' : '▼'} ${good ? 'better' : 'worse'}`,
    explanation: `A significant ${up ? 'increase' : 'decrease'}, which is ${good ? 'good' : 'bad'} for this metric (${higherIsBetter ? 'higher' : 'lower'} is better).`,
  }
}

/** The CSS class that colours a verdict (app.css: green and red mean significant, grey means inconclusive). */
export const toneClass = (tone: Tone) => `sig-${tone}`

export type GuardrailStatus = GuardrailResult['status']

/**
 * A guardrail's one-sided harm test against its margin, in words: the status comes from the API
 * (guardrail.status), never from the two-sided verdict beside it.
 */
export function guardrailVerdict(status: GuardrailStatus): Verdict {
  if (status === 'harmed')
    return {
      tone: 'negative',
      label: 'Harmed beyond margin',
      explanation: 'The whole harm-side interval lies past the margin: the arm makes this guardrail worse by more than is acceptable.',
    }
  if (status === 'within_margin') return { tone: 'positive', label: 'Within margin', explanation: 'The interval rules out a harm larger than the margin.' }
  return { tone: 'neutral', label: 'Unclear', explanation: 'The interval still includes a harm larger than the margin: not enough data to rule it out.' }
}

/** An estimate beside its interval: the program KPIs' money, ROI and lifts. */
export interface IntervalEstimate {
  estimate: number | null
  ci: [number, number] | null
}

/**
 * The colour an interval allows: green or red only when it excludes zero, so that a colour never contradicts
 * the interval printed beside it; grey otherwise, and without an interval.
 */
export function intervalTone(ci: [number, number] | null | undefined, higherIsBetter = true): Tone {
  if (!ci || !Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) return 'neutral'
  if (ci[0] > 0) return higherIsBetter ? 'positive' : 'negative'
  if (ci[1] < 0) return higherIsBetter ? 'negative' : 'positive'
  return 'neutral'
}

/**
 * Money judged by its interval, in words: "Earns money" when the whole interval lies above zero, "Loses money"
 * when below, "Unclear" when it spans zero; `moneyVerdict({ estimate: -33_900, ci: [-76_400, 8_604] })` is
 * "Unclear" (grey), whatever the sign of the estimate.
 */
export function moneyVerdict(x: IntervalEstimate | null | undefined): Verdict {
  if (!x || x.estimate === null || !Number.isFinite(x.estimate)) {
    return { tone: 'neutral', label: 'Not estimable', explanation: 'Not enough customers in both groups to estimate this yet.' }
  }
  const tone = intervalTone(x.ci)
  if (!x.ci) return { tone, label: 'No interval', explanation: 'Too few customers to put an interval around this estimate.' }
  if (tone === 'positive') return { tone, label: 'Earns money', explanation: 'The whole 95% interval lies above zero.' }
  if (tone === 'negative') return { tone, label: 'Loses money', explanation: 'The whole 95% interval lies below zero.' }
  return { tone, label: 'Unclear', explanation: 'The 95% interval includes zero: it could earn or lose money.' }
}
