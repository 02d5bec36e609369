/**
 * What a comparison means for the business, in colour and in words. A significant rise is good news only
 * when higher is better: more unsubscribes or a higher incentive cost is a significant harm, shown in red.
 */

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
