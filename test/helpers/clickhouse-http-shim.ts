/**
 * TEST ONLY — a stand-in for a ClickHouse server's HTTP interface (port 8123), answering from chDB, so that the API's
 * `CLICKHOUSE_URL` code path (@clickhouse/client over HTTP: auth, settings, query parameters, inserts, errors,
 * retries) runs in tests without a ClickHouse server. Never used by the product.
 *
 * What it speaks, as a ClickHouse server does (https://clickhouse.com/docs/interfaces/http):
 * - `GET /ping` → `Ok.`; `GET /?query=…` (read-only statements) and `POST /` with the query in the body, in the
 *   `query` URL parameter, or both (URL part first, then the body: `INSERT … FORMAT JSONEachRow` + rows);
 * - credentials as HTTP basic auth, `X-ClickHouse-User`/`X-ClickHouse-Key` headers or `user`/`password` parameters;
 * - `database`, `default_format`, `query_id`, `param_<name>` (bound server-side, as the text the client formatted),
 *   and any other URL parameter as a setting of that one query;
 * - answers in the format the statement names (else `default_format`, else TabSeparated), `X-ClickHouse-Summary`,
 *   `X-ClickHouse-Query-Id`, `X-ClickHouse-Format`; gzip when `enable_http_compression=1` and the client accepts it;
 * - errors as ClickHouse sends them: `Code: N. DB::Exception: … (NAME) (version …)` in the body,
 *   `X-ClickHouse-Exception-Code: N`, and the status ClickHouse maps that code to
 *   (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp: 403 for a refused login, 400 for syntax, 404 for unknown
 *   tables, 500 otherwise).
 * Each request runs on a fresh chDB session over the shim's data directory (settings, parameters and `USE` do not
 * leak between requests, as over HTTP without `session_id`), one request at a time.
 *
 * Faults for tests: `inject({ times, mode, match })` makes the next matching requests fail — `unavailable` (a
 * proxy's 503 page), `drop` (the connection closed before the query runs) or `drop_after` (closed after the query
 * ran, so a retry must not store twice).
 */
import http from 'node:http'
import zlib from 'node:zlib'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Session } from 'chdb'

export type FaultMode = 'unavailable' | 'drop' | 'drop_after'

export interface ShimRequest {
  method: string
  /** The statement as run (URL query + body), cut to 2,000 characters. */
  sql: string
  user: string
  /** `param_*` values by name, as the client sent them. */
  params: Record<string, string>
  settings: Record<string, string>
  status: number | 'dropped'
  fault?: FaultMode
}

const STATUS_BY_NAME: Record<string, number> = {
  REQUIRED_PASSWORD: 401,
  ...Object.fromEntries(['UNKNOWN_USER', 'WRONG_PASSWORD', 'AUTHENTICATION_FAILED', 'SET_NON_GRANTED_ROLE', 'ACCESS_DENIED'].map((n) => [n, 403])),
  ...Object.fromEntries(
    [
      'BAD_ARGUMENTS',
      'CANNOT_PARSE_TEXT',
      'CANNOT_PARSE_ESCAPE_SEQUENCE',
      'CANNOT_PARSE_QUOTED_STRING',
      'CANNOT_PARSE_DATE',
      'CANNOT_PARSE_DATETIME',
      'CANNOT_PARSE_NUMBER',
      'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
      'CANNOT_PARSE_UUID',
      'DUPLICATE_COLUMN',
      'ILLEGAL_COLUMN',
      'THERE_IS_NO_COLUMN',
      'SYNTAX_ERROR',
      'INCORRECT_DATA',
      'TYPE_MISMATCH',
      'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
    ].map((n) => [n, 400]),
  ),
  ...Object.fromEntries(
    ['UNKNOWN_TABLE', 'UNKNOWN_FUNCTION', 'UNKNOWN_IDENTIFIER', 'UNKNOWN_TYPE', 'UNKNOWN_STORAGE', 'UNKNOWN_DATABASE', 'UNKNOWN_SETTING', 'UNKNOWN_FORMAT'].map(
      (n) => [n, 404],
    ),
  ),
  QUERY_IS_TOO_LARGE: 413,
  NOT_IMPLEMENTED: 501,
  SOCKET_TIMEOUT: 503,
  TIMEOUT_EXCEEDED: 408,
}

