import type { ColumnType, Generated, JSONColumnType } from 'kysely'

/** The control-plane schema, one place: every Postgres table the API reads or writes. */
export interface Database {
  experiments: ExperimentTable
  experiment_notes: NoteTable
  audit_log: AuditTable
  api_keys: ApiKeyTable
  settings: SettingTable
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
