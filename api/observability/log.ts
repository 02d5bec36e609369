import pino, { type Logger } from 'pino'

export type { Logger }

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * Field names whose values never reach a log line, wherever a caller puts them: API keys travel in
 * `Authorization`, the ClickHouse password in the client's settings. A logged object carrying one of them shows
 * `[redacted]` instead of the value.
 */
const secretPaths = ['authorization', 'password', 'key', 'apiKey', 'scrapeKey', 'adminApiKey', 'cookie']
const redact = { paths: [...secretPaths, ...secretPaths.map((p) => `*.${p}`), '*.headers.authorization', '*.headers.cookie'], censor: '[redacted]' }

/**
 * A logger writing one JSON object per line: `time` (ISO-8601), `level` (a name, not pino's number), `pid`,
 * `hostname`, `msg`, and the fields given. Lines are written asynchronously: those logged while a write is under
 * way go out together in the next one, so an access line per request costs a share of one write() per event-loop
 * turn instead of a blocking write() each (12% of the event loop's samples in a CPU profile under `/v1/decide`
 * with synchronous writes to a pipe). What is still buffered is written synchronously when the process exits, `process.exit` after a shutdown
 * or a fatal start error included; only a kill by signal can lose the last lines.
 *
 * @example
 * const log = createLogger({ level: 'info' })
 * log.info({ table: 'events', rows: 120 }, 'inserted')
 */
export function createLogger(opts: { level?: LogLevel; destination?: pino.DestinationStream | number } = {}): Logger {
  const destination = typeof opts.destination === 'object' ? opts.destination : pino.destination({ dest: opts.destination ?? 1, sync: false })
  return pino(
    {
      level: opts.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact,
    },
    destination,
  )
}

/**
 * The process's logger, for code that runs outside a request (group commit, cache refresh, store checks). A
 * request's own lines go through the child logger the request middleware makes (with its `reqId`).
 * bin/server.ts sets its level from LOG_LEVEL; the default is `info` to stdout.
 */
export const log: Logger = createLogger({
  level: (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL ?? '') ? (process.env.LOG_LEVEL as LogLevel) : 'info',
})

/** `{ err: { type, message } }` for a caught value, with the message cut to `max` characters (a store's text may quote rows). */
export function errorFields(error: unknown, max = 500): { err: { type: string; message: string } } {
  if (error instanceof Error) return { err: { type: error.name, message: error.message.slice(0, max) } }
  return { err: { type: typeof error, message: String(error).slice(0, max) } }
}
