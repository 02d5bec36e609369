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

/** A setting the server cannot start with; the message says what to change. */
export class ConfigError extends Error {}

/** ADMIN_API_KEY is a bearer credential chosen by a person, so it must be long enough not to be guessed. */
export const MIN_ADMIN_KEY_LENGTH = 32

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR ?? './data')
  const adminApiKey = env.ADMIN_API_KEY || null
  if (adminApiKey !== null && adminApiKey.length < MIN_ADMIN_KEY_LENGTH) {
    throw new ConfigError(
      `ADMIN_API_KEY is ${adminApiKey.length} characters; it must be at least ${MIN_ADMIN_KEY_LENGTH} (for example: ADMIN_API_KEY=$(openssl rand -base64 32)), or leave it unset to have the first start generate a key`,
    )
  }
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
    adminApiKey,
    seedDemo: (env.SEED_DEMO ?? '1') !== '0',
  }
}
