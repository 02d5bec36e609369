import type { Logger as ClickHouseLogger } from '@clickhouse/client'
import { errorFields, log } from './log.ts'

type Params = Parameters<ClickHouseLogger['warn']>[0]
const fields = ({ module, args, err }: Params) => ({ module: `@clickhouse/client ${module}`, ...(args ? { args } : {}), ...(err ? errorFields(err) : {}) })

/**
 * @clickhouse/client's own messages (its configuration warnings, request failures) as JSON lines of the process log,
 * instead of the plain text with stack traces it writes to stderr by default.
 *
 * @example
 * createClient({ url, log: { LoggerClass: ClickHouseClientLog, level: ClickHouseLogLevel.WARN } })
 */
export class ClickHouseClientLog implements ClickHouseLogger {
  trace(p: Params) {
    log.trace(fields(p), p.message)
  }
  debug(p: Params) {
    log.debug(fields(p), p.message)
  }
  info(p: Params) {
    log.info(fields(p), p.message)
  }
  warn(p: Params) {
    log.warn(fields(p), p.message)
  }
  error(p: Params) {
    log.error(fields(p), p.message)
  }
}
