import { loadConfig } from '../api/config.ts'
import { openPostgres } from '../api/stores/postgres.ts'
import { openClickHouse } from '../api/stores/clickhouse.ts'
import { migrateClickHouse, migratePostgres } from '../api/stores/migrate.ts'

// Owner-only files, as for the server (bin/server.ts): the stores hold customer ids and revenue.
process.umask(0o077)

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