/** URL parameters that are not settings of the query. */
const NOT_SETTINGS = new Set(['query', 'database', 'default_format', 'user', 'password', 'query_id', 'session_id', 'role'])
/** Settings only the HTTP layer reads; the embedded engine has no use for them (chdb/connection drops the same ones). */
const HTTP_ONLY = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_response_buffer_size',
  'enable_http_compression',
  'http_zlib_compression_level',
])

const CONTENT_TYPES: Record<string, string> = {
  JSONEachRow: 'application/x-ndjson; charset=UTF-8',
  JSONCompactEachRow: 'application/x-ndjson; charset=UTF-8',
  JSON: 'application/json; charset=UTF-8',
  JSONCompact: 'application/json; charset=UTF-8',
  CSV: 'text/csv; charset=UTF-8; header=absent',
  CSVWithNames: 'text/csv; charset=UTF-8; header=present',
}

/** `'…'` as a ClickHouse string literal: the value reaches the engine unchanged. */
const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
const identifier = (s: string) => `\`${s.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``

class ShimError extends Error {
  constructor(
    readonly code: number,
    readonly name_: string,
    message: string,
  ) {
    super(`Code: ${code}. DB::Exception: ${message}. (${name_})`)
  }
}

function credentials(req: http.IncomingMessage, url: URL): { user: string; password: string } {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
  }
  const header = (name: string) => {
    const v = req.headers[name]
    return Array.isArray(v) ? v[0] : v
  }
  return {
    user: header('x-clickhouse-user') ?? url.searchParams.get('user') ?? 'default',
    password: header('x-clickhouse-key') ?? url.searchParams.get('password') ?? '',
  }
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks)
  const encoding = req.headers['content-encoding']
  return (encoding === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8')
}

/**
 * Starts the shim on a free port over chDB in `dataDir` (which must not be opened by anything else in this
 * process). `users` maps user names to passwords; by default only `default` with an empty password.
 *
 * @example
 * const shim = await startClickHouseHttpShim({ dataDir, users: { retention: 'secret' } })
 * // CLICKHOUSE_URL=shim.url CLICKHOUSE_USER=retention CLICKHOUSE_PASSWORD=secret
 * shim.inject({ times: 2, mode: 'unavailable', match: /^INSERT INTO events/ })
 */
export async function startClickHouseHttpShim(opts: { dataDir: string; users?: Record<string, string> }) {
  const users = opts.users ?? { default: '' }
  // Holds the data directory for the shim's lifetime; each request opens its own session on it.
  const anchor = new Session(opts.dataDir)
  const requests: ShimRequest[] = []
  const faults: Array<{ times: number; mode: FaultMode; match?: RegExp }> = []
  let queue: Promise<unknown> = Promise.resolve()
  const serially = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run, run)
    queue = next.catch(() => undefined)
    return next
  }

  async function run(sql: string, format: string) {
    const session = new Session(opts.dataDir)
    try {
      return await session.queryAsync(sql, { format })
    } finally {
      session.close()
    }
  }

  function fail(res: http.ServerResponse, error: unknown) {
    const message = error instanceof Error ? error.message : String(error)
    const m = /Code: (\d+)\..*\(([A-Z0-9_]+)\)/s.exec(message)
    const code = m ? Number(m[1]) : 1002
    const name = m?.[2] ?? 'UNKNOWN_EXCEPTION'
    const status = STATUS_BY_NAME[name] ?? 500
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': String(code) })
    res.end(`${m ? message.trim() : `Code: ${code}. DB::Exception: ${message}. (${name})`} (version chdb-shim)\n`)
    return status
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<ShimRequest | null> {
    const url = new URL(req.url ?? '/', 'http://shim')
    if (url.pathname === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' }).end('Ok.\n')
      return null
    }
    const body = req.method === 'POST' ? await readBody(req) : ''
    const sql = [url.searchParams.get('query') ?? '', body].filter((s) => s.trim() !== '').join('\n')
    const { user, password } = credentials(req, url)
    const params: Record<string, string> = {}
    const settings: Record<string, string> = {}
    for (const [k, v] of url.searchParams) {
      if (k.startsWith('param_')) params[k.slice(6)] = v
      else if (!NOT_SETTINGS.has(k)) settings[k] = v
    }
    const record: ShimRequest = { method: req.method ?? 'GET', sql: sql.slice(0, 2000), user, params, settings, status: 200 }
    if (url.pathname !== '/') {
      record.status = fail(res, new ShimError(1002, 'UNKNOWN_EXCEPTION', `no handler for ${url.pathname}`))
      return record
    }
    if (!(user in users) || users[user] !== password) {
      record.status = fail(
        res,
        new ShimError(516, 'AUTHENTICATION_FAILED', `${user}: Authentication failed: password is incorrect, or there is no user with such name`),
      )
      return record
    }
    const fault = faults.find((f) => f.times > 0 && (!f.match || f.match.test(sql)))
    if (fault) {
      fault.times--
      record.fault = fault.mode
      if (fault.mode === 'unavailable') {
        res.writeHead(503, { 'Content-Type': 'text/html' }).end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n')
        record.status = 503
        return record
      }
      if (fault.mode === 'drop') {
        req.socket.destroy()
        record.status = 'dropped'
        return record
      }
    }
    if (!sql.trim()) {
      record.status = fail(res, new ShimError(62, 'SYNTAX_ERROR', 'Empty query'))
      return record
    }
    if (req.method === 'GET' && !/^\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS)\b/i.test(sql)) {
      record.status = fail(res, new ShimError(164, 'READONLY', 'Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly'))
      return record
    }
    const statements = [
      `USE ${identifier(url.searchParams.get('database') ?? 'default')}`,
      ...Object.entries(settings)
        .filter(([k]) => !HTTP_ONLY.has(k))
        .map(([k, v]) => {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new ShimError(115, 'UNKNOWN_SETTING', `Unknown setting ${k}`)
          return `SET ${k} = ${sqlString(v)}`
        }),
      ...Object.entries(params).map(([k, v]) => `SET ${identifier(`param_${k}`)} = ${sqlString(v)}`),
      sql,
    ]
    const format = url.searchParams.get('default_format') ?? 'TabSeparated'
    let result
    try {
      result = await run(statements.join(';\n'), format)
    } catch (error) {
      record.status = fail(res, error)
      return record
    }
    if (fault?.mode === 'drop_after') {
      req.socket.destroy()
      record.status = 'dropped'
      return record
    }
    let bytes: Buffer = Buffer.from(result.bytes())
    const insert = /^\s*INSERT\b/i.test(sql)
    const formatUsed = (!insert && /\bFORMAT\s+(\w+)\s*;?\s*$/i.exec(sql)?.[1]) || format
    const written = insert ? String(result.rowsRead ?? 0) : '0'
    const headers: Record<string, string> = {
      'Content-Type': CONTENT_TYPES[formatUsed] ?? 'text/tab-separated-values; charset=UTF-8',
      'X-ClickHouse-Query-Id': url.searchParams.get('query_id') ?? randomUUID(),
      'X-ClickHouse-Format': formatUsed,
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Summary': JSON.stringify({
        read_rows: String(result.rowsRead ?? 0),
        read_bytes: String(result.bytesRead ?? 0),
        written_rows: written,
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: '0',
        result_bytes: String(bytes.length),
        elapsed_ns: String(Math.round((result.elapsed ?? 0) * 1e9)),
      }),
    }
    if (settings.enable_http_compression === '1' && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      bytes = zlib.gzipSync(bytes)
      headers['Content-Encoding'] = 'gzip'
    }
    res.writeHead(200, headers).end(bytes)
    return record
  }

  const server = http.createServer((req, res) => {
    serially(() => handle(req, res))
      .then((record) => record && requests.push(record))
      .catch((error: unknown) => {
        if (!res.headersSent) fail(res, error)
      })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    /** Every request answered (or dropped) except pings, oldest first. */
    requests,
    /** The next `times` requests whose statement matches `match` (all, without it) fail with `mode`. */
    inject(fault: { times: number; mode: FaultMode; match?: RegExp }) {
      faults.push({ ...fault })
    },
    /** Drops every fault not yet spent. */
    clearFaults() {
      faults.length = 0
    },
    /** Runs SQL on the shim's chDB directly (outside HTTP), in the request queue; returns the result's text. */
    async query(sql: string, format = 'JSONEachRow'): Promise<string> {
      return serially(async () => (await run(sql, format)).text())
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await queue
      anchor.close()
    },
  }
}
export type ClickHouseHttpShim = Awaited<ReturnType<typeof startClickHouseHttpShim>>
