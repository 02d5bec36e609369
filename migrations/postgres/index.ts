import type { Migration } from 'kysely'
import * as controlPlane from './2026-11-25-001-control-plane.ts'
import * as decisioning from './2026-11-25-002-decisioning.ts'
import * as metrics from './2026-12-01-003-metrics.ts'
import * as budgetReservations from './2026-12-01-004-budget-reservations.ts'
import * as notifications from './2026-12-01-005-notifications.ts'
import * as ingestCounts from './2026-12-02-006-ingest-counts.ts'
import * as segments from './2026-12-02-007-segments.ts'

/**
 * Every Postgres migration, by name (applied in name order). Listed statically rather than read from the
 * folder so that the same code runs under tsx, vitest and a bundler.
 */
export const postgresMigrations: Record<string, Migration> = {
  '2026-11-25-001-control-plane': controlPlane,
  '2026-11-25-002-decisioning': decisioning,
  '2026-12-01-003-metrics': metrics,
  '2026-12-01-004-budget-reservations': budgetReservations,
  '2026-12-01-005-notifications': notifications,
  '2026-12-02-006-ingest-counts': ingestCounts,
  '2026-12-02-007-segments': segments,
}
