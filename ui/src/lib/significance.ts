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
