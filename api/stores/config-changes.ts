import pg from 'pg'
import { databaseUrlOf, type Db } from './postgres.ts'
import { errorFields, log } from '../observability/log.ts'

/** The channel the config tables' triggers notify on (migration 004): the payload is the table's name. */
export const CONFIG_CHANNEL = 'retention_config'

export interface ConfigListener {
  close(): Promise<void>
}

/**
 * Tells this process at once when any process changes experiments, policies, triggers or settings: a dedicated
 * connection LISTENs on the channel the tables' triggers notify (`pg_notify` is delivered at commit). The poll
 * stays as the fallback; a lost connection is reopened after `retryMs`, and `onChange` runs on every reconnect
 * too, since notices sent meanwhile are gone. Embedded PGlite needs none of this — one process owns its data
 * directory — and gets null.
 */
export async function listenForConfigChanges(db: Db, onChange: (table: string) => void, retryMs = 1000): Promise<ConfigListener | null> {
  const url = databaseUrlOf(db)
  if (!url) return null
  let client: pg.Client | null = null
  let closed = false
  let timer: NodeJS.Timeout | null = null
  const connect = async (first: boolean) => {
    const c = new pg.Client({ connectionString: url })
    c.on('notification', (n) => n.channel === CONFIG_CHANNEL && onChange(n.payload ?? ''))
    c.on('error', (e) => log.warn(errorFields(e), 'config-change listener connection failed; reconnecting'))
    c.on('end', () => {
      if (client === c) client = null
      if (!closed) timer = setTimeout(() => void reconnect(), retryMs)
    })
    await c.connect()
    await c.query(`LISTEN ${CONFIG_CHANNEL}`)
    client = c
    if (!first) onChange('*')
  }
  const reconnect = async () => {
    try {
      await connect(false)
    } catch (e) {
      log.warn(errorFields(e), 'config-change listener could not reconnect; retrying')
      if (!closed) timer = setTimeout(() => void reconnect(), retryMs)
    }
  }
  await connect(true)
  return {
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      await client?.end()
    },
  }
}

/**
 * Runs `refresh` for a burst of notices without missing one: a notice that arrives while a refresh is running
 * starts another once it ends (that refresh may have read before the change), and notices meanwhile share it.
 */
export function coalescedRefresh(refresh: () => Promise<void>): () => void {
  let running = false
  let again = false
  const run = async () => {
    if (running) {
      again = true
      return
    }
    running = true
    try {
      do {
        again = false
        await refresh().catch((e) => log.error(errorFields(e), 'refresh after a config change failed'))
      } while (again)
    } finally {
      running = false
    }
  }
  return () => void run()
}
