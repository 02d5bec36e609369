import path from 'node:path'

/** Runtime configuration, read once from the environment with embedded defaults. */
export interface Config {
  port: number
  dataDir: string
  databaseUrl: string | null
  clickhouse: {
    url: string | null
    username: string
    password: string
    database: string
    /** Cluster name for ON CLUSTER DDL with Replicated/Distributed tables; null on a single server or chDB. */
    cluster: string | null
  }
  adminApiKey: string | null
  /** Seed the demo world when the stores are empty at start. */
  seedDemo: boolean
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR ?? './data')
  return {
    port: Number(env.PORT ?? 3000),
    dataDir,
    databaseUrl: env.DATABASE_URL || null,
    clickhouse: {
      url: env.CLICKHOUSE_URL || null,
      username: env.CLICKHOUSE_USER ?? 'default',
      password: env.CLICKHOUSE_PASSWORD ?? '',
      database: env.CLICKHOUSE_DATABASE ?? 'default',
      cluster: env.CLICKHOUSE_CLUSTER || null,
    },
    adminApiKey: env.ADMIN_API_KEY || null,
    seedDemo: (env.SEED_DEMO ?? '1') !== '0',
  }
}
