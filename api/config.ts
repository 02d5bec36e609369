import path from 'node:path'
import type { NotificationOptions } from './notifications/options.ts'
import { LOG_LEVELS, type LogLevel } from './observability/log.ts'
import { DEFAULT_MAX_PROPERTY_COLUMNS } from './stores/property-columns.ts'

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
  /** How often config caches poll for other processes' changes: the fallback when a change notice is missed. */
  configPollMs: number
  /** JSON log lines at this level and above (api/observability/log.ts). */
  logLevel: LogLevel
  /** Bearer key of GET /metrics; null turns the endpoint off. */
  metricsScrapeKey: string | null
  /** Alerts, digests and their delivery (api/notifications/); secretKey null: the data directory's notifications.key. */
  notifications: Omit<NotificationOptions, 'secretKey'> & { secretKey: string | null }
  /** Load shedding before a body is read (api/http/admission.ts). */
  admission: {
    maxConcurrentRequests: number
    /** Declared (Content-Length) or arrived (chunked) body bytes of the requests in flight. */
    maxBodyBytesInFlight: number
  }
  /** Throttles in front of the key lookup (api/auth/middleware.ts); a rate of 0 turns a throttle off. */
  auth: {
    failuresPerMinute: number
    failureBurst: number
    requestsPerSecondPerKey: number
    keyBurst: number
  }
  /** Targeting's feature cache kept ahead of demand (api/segments/feature-refresh.ts); intervalMs 0 turns it off. */
  maxPropertyColumns: number
  featureRefresh: { intervalMs: number; preload: number }
  /** The Node server's own limits (bin/server.ts). */
  http: {
    maxConnections: number
    requestTimeoutMs: number
    headersTimeoutMs: number
    keepAliveTimeoutMs: number
  }
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
    port: numberSetting(env, 'PORT', 3000, { min: 0, max: 65_535 }),
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
    configPollMs: numberSetting(env, 'CONFIG_POLL_MS', 2000, { min: 100 }),
    maxPropertyColumns: numberSetting(env, 'PROPERTY_COLUMNS', DEFAULT_MAX_PROPERTY_COLUMNS, { min: 0, max: 500 }),
    featureRefresh: {
      intervalMs: numberSetting(env, 'FEATURE_REFRESH_MS', 5000, { min: 0 }),
      preload: numberSetting(env, 'FEATURE_PRELOAD', 100_000, { min: 0 }),
    },
    ...observability(env),
    notifications: notificationSettings(env),
    ...limits(env),
  }
}

/**
 * A number from the environment, or `fallback` when unset or empty. Past Number.MAX_SAFE_INTEGER a value is no longer
 * the one typed, Node's server refuses it as a timeout (with a stack trace), and 400 digits read as Infinity.
 */
function numberSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, opts: { min: number; max?: number; whole?: boolean }) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || value < opts.min || (opts.whole !== false && !Number.isInteger(value))) {
    throw new ConfigError(
      `${name} is "${raw}"; it must be ${opts.whole === false ? 'a number' : 'a whole number'} of at least ${opts.min} (default ${fallback})`,
    )
  }
  const max = opts.max ?? Number.MAX_SAFE_INTEGER
  if (value > max) throw new ConfigError(`${name} is "${raw}"; it must be at most ${max} (default ${fallback})`)
  return value
}

function observability(env: NodeJS.ProcessEnv): Pick<Config, 'logLevel' | 'metricsScrapeKey'> {
  const logLevel = env.LOG_LEVEL || 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new ConfigError(`LOG_LEVEL is "${logLevel}"; it must be one of ${LOG_LEVELS.join(', ')} (default info)`)
  const metricsScrapeKey = env.METRICS_SCRAPE_KEY || null
  // A scraper's credential, like ADMIN_API_KEY: long enough not to be guessed.
  if (metricsScrapeKey !== null && metricsScrapeKey.length < MIN_ADMIN_KEY_LENGTH)
    throw new ConfigError(
      `METRICS_SCRAPE_KEY is ${metricsScrapeKey.length} characters; it must be at least ${MIN_ADMIN_KEY_LENGTH} (for example: METRICS_SCRAPE_KEY=$(openssl rand -base64 32)), or leave it unset to turn /metrics off`,
    )
  return { logLevel: logLevel as LogLevel, metricsScrapeKey }
}

