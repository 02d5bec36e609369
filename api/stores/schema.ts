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
  segment_definitions: SegmentDefinitionTable
  budget_arms: BudgetArmTable
  ledger_versions: LedgerVersionTable
  notification_destinations: NotificationDestinationTable
  alert_rules: AlertRuleTable
  alert_states: AlertStateTable
  alerts: AlertTable
  notification_outbox: NotificationOutboxTable
  notification_attempts: NotificationAttemptTable
  digest_schedule: DigestScheduleTable
  ingest_minutes: IngestMinuteTable
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
  budget: JSONColumnType<{
    amount: number
    currency: string
    maxCostPerIncrementalConversion?: number | null
    reservation?: 'expected_cost' | 'max_cost'
  } | null>
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
  /** Held against the budget while open (migration 004). */
  reserved: ColumnType<number, number | undefined, number>
  unit_cost: ColumnType<number, number | undefined, number>
  status: ColumnType<'open' | 'redeemed' | 'expired', 'open' | 'redeemed' | 'expired' | undefined, 'open' | 'redeemed' | 'expired'>
  expires_at: Timestamp | null
  resolved_at: Timestamp | null
}

export interface RedemptionTable {
  event_id: string
  customer_id: string
  experiment_id: string
  offer_type: string
  cost: number
  redeemed_at: Timestamp
  arm: ColumnType<string, string | undefined, string>
}

/** Budget counters per experiment and arm (api/decisioning/budget.ts); arm '' marks initialised counters. */
export interface BudgetArmTable {
  experiment_id: string
  arm: string
  /** Σ redemption cost and how many redemption events it comes from (the arm's mean cost). */
  spent: number
  redemptions: number
  /** Σ reservations of open incentives. */
  reserved: number
  /** Incentives redeemed and expired: the arm's observed redemption rate. */
  redeemed: number
  expired: number
}

/** Bumped by a trigger on every insert into incentives or redemptions: the ledger cache's invalidation. */
export interface LedgerVersionTable {
  customer_id: string
  version: ColumnType<number, number, number>
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

/** One version of a segment definition (api/segments/store.ts); rows are never updated except to archive the key. */
export interface SegmentDefinitionTable {
  key: string
  version: number
  definition: JSONColumnType<Record<string, unknown>>
  archived: boolean
  created_at: Timestamp
  created_by: string
}

/** Where notifications go (api/notifications/destinations.ts); `secret` is ciphertext, never returned. */
export interface NotificationDestinationTable {
  id: string
  name: string
  kind: string
  target: JSONColumnType<Record<string, unknown>>
  secret: string
  created_at: Timestamp
  created_by: string
}

export interface AlertRuleTable {
  id: string
  kind: string
  experiment_id: string | null
  destination_ids: JSONColumnType<string[]>
  params: JSONColumnType<Record<string, unknown>>
  enabled: boolean
  created_at: Timestamp
  created_by: string
}

export interface AlertStateTable {
  rule_id: string
  subject: string
  state: string
  changed_at: Timestamp
  evaluated_at: Timestamp
}

export interface AlertTable {
  id: Generated<number>
  rule_id: string
  kind: string
  subject: string
  state: string
  previous_state: string | null
  title: string
  text: string
  link: string
  fired_at: Timestamp
}

export interface NotificationOutboxTable {
  id: Generated<number>
  idempotency_key: string
  destination_id: string
  source: string
  message: JSONColumnType<Record<string, unknown>>
  status: string
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp
  locked_until: Timestamp | null
  last_status_code: number | null
  last_error: string | null
  created_at: Timestamp
  delivered_at: Timestamp | null
}

export interface NotificationAttemptTable {
  id: Generated<number>
  outbox_id: number
  attempt: number
  at: Timestamp
  outcome: string
  status_code: number | null
  error: string | null
  duration_ms: number
}

export interface DigestScheduleTable {
  id: string
  enabled: boolean
  day_of_week: number
  hour_utc: number
  period_days: number
  destination_ids: JSONColumnType<string[]>
  last_sent_for: Timestamp | null
  updated_at: Timestamp
}

/** Rows POST /v1/events received in one minute, across every process (bigint: read back as strings). */
export interface IngestMinuteTable {
  minute: Timestamp
  accepted: ColumnType<string, number, number>
  duplicates: ColumnType<string, number, number>
  rejected: ColumnType<string, number, number>
}
