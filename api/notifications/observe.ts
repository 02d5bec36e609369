import type { Experiment } from '../experiments/schema.ts'
import type { ExperimentReport } from '../contract/index.ts'
import { currency } from '../contract/money.ts'
import type { IngestCounts } from '../ingest/ingest-counts.ts'

/**
 * What one rule sees in one experiment now: a state (compared with the last one stored, so an alert fires once
 * per change), whether that state is worth telling someone, and the words to tell them with.
 */
export interface Observation {
  state: string
  alerting: boolean
  title: string
  text: string
  facts: Array<{ label: string; value: string }>
}

/** Lazily loaded facts about one experiment, shared by the rules that read it in a round. */
export interface ExperimentFacts {
  exp: Experiment
  now: number
  report(): Promise<ExperimentReport>
  /** Incentive spend so far (Σ redemption costs) and what open offers hold reserved against the budget. */
  budget(): Promise<{ spent: number; reserved: number }>
  /** The latest exposure (ms), or null without any. */
  lastExposure(): Promise<number | null>
}

const HOUR = 3_600_000
const actionWords: Record<string, string> = { ship: 'ship', keep_running: 'keep running', stop: 'stop', roll_back: 'roll back', investigate: 'investigate' }
const pct = (x: number) => `${(x * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}%`

export const observe: Record<string, (f: ExperimentFacts, params: Record<string, unknown>) => Promise<Observation>> = {
  async srm(f) {
    const srm = (await f.report()).srm
    const detected = !!srm?.mismatch
    return {
      state: detected ? 'mismatch' : 'ok',
      alerting: detected,
      title: `Sample ratio mismatch in ${f.exp.name}`,
      text: `The split of customers between arms does not match the configured weights (p = ${srm ? srm.pValue.toExponential(1) : '—'}): check the assignment path before trusting the report.`,
      facts: srm
        ? Object.entries(srm.observed).map(([arm, n]) => ({
            label: arm,
            value: `${n.toLocaleString('en-US')} (expected ${Math.round(srm.expected[arm] ?? 0).toLocaleString('en-US')})`,
          }))
        : [],
    }
  },

  async guardrail_harmed(f) {
    const report = await f.report()
    const harmed = report.metrics
      .filter((m) => m.isGuardrail)
      .flatMap((m) => m.comparisons.filter((c) => c.guardrail?.status === 'harmed').map((c) => ({ metric: m.label, key: m.key, arm: c.variant })))
    const state = harmed.length
      ? harmed
          .map((h) => `${h.key}:${h.arm}`)
          .sort()
          .join(',')
      : 'ok'
    return {
      state,
      alerting: harmed.length > 0,
      title: `Guardrail harmed in ${f.exp.name}`,
      text: `${harmed.map((h) => `${h.metric} (${h.arm})`).join(', ')} moved the wrong way beyond the guardrail's margin.`,
      facts: harmed.map((h) => ({ label: h.metric, value: `harmed in ${h.arm}` })),
    }
  },

  async recommendation_changed(f) {
    const { recommendation: r } = await f.report()
    return {
      state: `${r.action}${r.arm ? `:${r.arm}` : ''}`,
      alerting: true,
      title: `${f.exp.name}: recommendation is now "${actionWords[r.action] ?? r.action}"`,
      text: r.headline,
      facts: [
        { label: 'Recommendation', value: `${actionWords[r.action] ?? r.action}${r.arm ? ` (${r.arm})` : ''}` },
        ...r.reasons.slice(0, 3).map((reason, i) => ({ label: `Reason ${i + 1}`, value: reason })),
      ],
    }
  },

  async budget(f) {
    const budget = f.exp.budget
    if (!budget || budget.amount <= 0) return { state: 'none', alerting: false, title: '', text: '', facts: [] }
    // Reservations count as the decider counts them: an offer issued holds its expected cost until it resolves.
    const { spent, reserved } = await f.budget()
    const share = (spent + reserved) / budget.amount
    const state = share >= 1 ? '100' : share >= 0.8 ? '80' : 'under'
    const used =
      reserved > 0
        ? `${currency(spent, budget.currency)} spent and ${currency(reserved, budget.currency)} reserved by open offers, of ${currency(budget.amount, budget.currency)}`
        : `${currency(spent, budget.currency)} of ${currency(budget.amount, budget.currency)} spent`
    return {
      state,
      alerting: state !== 'under',
      title: state === '100' ? `${f.exp.name} has used its incentive budget` : `${f.exp.name} has used 80% of its incentive budget`,
      text: `${used} (${pct(share)}).${state === '100' ? ' Incentive arms take no new customers; control and holdout go on.' : ''}`,
      facts: [
        { label: 'Spent', value: currency(spent, budget.currency) },
        { label: 'Reserved', value: currency(reserved, budget.currency) },
        { label: 'Budget', value: currency(budget.amount, budget.currency) },
      ],
    }
  },

  async past_planned_end(f) {
    const end = f.exp.analysis.successCriteria?.plannedEndDate
    const endMs = end ? Date.parse(`${end}T00:00:00Z`) : null
    const past = endMs !== null && f.now >= endMs
    return {
      state: past ? 'past' : 'before',
      alerting: past,
      title: `${f.exp.name} is past its planned end`,
      text: `The experiment was planned to end on ${end}; it is still running. Read the report and record a decision.`,
      facts: [{ label: 'Planned end', value: end ?? '—' }],
    }
  },

  async no_exposures(f, params) {
    const hours = typeof params.hours === 'number' ? params.hours : 24
    const started = f.exp.startedAt ? Date.parse(f.exp.startedAt) : f.now
    const last = await f.lastExposure()
    const since = last ?? started
    const quiet = f.now - started >= hours * HOUR && f.now - since >= hours * HOUR
    return {
      state: quiet ? 'quiet' : 'active',
      alerting: quiet,
      title: `No exposures in ${f.exp.name} for ${hours} hours`,
      text: last
        ? `The last customer was assigned ${new Date(last).toISOString().replace('T', ' ').slice(0, 16)} UTC; the experiment is running but no assignment has been logged since.`
        : `The experiment has been running for ${Math.floor((f.now - started) / HOUR)} hours without a single exposure.`,
      facts: [{ label: 'Last exposure', value: last ? new Date(last).toISOString() : 'none' }],
    }
  },
}

