import type {
  ApiKey,
  AuditEntry,
  CreatedApiKey,
  CustomerProfile,
  Experiment,
  ExperimentAttribute,
  ExperimentDraft,
  ExperimentReport,
  ExperimentStatus,
  ErrorBody,
  FieldProblem,
  KpiReport,
  LibraryReport,
  LiftTimeseries,
  MetricKey,
  Note,
  NoteInput,
  Policy,
  PolicyChange,
  PolicyInput,
  Role,
  SegmentDefinition,
  SegmentDraft,
  SegmentList,
  Settings,
  TriggerInput,
  TriggerRecord,
} from '../../../api/contract/index.ts'
import type { CatalogueMetric, MetricDraft, MetricPreview, MetricPreviewRequest } from './metricCatalogue.ts'
import { session, signOut } from './session.svelte.ts'

export type {
  ApiKey,
  AuditEntry,
  CustomerProfile,
  Experiment,
  ExperimentAttribute,
  ExperimentDraft,
  ExperimentStatus,
  Note,
  NoteInput,
  Policy,
  PolicyChange,
  PolicyInput,
  Role,
  SegmentDefinition,
  SegmentDraft,
  Settings,
  TriggerInput,
  TriggerRecord,
}
export type Transition = 'start' | 'pause' | 'resume' | 'stop'

/**
 * An error answer of the API (`{ error: { code, message, field, fields } }`), or `network` when there was none.
 * `fields` lists every problem of a failed validation, so a form can show them all at once.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly fields?: FieldProblem[],
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

const BASE = '/v1'

/** One API call with the signed-in key; an error answer becomes an ApiError (lib/notifications.ts builds on it too). */
export async function request<T>(method: string, path: string, body?: unknown, key = session.key): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (key) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch {
    throw new ApiError(0, 'network', 'Could not reach the API. Check your connection and try again.')
  }
  const text = await res.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!res.ok) {
    const error = (data as Partial<ErrorBody> | null)?.error
    const failure = new ApiError(
      res.status,
      error?.code ?? `http_${res.status}`,
      error?.message ?? `The API answered ${res.status} ${res.statusText}.`,
      error?.field,
      error?.fields,
    )
    // A rejected key is forgotten so the key prompt comes back, saying why.
    if (res.status === 401 && key === session.key) signOut(failure.message)
    throw failure
  }
  return data as T
}

const path = (id: string) => encodeURIComponent(id)

/** Checks a key before keeping it: the dashboard needs one that may read. */
export function checkKey(key: string): Promise<unknown> {
  return request('GET', '/settings', undefined, key)
}

export const listExperiments = (status?: ExperimentStatus) =>
  request<{ experiments: Experiment[] }>('GET', `/experiments${status ? `?status=${status}` : ''}`).then((r) => r.experiments)
export const getExperiment = (id: string) => request<Experiment>('GET', `/experiments/${path(id)}`)
export const createExperiment = (draft: ExperimentDraft) => request<Experiment>('POST', '/experiments', draft)
export const transitionExperiment = (id: string, transition: Transition) => request<Experiment>('POST', `/experiments/${path(id)}/${transition}`)
export const listNotes = (id: string) => request<{ notes: Note[] }>('GET', `/experiments/${path(id)}/notes`).then((r) => r.notes)
export const addNote = (id: string, note: NoteInput) => request<Note>('POST', `/experiments/${path(id)}/notes`, note)

export const getSettings = () => request<Settings>('GET', '/settings')
export const updateSettings = (update: Partial<Settings>) => request<Settings>('PUT', '/settings', update)

export const listKeys = () => request<{ keys: ApiKey[] }>('GET', '/keys').then((r) => r.keys)
export const createKey = (input: { name: string; role: Role }) => request<CreatedApiKey>('POST', '/keys', input)
export const revokeKey = (id: string) => request<null>('DELETE', `/keys/${path(id)}`)

export const listAudit = (limit = 50) => request<{ entries: AuditEntry[] }>('GET', `/audit?limit=${limit}`).then((r) => r.entries)

export interface ReportQuery {
  /** Built-in metric keys, or catalogue keys the experiment lists. */
  metrics?: string[]
  dimension?: string
  window?: number
  /** 'immature': also count customers still inside their outcome window (their rates read low). */
  include?: 'immature'
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const text = q.toString()
  return text ? `?${text}` : ''
}

