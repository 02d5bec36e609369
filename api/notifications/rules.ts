import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { z } from '@hono/zod-openapi'
import type { Database } from '../stores/schema.ts'
import { recordAudit } from '../audit/log.ts'
import { notFound } from '../domain-errors.ts'
import type { FieldError } from '../http/errors.ts'
import type { AlertRule, AlertRuleInput, AlertRecord } from './schema.ts'
import { FieldProblems, unknownDestinations } from './destinations.ts'

export type AlertRuleView = z.infer<typeof AlertRule>
type Input = z.infer<typeof AlertRuleInput>

type RuleRow = {
  id: string
  kind: string
  experiment_id: string | null
  destination_ids: string[]
  params: Record<string, unknown>
  enabled: boolean
  created_at: Date
  created_by: string
}
export const toRuleView = (r: RuleRow): AlertRuleView => ({
  id: r.id,
  kind: r.kind as AlertRuleView['kind'],
  experimentId: r.experiment_id,
  destinationIds: r.destination_ids,
  hours: typeof r.params.hours === 'number' ? r.params.hours : null,
  thresholdPct: typeof r.params.thresholdPct === 'number' ? r.params.thresholdPct : null,
  minRows: typeof r.params.minRows === 'number' ? r.params.minRows : null,
  enabled: r.enabled,
  createdAt: new Date(r.created_at).toISOString(),
  createdBy: r.created_by,
})

/**
 * Saves an alert rule: one condition (rules/evaluate.ts), for one experiment or every running one, sent to the
 * given destinations. Unknown destinations and experiments are refused by field, all at once.
 */
export async function createRule(db: Kysely<Database>, input: Input, actor: string, now = new Date()): Promise<AlertRuleView> {
  const problems: FieldError[] = []
  const unknown = await unknownDestinations(db, input.destinationIds)
  for (const id of unknown) problems.push({ field: `destinationIds.${input.destinationIds.indexOf(id)}`, message: `no destination '${id}'` })
  if (input.experimentId) {
    const exp = await db.selectFrom('experiments').select('id').where('id', '=', input.experimentId).executeTakeFirst()
    if (!exp) problems.push({ field: 'experimentId', message: `no experiment '${input.experimentId}'` })
  }
  if (input.hours !== undefined && input.kind !== 'no_exposures') problems.push({ field: 'hours', message: 'applies to no_exposures rules only' })
  const ingestion = input.kind === 'ingestion_rejections'
  // Ingestion is counted for all events together: a rule for one experiment would watch nothing of its own.
  if (ingestion && input.experimentId) problems.push({ field: 'experimentId', message: 'ingestion_rejections watches every event: omit experimentId' })
  for (const field of ['thresholdPct', 'minRows'] as const)
    if (input[field] !== undefined && !ingestion) problems.push({ field, message: 'applies to ingestion_rejections rules only' })
  if (problems.length) throw new FieldProblems(problems)
  const id = `rule_${randomBytes(6).toString('hex')}`
  const params =
    input.kind === 'no_exposures' ? { hours: input.hours ?? 24 } : ingestion ? { thresholdPct: input.thresholdPct ?? 5, minRows: input.minRows ?? 100 } : {}
  const row = {
    id,
    kind: input.kind,
    experiment_id: input.experimentId ?? null,
    destination_ids: [...new Set(input.destinationIds)],
    params,
    enabled: input.enabled ?? true,
    created_at: now,
    created_by: actor,
  }
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('alert_rules')
      .values({ ...row, destination_ids: JSON.stringify(row.destination_ids), params: JSON.stringify(params) })
      .execute()
    await recordAudit(trx, { actor, action: 'alert_rule.create', entityType: 'alert_rule', entityId: id, after: toRuleView(row) }, now)
  })
  return toRuleView(row)
}

export async function listRules(db: Kysely<Database>): Promise<AlertRuleView[]> {
  return (await db.selectFrom('alert_rules').selectAll().orderBy('created_at').orderBy('id').execute()).map(toRuleView)
}

export async function deleteRule(db: Kysely<Database>, id: string, actor: string, now = new Date()): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx.deleteFrom('alert_rules').where('id', '=', id).returningAll().executeTakeFirst()
    if (!row) throw notFound('alert rule', id)
    await trx.deleteFrom('alert_states').where('rule_id', '=', id).execute()
    await recordAudit(trx, { actor, action: 'alert_rule.delete', entityType: 'alert_rule', entityId: id, before: toRuleView(row) }, now)
  })
}

/** Recorded alerts, newest first. */
export async function listAlerts(db: Kysely<Database>, limit = 100): Promise<Array<z.infer<typeof AlertRecord>>> {
  const rows = await db.selectFrom('alerts').selectAll().orderBy('id', 'desc').limit(limit).execute()
  return rows.map((r) => ({
    id: r.id,
    ruleId: r.rule_id,
    kind: r.kind,
    subject: r.subject,
    state: r.state,
    previousState: r.previous_state,
    title: r.title,
    text: r.text,
    link: r.link,
    firedAt: new Date(r.fired_at).toISOString(),
  }))
}
