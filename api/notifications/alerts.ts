import type { Kysely } from 'kysely'
import type { Database } from '../stores/schema.ts'
import type { ClickHouse } from '../stores/clickhouse.ts'
import type { ReportCache } from '../reports/cache.ts'
import type { Experiment } from '../experiments/schema.ts'
import { listExperiments } from '../experiments/store.ts'
import { currentReport } from './experiment-reports.ts'
import { fires, observe, observeProgram, type ExperimentFacts, type Observation } from './observe.ts'
import { budgetStatus } from '../reports/budget-status.ts'
import { ingestedBetween } from '../ingest/ingest-counts.ts'
import { enqueue } from './outbox.ts'
import type { NotificationMessage } from './message.ts'

export interface AlertDeps {
  db: Kysely<Database>
  ch: ClickHouse
  reports: ReportCache
  publicUrl: string
}

/**
 * One round of every enabled rule over the running experiments it watches (or, for a program rule such as
 * ingestion_rejections, over the program as a whole). A rule's state per subject is stored;
 * an alert fires only when the state changes into one worth telling (observe.ts → fires), is recorded in `alerts`
 * and queued for each of the rule's destinations in the same transaction. Returns the alerts fired.
 */
export async function evaluateRules(deps: AlertDeps, at: number): Promise<number> {
  const { db } = deps
  const rules = await db.selectFrom('alert_rules').selectAll().where('enabled', '=', true).orderBy('id').execute()
  if (!rules.length) return 0
  const running = (await listExperiments(db)).filter((e) => e.status === 'running')
  const stored = new Map(
    (await db.selectFrom('alert_states').select(['rule_id', 'subject', 'state']).execute()).map((s) => [`${s.rule_id}|${s.subject}`, s.state]),
  )
  const facts = new Map<string, ExperimentFacts>()
  const factsFor = (exp: Experiment) => facts.get(exp.id) ?? facts.set(exp.id, experimentFacts(deps, exp, at)).get(exp.id)!
  const program = { now: at, ingestedSince: (from: number) => ingestedBetween(db, new Date(from), new Date(at)) }
  let fired = 0
  for (const rule of rules) {
    // A program rule has one subject, 'program', and links to where its alerts and deliveries are listed.
    const subjects: Array<{ id: string; experimentId: string | null; link: string; look: () => Promise<Observation> }> = observeProgram[rule.kind]
      ? [{ id: 'program', experimentId: null, link: `${deps.publicUrl}/settings/notifications`, look: () => observeProgram[rule.kind](program, rule.params) }]
      : observe[rule.kind]
        ? running
            .filter((e) => !rule.experiment_id || e.id === rule.experiment_id)
            .map((exp) => ({
              id: exp.id,
              experimentId: exp.id,
              link: `${deps.publicUrl}/experiments/${encodeURIComponent(exp.id)}`,
              look: () => observe[rule.kind](factsFor(exp), rule.params),
            }))
        : []
    for (const subject of subjects) {
      let seen: Observation
      try {
        seen = await subject.look()
      } catch (error) {
        // One subject's failing read must not silence the others' alerts; the next round tries again.
        console.error(`alert rule ${rule.id} on ${subject.id}:`, error instanceof Error ? error.message : error)
        continue
      }
      const previous = stored.get(`${rule.id}|${subject.id}`)
      if (previous === seen.state) continue
      const didFire = await recordChange(
        db,
        {
          ruleId: rule.id,
          kind: rule.kind,
          subject: subject.id,
          experimentId: subject.experimentId,
          previous,
          seen,
          link: subject.link,
          destinations: rule.destination_ids,
        },
        new Date(at),
      )
      if (didFire) fired++
    }
  }
  return fired
}

/**
 * Stores the new state — only if the stored one is still `previous`, so two evaluators racing past the leader lock
 * cannot both fire — and, when the change fires, records the alert and queues it.
 */
async function recordChange(
  db: Kysely<Database>,
  c: {
    ruleId: string
    kind: string
    subject: string
    experimentId: string | null
    previous: string | undefined
    seen: Observation
    link: string
    destinations: string[]
  },
  at: Date,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const changed =
      c.previous === undefined
        ? await trx
            .insertInto('alert_states')
            .values({ rule_id: c.ruleId, subject: c.subject, state: c.seen.state, changed_at: at, evaluated_at: at })
            .onConflict((oc) => oc.columns(['rule_id', 'subject']).doNothing())
            .executeTakeFirst()
            .then((r) => Number(r.numInsertedOrUpdatedRows ?? 0))
        : await trx
            .updateTable('alert_states')
            .set({ state: c.seen.state, changed_at: at, evaluated_at: at })
            .where('rule_id', '=', c.ruleId)
            .where('subject', '=', c.subject)
            .where('state', '=', c.previous)
            .executeTakeFirst()
            .then((r) => Number(r.numUpdatedRows))
    if (!changed || !fires(c.kind, c.previous, c.seen)) return false
    const alert = await trx
      .insertInto('alerts')
      .values({
        rule_id: c.ruleId,
        kind: c.kind,
        subject: c.subject,
        state: c.seen.state,
        previous_state: c.previous ?? null,
        title: c.seen.title,
        text: c.seen.text,
        link: c.link,
        fired_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    const message: NotificationMessage = {
      type: 'alert',
      title: c.seen.title,
      text: c.seen.text,
      link: c.link,
      facts: c.seen.facts,
      data: { alertId: alert.id, ruleId: c.ruleId, kind: c.kind, experimentId: c.experimentId, state: c.seen.state, previousState: c.previous ?? null },
    }
    for (const destinationId of c.destinations)
      await enqueue(trx, { idempotencyKey: `alert:${alert.id}:${destinationId}`, destinationId, source: 'alert', message }, at)
    return true
  })
}

function experimentFacts(deps: AlertDeps, exp: Experiment, now: number): ExperimentFacts {
  const once = <T>(load: () => Promise<T>) => {
    let value: Promise<T> | null = null
    return () => (value ??= load())
  }
  return {
    exp,
    now,
    report: once(() => currentReport({ db: deps.db, ch: deps.ch, cache: deps.reports }, exp, now)),
    budget: once(async () => {
      const [status] = await budgetStatus(deps.db, [exp])
      return { spent: status?.spent ?? 0, reserved: status?.reserved ?? 0 }
    }),
    lastExposure: once(async () => {
      const r = await deps.ch.client.query({
        query: 'SELECT toUnixTimestamp64Milli(max(ts)) AS last, count() AS n FROM exposures WHERE experiment_id = {id:String}',
        query_params: { id: exp.id },
        format: 'JSONEachRow',
      })
      const [row] = await r.json<{ last: string; n: string }>()
      return row && Number(row.n) > 0 ? Number(row.last) : null
    }),
  }
}
