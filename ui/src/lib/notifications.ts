import type {
  AlertRuleDraft,
  AlertRuleView,
  AlertView,
  CreatedDestinationView,
  DeliveryView,
  DestinationDraft,
  DestinationTestResult,
  DestinationView,
  Digest,
  DigestScheduleDraft,
  DigestScheduleView,
} from '../../../api/contract/index.ts'
import { request } from './api.ts'

export type { AlertRuleDraft, AlertRuleView, AlertView, DeliveryView, DestinationDraft, DestinationView, Digest, DigestScheduleView }

const path = (id: string) => encodeURIComponent(id)

export const listDestinations = () => request<{ destinations: DestinationView[] }>('GET', '/destinations').then((r) => r.destinations)
export const createDestination = (draft: DestinationDraft) => request<CreatedDestinationView>('POST', '/destinations', draft)
export const deleteDestination = (id: string) => request<null>('DELETE', `/destinations/${path(id)}`)
export const testDestination = (id: string) => request<DestinationTestResult>('POST', `/destinations/${path(id)}/test`)

export const listRules = () => request<{ rules: AlertRuleView[] }>('GET', '/alert-rules').then((r) => r.rules)
export const createRule = (draft: AlertRuleDraft) => request<AlertRuleView>('POST', '/alert-rules', draft)
export const deleteRule = (id: string) => request<null>('DELETE', `/alert-rules/${path(id)}`)
export const listAlerts = (limit = 50) => request<{ alerts: AlertView[] }>('GET', `/alerts?limit=${limit}`).then((r) => r.alerts)

export const listDeliveries = (limit = 100) => request<{ deliveries: DeliveryView[] }>('GET', `/deliveries?limit=${limit}`).then((r) => r.deliveries)

export const getDigest = (q: { from?: string; to?: string; days?: number } = {}) => {
  const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined && v !== '') as Array<[string, string]>)
  return request<Digest>('GET', `/digest${params.size ? `?${params}` : ''}`)
}
export const getDigestSchedule = () => request<DigestScheduleView>('GET', '/digest/schedule')
export const saveDigestSchedule = (s: DigestScheduleDraft) => request<DigestScheduleView>('PUT', '/digest/schedule', s)
export const sendDigest = (destinationIds: string[]) => request<{ queued: number }>('POST', '/digest/send', { destinationIds })

/** What each rule watches, in the words the Notifications page shows. */
export const RULE_KINDS: Array<{ kind: AlertRuleView['kind']; label: string }> = [
  { kind: 'srm', label: 'Sample ratio mismatch detected' },
  { kind: 'guardrail_harmed', label: 'A guardrail is harmed' },
  { kind: 'recommendation_changed', label: 'The recommendation changed' },
  { kind: 'budget', label: 'Budget at 80% and 100%' },
  { kind: 'past_planned_end', label: 'Past its planned end' },
  { kind: 'no_exposures', label: 'No exposures for N hours' },
  { kind: 'ingestion_rejections', label: 'Ingestion rejects more than X% of rows in an hour' },
]
