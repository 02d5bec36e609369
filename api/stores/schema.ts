import type { ColumnType, Generated, JSONColumnType } from 'kysely'

/** The control-plane schema, one place: every Postgres table the API reads or writes. */
export interface Database {
  experiments: ExperimentTable
  experiment_notes: NoteTable
  audit_log: AuditTable
  api_keys: ApiKeyTable
  settings: SettingTable
  triggers: TriggerTable
  policies: PolicyTable
  incentives: IncentiveTable
  redemptions: RedemptionTable
  metric_definitions: MetricDefinitionTable
}

type Timestamp = ColumnType<Date, Date | string, Date | string>

export interface ExperimentTable {
  id: string
  name: string
  hypothesis: string
  status: string
  seed: string
  arms: JSONColumnType<unknown[]>
  holdout_pct: number
  coverage: number
  targeting: JSONColumnType<Record<string, unknown> | null>
  namespace: JSONColumnType<{ name: string; range: [number, number] } | null>
  analysis: JSONColumnType<Record<string, unknown>>
  tags: JSONColumnType<string[]>
  created_at: Timestamp
  updated_at: Timestamp
  started_at: Timestamp | null
  stopped_at: Timestamp | null
  created_by: string
  trigger_key: string | null
  priority: ColumnType<number, number | undefined, number>
  budget: JSONColumnType<{ amount: number; currency: string; maxCostPerIncrementalConversion?: number | null } | null>
  budget_exhausted_at: Timestamp | null
}

export interface NoteTable {
  id: Generated<number>
  experiment_id: string
  kind: string
  body: string
  chosen_arm: string | null
  author: string
  created_at: Timestamp
}

export interface AuditTable {
  id: Generated<number>
  actor: string
  action: string
  entity_type: string
  entity_id: string
  before: JSONColumnType<object | null>
  after: JSONColumnType<object | null>
  at: Timestamp
}

export interface ApiKeyTable {
  id: string
  name: string
  role: string
  key_hash: string
  prefix: string
  created_by: string
  created_at: Timestamp
  revoked_at: Timestamp | null
}

export interface SettingTable {
  key: string
  value: JSONColumnType<object | null>
  updated_at: Timestamp
}

export interface TriggerTable {
  key: string
  name: string
  description: string
  tiers: JSONColumnType<string[]>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface PolicyTable {
  id: string
  name: string
  offer_types: JSONColumnType<string[]>
  max_incentives: number | null
  window_days: number | null
  cooldown_days: number | null
  min_gap_hours: number | null
  quiet_hours: JSONColumnType<{ startHour: number; endHour: number } | null>
  enabled: boolean
  created_at: Timestamp
  updated_at: Timestamp
}

export interface IncentiveTable {
  id: Generated<number>
  customer_id: string
  experiment_id: string
  arm: string
  offer_type: string
  trigger_key: string
  tier: string | null
  issued_at: Timestamp
}

export interface RedemptionTable {
  event_id: string
  customer_id: string
  experiment_id: string
  offer_type: string
  cost: number
  redeemed_at: Timestamp
}

/** One version of a catalogue metric (api/metrics/store.ts); rows are never updated except to archive the key. */
export interface MetricDefinitionTable {
  key: string
  version: number
  definition: JSONColumnType<Record<string, unknown>>
  built_in: boolean
  archived: boolean
  created_at: Timestamp
  created_by: string
}
