import { loadConfig } from '../config.ts'
import { openPostgres } from '../stores/postgres.ts'
import { openClickHouse } from '../stores/clickhouse.ts'
import { migrateClickHouse, migratePostgres } from '../stores/migrate.ts'

// `npm run migrate`: applies both sets of migrations and exits. The server also runs this at start.
const config = loadConfig()
const db = await openPostgres(config)
const ch = await openClickHouse(config)
const pgDone = await migratePostgres(db)
const chDone = await migrateClickHouse(ch)
console.log(`Postgres: ${pgDone.length ? pgDone.join(', ') : 'up to date'}`)
console.log(`ClickHouse: ${chDone.length ? chDone.join(', ') : 'up to date'}`)
await db.destroy()
await ch.close()