/** NOTIFICATIONS_* and SMTP_* (README → Notifications). */
function notificationSettings(env: NodeJS.ProcessEnv): Config['notifications'] {
  const secretKey = env.NOTIFICATIONS_SECRET_KEY || null
  if (secretKey !== null && secretKey.length < 32)
    throw new ConfigError(`NOTIFICATIONS_SECRET_KEY is ${secretKey.length} characters; it must be at least 32 (for example: $(openssl rand -base64 32))`)
  const publicUrl = env.PUBLIC_URL || undefined
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(publicUrl))
    throw new ConfigError(`PUBLIC_URL is "${publicUrl}"; it must be an http(s) URL such as https://lab.example.com`)
  return {
    secretKey,
    allowPrivateAddresses: env.NOTIFICATIONS_ALLOW_PRIVATE === '1',
    publicUrl: publicUrl ?? `http://localhost:${env.PORT || 3000}`,
    maxAttempts: numberSetting(env, 'NOTIFICATIONS_MAX_ATTEMPTS', 8, { min: 1, max: 50 }),
    backoffBaseMs: numberSetting(env, 'NOTIFICATIONS_BACKOFF_MS', 30_000, { min: 0 }),
    intervalMs: numberSetting(env, 'NOTIFICATIONS_INTERVAL_MS', 60_000, { min: 100 }),
    smtp: {
      host: env.SMTP_HOST || undefined,
      port: env.SMTP_PORT ? numberSetting(env, 'SMTP_PORT', 587, { min: 1, max: 65_535 }) : undefined,
      secure: env.SMTP_SECURE === '1',
      user: env.SMTP_USER || undefined,
      password: env.SMTP_PASSWORD || undefined,
      from: env.SMTP_FROM || undefined,
    },
  }
}

function limits(env: NodeJS.ProcessEnv): Pick<Config, 'admission' | 'auth' | 'http'> {
  const setting = (name: string, fallback: number, opts: { min: number; whole?: boolean }) => numberSetting(env, name, fallback, opts)
  const requestTimeoutMs = setting('REQUEST_TIMEOUT_MS', 30_000, { min: 100 })
  const headersTimeoutMs = setting('HEADERS_TIMEOUT_MS', Math.min(30_000, requestTimeoutMs), { min: 100 })
  // Node refuses to create the server otherwise; say which setting to change instead of its stack trace.
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError(`HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs})`)
  const requestsPerSecondPerKey = setting('RATE_LIMIT_PER_KEY', 0, { min: 0, whole: false })
  return {
    admission: {
      maxConcurrentRequests: setting('MAX_CONCURRENT_REQUESTS', 256, { min: 1 }),
      maxBodyBytesInFlight: setting('MAX_BODY_BYTES_IN_FLIGHT', 12 * 1024 * 1024, { min: 1 }),
    },
    auth: {
      failuresPerMinute: setting('AUTH_FAILURES_PER_MINUTE', 60, { min: 0, whole: false }),
      failureBurst: setting('AUTH_FAILURE_BURST', 20, { min: 1 }),
      requestsPerSecondPerKey,
      keyBurst: setting('RATE_LIMIT_BURST', Math.max(1, Math.ceil(requestsPerSecondPerKey)), { min: 1 }),
    },
    http: {
      maxConnections: setting('MAX_CONNECTIONS', 4096, { min: 1 }),
      requestTimeoutMs,
      headersTimeoutMs,
      keepAliveTimeoutMs: setting('KEEP_ALIVE_TIMEOUT_MS', 5_000, { min: 100 }),
    },
  }
}
