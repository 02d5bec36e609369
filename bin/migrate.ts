import { loadConfig } from '../api/config.ts'
import { openStores } from '../api/stores/open.ts'

// Owner-only files, as for the server (bin/server.ts): the stores hold customer ids and revenue.
process.umask(0o077)

// `npm run migrate`: applies both sets of migrations and exits. The server also runs this at start.
const config = loadConfig()
const { db, ch, migrated } = await openStores(config)
console.log(`Postgres: ${migrated.postgres.length ? migrated.postgres.join(', ') : 'up to date'}`)
console.log(`ClickHouse: ${migrated.clickhouse.length ? migrated.clickhouse.join(', ') : 'up to date'}`)
await db.destroy()
await ch.close()
