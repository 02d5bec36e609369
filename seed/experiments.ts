/**
 * The demo world's experiments: what a growth team would have launched (definitions as POST /v1/experiments
 * takes them), when (timeline), and what each arm truly does in each value tier (the planted effects).
 */
import type { z } from '@hono/zod-openapi'
import type { ExperimentCreate } from '../api/experiments/schema.ts'
import { NO_MESSAGE, type ArmEffect } from './simulate.ts'
import type { ValueTier } from './world.ts'

export type ExperimentInput = z.input<typeof ExperimentCreate> & { id: string }

/** A planted effect for each value tier: the segment dimension in which effects differ. */
export type TierEffects = Record<ValueTier, ArmEffect>

export interface PlannedExperiment {
  definition: ExperimentInput
  timeline: {
    /** Days before "now" the experiment started (direct mode backdates it; the API mode starts it now). */
    startDaysAgo: number
    /** Customers are assigned in daily waves over this many days from the start. */
    exposureDays: number
    /** Stopped this many days ago, when the experiment is concluded. */
    stopDaysAgo?: number
  }
  decision?: { daysAgo: number; body: string; chosenArm: string }
  /** Planted effects for every arm key; the experiment holdout always gets NO_MESSAGE. */
  effects: Record<string, TierEffects>
}

export interface WorldPlan {
  /** Customers who enter no experiment are anchored this many days ago (their history ends there). */
  referenceDaysAgo: number
  globalHoldout: { pct: number; seed: string }
  experiments: PlannedExperiment[]
}

export const allTiers = (effect: ArmEffect): TierEffects => ({ low: effect, mid: effect, high: effect })
export const byTier = (base: Omit<ArmEffect, 'reactivation'>, reactivation: Record<ValueTier, number>): TierEffects => ({
  low: { ...base, reactivation: reactivation.low },
  mid: { ...base, reactivation: reactivation.mid },
  high: { ...base, reactivation: reactivation.high },
})
const message = (reactivation: number, daysToPurchase: number): ArmEffect => ({ ...NO_MESSAGE, reactivation, daysToPurchase, messaged: true })
const analysis = (extra: Record<string, unknown> = {}) => ({ attributionDays: 30, ltvDays: 90, defaultMarginRate: 0.3, ...extra })
/** Lapsed and dormant customers bought nothing in the last 60–180+ days: their CUPED covariate needs the year. */
const yearLookback = { cuped: { enabled: true, lookbackDays: 365 } }

/**
 * Win-back in the lapsed segment: is an incentive worth more than the message alone, and which one? The learning
 * library's planted pairs (docs/learning-library.md): free shipping works only for price-sensitive (low-value)
 * customers, 500 loyalty points only for loyal (high-value) ones; free shipping for high-value customers and points
 * for low-value ones do nothing beyond the message (planted nulls, here and in winback-dormant and the save offer).
 */
const winback: PlannedExperiment = {
  definition: {
    id: 'winback-lapsed',
    name: 'Win-back: lapsed 60–180 days',
    hypothesis: 'An incentive reactivates more lapsed customers than a "we miss you" message alone, and pays for itself in net value.',
    arms: [
      { key: 'control', name: 'Message only', weight: 0.25, isControl: true, offer: { type: 'none', value: 0, channel: 'email' } },
      { key: 'pct15', name: '15% off', weight: 0.25, offer: { type: 'percent_off', value: 15, currency: 'USD' } },
      { key: 'freeship', name: 'Free shipping', weight: 0.25, offer: { type: 'free_shipping', value: 0, unitCost: 6.95, currency: 'USD' } },
      { key: 'points', name: '500 loyalty points', weight: 0.25, offer: { type: 'loyalty_points', value: 500, unitCost: 5, currency: 'USD' } },
    ],
    holdoutPct: 0.1,
    targeting: { recency: 'lapsed_60_180' },
    // Pre-registered: worth shipping at +10% reactivation; unsubscribes may rise by at most 0.3 pp.
    analysis: analysis({
      primaryMetric: 'reactivation',
      guardrails: ['unsubscribe', 'net_value'],
      guardrailMargins: { unsubscribe: 0.003 },
      successCriteria: { minimumLift: 0.1 },
      ...yearLookback,
    }),
    tags: ['win-back', 'lapsed', 'demo'],
  },
  timeline: { startDaysAgo: 40, exposureDays: 10 },
  effects: {
    control: allTiers(message(1.25, 9)),
    pct15: byTier({ repeat: 1.1, orderValue: 1.04, redemption: 0.85, daysToPurchase: 5, messaged: true }, { low: 1.9, mid: 1.7, high: 1.45 }),
    freeship: byTier({ repeat: 1.05, orderValue: 1.12, redemption: 0.9, daysToPurchase: 6, messaged: true }, { low: 1.75, mid: 1.25, high: 1.25 }),
    points: byTier({ repeat: 1.15, orderValue: 1, redemption: 0.6, daysToPurchase: 7, messaged: true }, { low: 1.25, mid: 1.5, high: 2.4 }),
  },
}