export const getReport = (id: string, q: ReportQuery = {}) =>
  request<ExperimentReport>(
    'GET',
    `/experiments/${path(id)}/report${query({ metrics: q.metrics?.join(','), dimension: q.dimension, window: q.window, include: q.include })}`,
  )
export const getAttributes = (id: string) =>
  request<{ attributes: ExperimentAttribute[] }>('GET', `/experiments/${path(id)}/attributes`).then((r) => r.attributes)
export const getTimeseries = (id: string, q: { metrics?: MetricKey[]; points?: number; window?: number; include?: 'immature' } = {}) =>
  request<LiftTimeseries>(
    'GET',
    `/experiments/${path(id)}/timeseries${query({ metrics: q.metrics?.join(','), points: q.points, window: q.window, include: q.include })}`,
  )
/** `days` rather than `from` for "the last N days": the server rounds now to the minute, so loads share its cached answer. */
/** `metrics`: catalogue keys (`key` or `key@version`, at most 8) compared treated vs global holdout beside the KPIs. */
export const getKpis = (q: { from?: string; days?: number; to?: string; window?: number; segment?: string; metrics?: string[] } = {}) =>
  request<KpiReport>('GET', `/kpis${query({ ...q, metrics: q.metrics?.join(',') })}`)
export const getLibrary = () => request<LibraryReport>('GET', '/library')

export const listTriggers = () => request<{ triggers: TriggerRecord[] }>('GET', '/triggers').then((r) => r.triggers)
export const createTrigger = (input: TriggerInput) => request<TriggerRecord>('POST', '/triggers', input)
export const updateTrigger = (key: string, update: Partial<Pick<TriggerRecord, 'name' | 'description' | 'tiers'>>) =>
  request<TriggerRecord>('PATCH', `/triggers/${path(key)}`, update)
export const listPolicies = () => request<{ policies: Policy[] }>('GET', '/policies').then((r) => r.policies)
export const createPolicy = (input: PolicyInput) => request<Policy>('POST', '/policies', input)
export const updatePolicy = (id: string, update: PolicyChange) => request<Policy>('PATCH', `/policies/${path(id)}`, update)
export const deletePolicy = (id: string) => request<null>('DELETE', `/policies/${path(id)}`)

/** The metric catalogue: the latest version of each metric, built-ins first; archived ones only when asked. */
export const listMetrics = (q: { search?: string; tag?: string; archived?: boolean } = {}) =>
  request<{ metrics: CatalogueMetric[] }>('GET', `/metrics${query({ search: q.search, tag: q.tag, archived: q.archived ? 'include' : undefined })}`).then(
    (r) => r.metrics,
  )
export const getMetric = (key: string, version?: number) => request<CatalogueMetric>('GET', `/metrics/${path(key)}${query({ version })}`)
export const listMetricVersions = (key: string) => request<{ versions: CatalogueMetric[] }>('GET', `/metrics/${path(key)}/versions`).then((r) => r.versions)
export const createMetric = (draft: MetricDraft) => request<CatalogueMetric>('POST', '/metrics', draft)
export const newMetricVersion = (key: string, draft: MetricDraft) => request<CatalogueMetric>('POST', `/metrics/${path(key)}/versions`, draft)
export const archiveMetric = (key: string) => request<CatalogueMetric>('POST', `/metrics/${path(key)}/archive`)
/** A draft's per-arm values and comparisons with control on a started experiment, before it is saved. */
export const previewMetric = (body: MetricPreviewRequest) => request<MetricPreview>('POST', '/metrics/preview', body)

/** Segments over customer features (issue 20): the latest version of each; archived ones only when asked. */
export const listSegments = (q: { search?: string; archived?: boolean } = {}) =>
  request<SegmentList>('GET', `/segments${query({ search: q.search, archived: q.archived ? 'include' : undefined })}`).then((r) => r.segments)
export const createSegment = (draft: SegmentDraft) => request<SegmentDefinition>('POST', '/segments', draft)
export const archiveSegment = (key: string) => request<SegmentDefinition>('POST', `/segments/${path(key)}/archive`)
/** A customer's features as of now, RFM scores and segments. */
export const getCustomerProfile = (customerId: string) => request<CustomerProfile>('GET', `/customers/${path(customerId)}/profile`)
