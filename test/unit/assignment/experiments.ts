import type { AssignableExperiment, GlobalHoldout } from '../../../api/assignment/assign.ts'

/** A running three-arm win-back experiment; override what a test is about. */
export function winbackExperiment(overrides: Partial<AssignableExperiment> = {}): AssignableExperiment {
  return {
    id: 'spring-winback',
    seed: 'spring-winback-seed',
    status: 'running',
    arms: [
      { key: 'control', weight: 0.5, isControl: true, offer: { type: 'none' } },
      { key: 'ten_off', weight: 0.3, isControl: false, offer: { type: 'percent_off', value: 10 } },
      { key: 'free_shipping', weight: 0.2, isControl: false, offer: { type: 'free_shipping' } },
    ],
    holdoutPct: 0.1,
    coverage: 1,
    targeting: null,
    namespace: null,
    ...overrides,
  }
}

export const globalHoldout: GlobalHoldout = { pct: 0.05, seed: 'program-holdout' }

export const customerIds = (count: number, prefix = 'customer-'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`)