/** The concluded test: a save offer for at-risk customers, stopped with a recorded decision. */
const saveOffer: PlannedExperiment = {
  definition: {
    id: 'save-offer-at-risk',
    name: 'Save offer: at-risk customers',
    hypothesis: 'A $10 voucher keeps more at-risk customers buying than loyalty points, at a cost the extra orders cover.',
    arms: [
      { key: 'control', name: 'Reminder message', weight: 0.34, isControl: true, offer: { type: 'none', value: 0, channel: 'email' } },
      { key: 'amount10', name: '$10 off next order', weight: 0.33, offer: { type: 'amount_off', value: 10, unitCost: 10, currency: 'USD' } },
      { key: 'points', name: '500 loyalty points', weight: 0.33, offer: { type: 'loyalty_points', value: 500, unitCost: 5, currency: 'USD' } },
    ],
    holdoutPct: 0.1,
    targeting: { recency: 'at_risk' },
    analysis: analysis({ primaryMetric: 'reactivation', guardrails: ['unsubscribe', 'net_value'], ...yearLookback }),
    tags: ['save', 'at-risk', 'demo'],
  },
  timeline: { startDaysAgo: 45, exposureDays: 5, stopDaysAgo: 9 },
  decision: {
    daysAgo: 8,
    chosenArm: 'amount10',
    body: '$10 off lifted reactivation and revenue clearly over the reminder; net value per customer came out a little lower, a price we accept for keeping these customers buying. 500 points moved only high-value customers. Rolling out $10 off to at-risk customers.',
  },
  effects: {
    control: allTiers(message(1.1, 9)),
    amount10: byTier({ repeat: 1.05, orderValue: 1, redemption: 0.8, daysToPurchase: 5, messaged: true }, { low: 1.4, mid: 1.35, high: 1.2 }),
    // Points: nothing beyond the reminder for low-value customers, a clear lift for loyal high-value ones.
    points: byTier({ repeat: 1.1, orderValue: 1, redemption: 0.5, daysToPurchase: 7, messaged: true }, { low: 1.1, mid: 1.25, high: 1.4 }),
  },
}

/** More revenue, less money: 20% off makes active customers buy more, but most would have bought anyway. */
const vipDiscount: PlannedExperiment = {
  definition: {
    id: 'vip-20-off-active',
    name: '20% off for active mid/high-value customers',
    hypothesis: 'A 20% discount grows revenue per active customer enough to cover the discount.',
    arms: [
      { key: 'control', name: 'New-arrivals email', weight: 0.5, isControl: true, offer: { type: 'none', value: 0, channel: 'email' } },
      { key: 'pct20', name: '20% off everything', weight: 0.5, offer: { type: 'percent_off', value: 20, currency: 'USD' } },
    ],
    targeting: { recency: 'active', valueTier: { $in: ['mid', 'high'] } },
    analysis: analysis({ primaryMetric: 'revenue', guardrails: ['net_value', 'unsubscribe'] }),
    tags: ['discount', 'active', 'demo'],
  },
  timeline: { startDaysAgo: 35, exposureDays: 7 },
  effects: {
    control: allTiers(message(1.05, 8)),
    pct20: allTiers({ reactivation: 1.15, repeat: 1.25, orderValue: 1, redemption: 0.9, daysToPurchase: 4, messaged: true }),
  },
}

/**
 * The same two offers in dormant low- and high-value customers, running for months: the learning library's second
 * (third, for points) experiment of each planted pair, old enough that durable re-engagement (days 31–90 after the
 * first purchase) is observed. Free shipping works for the low tier only, points for the high tier only.
 */
