import { DomainError } from '../domain-errors.ts'
import type { Analysis, Experiment, ExperimentStatus, ExperimentUpdate } from './schema.ts'

export type Transition = 'start' | 'pause' | 'resume' | 'stop'

const transitions: Record<Transition, { from: ExperimentStatus[]; to: ExperimentStatus }> = {
  start: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  stop: { from: ['running', 'paused'], to: 'stopped' },
}

/** The status an experiment moves to, or a 409 naming why it cannot. */
export function nextStatus(current: ExperimentStatus, transition: Transition): ExperimentStatus {
  const t = transitions[transition]
  if (!t.from.includes(current)) {
    throw new DomainError(
      'conflict',
      'invalid_transition',
      `cannot ${transition} an experiment that is ${current} (allowed from: ${t.from.join(', ')})`,
      'status',
    )
  }
  return t.to
}

/** Fields that define who is randomised where; changing them after start would break the comparison. */
const frozenOnceStarted = ['arms', 'seed', 'holdoutPct', 'namespace', 'targeting', 'trigger'] as const

/**
 * Checks an update against the experiment's state. A draft accepts anything; once started the design is
 * frozen (arms, weights, seed, holdout, namespace, targeting) and coverage may only grow, so a ramp-up never
 * moves an assigned customer. A stopped experiment accepts only descriptive changes.
 */
export function checkUpdate(current: Experiment, update: ExperimentUpdate, now = new Date()): void {
  if (update.analysis) checkPlannedEnd(update.analysis, current.startedAt ? new Date(current.startedAt) : now, current.startedAt ? 'start' : 'today')
  if (current.status === 'draft') return
  if (update.analysis) {
    // The success criteria and guardrail margins are the pre-registration: changing them after start would let
    // the data choose the bar it is judged against.
    for (const field of ['successCriteria', 'guardrailMargins', 'primaryMetric'] as const) {
      if (JSON.stringify(update.analysis[field]) !== JSON.stringify(current.analysis[field])) {
        throw new DomainError(
          'conflict',
          'frozen',
          `analysis.${field} cannot change once the experiment has started (it is the pre-registered design)`,
          `analysis.${field}`,
        )
      }
    }
  }
  for (const field of frozenOnceStarted) {
    if (update[field] !== undefined && JSON.stringify(update[field]) !== JSON.stringify(current[field])) {
      throw new DomainError('conflict', 'frozen', `${field} cannot change once the experiment has started`, field)
    }
  }
  if (update.coverage !== undefined && update.coverage !== current.coverage) {
    if (current.status === 'stopped') throw new DomainError('conflict', 'frozen', 'coverage cannot change after the experiment stopped', 'coverage')
    if (update.coverage < current.coverage) {
      throw new DomainError('conflict', 'coverage_decrease', `coverage may only grow once started (from ${current.coverage} to at least that)`, 'coverage')
    }
  }
}

/** A planned end date on or before the day the test starts (or today, for a draft) can never be met. */
export function checkPlannedEnd(analysis: Pick<Analysis, 'successCriteria'>, start: Date, startLabel: 'start' | 'today'): void {
  const end = analysis.successCriteria?.plannedEndDate
  if (!end) return
  const startDay = start.toISOString().slice(0, 10)
  if (end <= startDay) {
    throw new DomainError(
      'invalid',
      'invalid_input',
      `analysis.successCriteria.plannedEndDate: ${end} is not after the ${startLabel === 'start' ? 'start date' : 'current date'} (${startDay})`,
      'analysis.successCriteria.plannedEndDate',
    )
  }
}