/** Facts about the whole program, for the rules that watch no single experiment (subject 'program'). */
export interface ProgramFacts {
  now: number
  /** Rows POST /v1/events answered since `from` (ms), across every API process. */
  ingestedSince(from: number): Promise<IngestCounts>
}

export const observeProgram: Record<string, (f: ProgramFacts, params: Record<string, unknown>) => Promise<Observation>> = {
  async ingestion_rejections(f, params) {
    const threshold = typeof params.thresholdPct === 'number' ? params.thresholdPct : 5
    const minRows = typeof params.minRows === 'number' ? params.minRows : 100
    const c = await f.ingestedSince(f.now - HOUR)
    const received = c.accepted + c.duplicates + c.rejected
    const share = received ? c.rejected / received : 0
    // Too few rows say nothing about a sender (one bad test request is 100%): below minRows the share is not judged.
    const above = received >= minRows && share * 100 > threshold
    const n = (x: number) => x.toLocaleString('en-US')
    return {
      state: above ? 'above' : 'below',
      alerting: above,
      title: `Ingestion is rejecting ${pct(share)} of events`,
      text: `${n(c.rejected)} of the ${n(received)} event rows received in the last hour were rejected (the rule's threshold is ${threshold}%). Rejected rows are not stored and count in no report; each sender's answer names the row and field to fix.`,
      facts: [
        { label: 'Rejected', value: `${n(c.rejected)} (${pct(share)})` },
        { label: 'Stored', value: n(c.accepted) },
        { label: 'Duplicates', value: n(c.duplicates) },
        { label: 'Threshold', value: `${threshold}%` },
      ],
    }
  },
}

const budgetLevel: Record<string, number> = { '80': 1, '100': 2 }

/**
 * Whether moving from `previous` to `next` fires: a new alerting state, or any change of recommendation after the
 * first one seen. A budget fires only on the way up: released reservations can take it from 100% back to 80%,
 * which is no news, and that lower level is recorded so that reaching 100% again fires again.
 */
export function fires(kind: string, previous: string | undefined, next: Observation): boolean {
  if (previous === next.state) return false
  if (kind === 'recommendation_changed') return previous !== undefined
  if (kind === 'budget') return (budgetLevel[next.state] ?? 0) > (budgetLevel[previous ?? ''] ?? 0)
  return next.alerting
}
