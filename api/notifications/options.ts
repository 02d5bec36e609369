import { randomBytes } from 'node:crypto'

/** SMTP settings: the SMTP_* environment variables, each overridable per email destination. */
export interface SmtpSettings {
  host?: string
  port?: number
  secure?: boolean
  user?: string
  password?: string
  from?: string
}

/** How notifications are sent (api/config.ts reads them from the environment; tests pass their own). */
export interface NotificationOptions {
  /** Key of the destination secrets' encryption (NOTIFICATIONS_SECRET_KEY); without one a key lives as long as the app. */
  secretKey?: string | Buffer
  /** Allow destinations on loopback and private networks (NOTIFICATIONS_ALLOW_PRIVATE=1). */
  allowPrivateAddresses?: boolean
  /** Base of the dashboard links in alerts and digests (PUBLIC_URL). */
  publicUrl?: string
  smtp?: SmtpSettings
  /** Tries before a notification is dead-lettered (NOTIFICATIONS_MAX_ATTEMPTS, default 8). */
  maxAttempts?: number
  /** First retry delay; each next one doubles, with jitter (NOTIFICATIONS_BACKOFF_MS, default 30 s). */
  backoffBaseMs?: number
  /** Longest retry delay (default 1 h). */
  backoffMaxMs?: number
  /** How often the scheduler evaluates alert rules and the digest schedule (NOTIFICATIONS_INTERVAL_MS, default 60 s). */
  intervalMs?: number
  /** How often the delivery worker looks for due notifications (default 2 s). */
  pollMs?: number
  /** One delivery attempt's time limit (default 10 s). */
  timeoutMs?: number
  /** Jitter source in [0, 1); tests pin it. */
  random?: () => number
}

export type ResolvedNotificationOptions = Required<Omit<NotificationOptions, 'secretKey' | 'publicUrl'>> & { secretKey: string | Buffer; publicUrl: string }

export function resolveNotificationOptions(o: NotificationOptions = {}): ResolvedNotificationOptions {
  return {
    secretKey: o.secretKey ?? randomBytes(32),
    allowPrivateAddresses: o.allowPrivateAddresses ?? false,
    publicUrl: (o.publicUrl ?? 'http://localhost:3000').replace(/\/+$/, ''),
    smtp: o.smtp ?? {},
    maxAttempts: o.maxAttempts ?? 8,
    backoffBaseMs: o.backoffBaseMs ?? 30_000,
    backoffMaxMs: o.backoffMaxMs ?? 3_600_000,
    intervalMs: o.intervalMs ?? 60_000,
    pollMs: o.pollMs ?? 2_000,
    timeoutMs: o.timeoutMs ?? 10_000,
    random: o.random ?? Math.random,
  }
}