const winbackDormant: PlannedExperiment = {
  definition: {
    id: 'winback-dormant',
    name: 'Win-back: dormant low- and high-value customers',
    hypothesis: 'Free shipping brings back price-sensitive dormant customers; loyalty points bring back the loyal ones.',
    arms: [
      { key: 'control', name: 'Message only', weight: 0.34, isControl: true, offer: { type: 'none', value: 0, channel: 'email' } },
      { key: 'freeship', name: 'Free shipping', weight: 0.33, offer: { type: 'free_shipping', value: 0, unitCost: 6.95, currency: 'USD' } },
      { key: 'points', name: '500 loyalty points', weight: 0.33, offer: { type: 'loyalty_points', value: 500, unitCost: 5, currency: 'USD' } },
    ],
    targeting: { recency: 'dormant', valueTier: { $in: ['low', 'high'] } },
    analysis: analysis({ primaryMetric: 'reactivation', guardrails: ['unsubscribe', 'net_value'], ...yearLookback }),
    tags: ['win-back', 'dormant', 'demo'],
  },
  timeline: { startDaysAgo: 130, exposureDays: 10 },
  effects: {
    control: allTiers(message(1.2, 10)),
    freeship: byTier({ repeat: 1.05, orderValue: 1.12, redemption: 0.9, daysToPurchase: 6, messaged: true }, { low: 2.6, mid: 1.2, high: 1.2 }),
    points: byTier({ repeat: 1.15, orderValue: 1, redemption: 0.6, daysToPurchase: 7, messaged: true }, { low: 1.2, mid: 1.2, high: 4 }),
  },
}

/**
 * The learning library's planted pairs across the demo's experiments (segment valueTier, offer type:value): proven
 * ones and planted nulls (no effect beyond the control's message in any experiment that tests them).
 */
export const plantedPairs = {
  proven: [
    { segment: 'valueTier=low', offer: 'free_shipping:0', experiments: ['winback-lapsed', 'winback-dormant'] },
    { segment: 'valueTier=high', offer: 'loyalty_points:500', experiments: ['winback-lapsed', 'save-offer-at-risk', 'winback-dormant'] },
  ],
  nulls: [
    { segment: 'valueTier=high', offer: 'free_shipping:0', experiments: ['winback-lapsed', 'winback-dormant'] },
    { segment: 'valueTier=mid', offer: 'free_shipping:0', experiments: ['winback-lapsed'] },
    { segment: 'valueTier=low', offer: 'loyalty_points:500', experiments: ['winback-lapsed', 'save-offer-at-risk', 'winback-dormant'] },
    { segment: '(all)=all customers', offer: 'none:0', experiments: ['aa-dormant-newsletter'] },
  ],
}

/** Two identical arms: the pipeline's own false-positive check. */
const aaTest: PlannedExperiment = {
  definition: {
    id: 'aa-dormant-newsletter',
    name: 'A/A: dormant newsletter',
    hypothesis:
      'Identical arms show no difference (a check of assignment, logging and analysis). Read with sequential intervals, so looking every day is safe.',
    arms: [
      { key: 'a', name: 'Newsletter (A)', weight: 0.5, isControl: true, offer: { type: 'none', value: 0, channel: 'email' } },
      { key: 'b', name: 'Newsletter (A, copy)', weight: 0.5, offer: { type: 'none', value: 0, channel: 'email' } },
    ],
    targeting: { recency: 'dormant' },
    analysis: analysis({ primaryMetric: 'reactivation', sequential: { enabled: true, tuning: 5000 }, ...yearLookback }),
    tags: ['a/a', 'dormant', 'demo'],
  },
  // Started long enough ago that every customer's 30-day window has ended: the A/A check reads complete data.
  timeline: { startDaysAgo: 50, exposureDays: 14 },
  effects: { a: allTiers(message(1.1, 10)), b: allTiers(message(1.1, 10)) },
}

/** The world `npm start` shows on an empty data directory. */
export const demoPlan: WorldPlan = {
  referenceDaysAgo: 45,
  globalHoldout: { pct: 0.05, seed: 'global-holdout' },
  // winback-dormant before the A/A test: a customer enters the first experiment whose targeting they meet.
  experiments: [saveOffer, winback, vipDiscount, winbackDormant, aaTest],
}

/** Default number of customers of the demo world: a few seconds to seed, enough for clear results. */
export const DEMO_CUSTOMERS = 50_000
