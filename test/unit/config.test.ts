import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, MIN_ADMIN_KEY_LENGTH, type Config } from '../../api/config.ts'

/** The ConfigError loadConfig throws for `env`; fails the test when it throws nothing or something else. */
function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

type Setting = { name: string; read: (c: Config) => number; min: number; whole: boolean }

// Every numeric variable, where loadConfig puts it, and the smallest value it takes.
const settings: Setting[] = [
  { name: 'PORT', read: (c) => c.port, min: 0, whole: true },
  { name: 'MAX_CONCURRENT_REQUESTS', read: (c) => c.admission.maxConcurrentRequests, min: 1, whole: true },
  { name: 'MAX_BODY_BYTES_IN_FLIGHT', read: (c) => c.admission.maxBodyBytesInFlight, min: 1, whole: true },
  { name: 'MAX_CONNECTIONS', read: (c) => c.http.maxConnections, min: 1, whole: true },
  { name: 'REQUEST_TIMEOUT_MS', read: (c) => c.http.requestTimeoutMs, min: 100, whole: true },
  { name: 'HEADERS_TIMEOUT_MS', read: (c) => c.http.headersTimeoutMs, min: 100, whole: true },
  { name: 'KEEP_ALIVE_TIMEOUT_MS', read: (c) => c.http.keepAliveTimeoutMs, min: 100, whole: true },
  { name: 'AUTH_FAILURES_PER_MINUTE', read: (c) => c.auth.failuresPerMinute, min: 0, whole: false },
  { name: 'AUTH_FAILURE_BURST', read: (c) => c.auth.failureBurst, min: 1, whole: true },
  { name: 'RATE_LIMIT_PER_KEY', read: (c) => c.auth.requestsPerSecondPerKey, min: 0, whole: false },
  { name: 'RATE_LIMIT_BURST', read: (c) => c.auth.keyBurst, min: 1, whole: true },
]
const wholeSettings = settings.filter((s) => s.whole)
const decimalSettings = settings.filter((s) => !s.whole)

const validAdminKey = 'k'.repeat(MIN_ADMIN_KEY_LENGTH)

describe('loadConfig', () => {
  describe('defaults', () => {
    it('serves on port 3000 from ./data with the embedded stores when nothing is set', () => {
      const config = loadConfig({})
      expect(config.port).toBe(3000)
      expect(config.dataDir).toBe(path.resolve('./data'))
      expect(config.databaseUrl).toBeNull()
      expect(config.clickhouse).toEqual({ url: null, username: 'default', password: '', database: 'default', cluster: null })
      expect(config.adminApiKey).toBeNull()
      expect(config.seedDemo).toBe(true)
    })

    it('uses the documented limits when nothing is set', () => {
      const config = loadConfig({})
      expect(config.admission).toEqual({ maxConcurrentRequests: 256, maxBodyBytesInFlight: 12 * 1024 * 1024 })
      expect(config.auth).toEqual({ failuresPerMinute: 60, failureBurst: 20, requestsPerSecondPerKey: 0, keyBurst: 1 })
      expect(config.http).toEqual({ maxConnections: 4096, requestTimeoutMs: 30_000, headersTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 })
    })

    it.each(settings.map((s) => s.name))('treats an empty %s as unset', (name) => {
      const setting = settings.find((s) => s.name === name)!
      expect(setting.read(loadConfig({ [name]: '' }))).toBe(setting.read(loadConfig({})))
    })

    it('treats empty DATABASE_URL, CLICKHOUSE_URL, CLICKHOUSE_CLUSTER and ADMIN_API_KEY as unset', () => {
      const config = loadConfig({ DATABASE_URL: '', CLICKHOUSE_URL: '', CLICKHOUSE_CLUSTER: '', ADMIN_API_KEY: '' })
      expect(config.databaseUrl).toBeNull()
      expect(config.clickhouse.url).toBeNull()
      expect(config.clickhouse.cluster).toBeNull()
      expect(config.adminApiKey).toBeNull()
    })

    it('reads only the environment it is given', () => {
      const config = loadConfig({ MAX_CONNECTIONS: '17' })
      expect(config.http.maxConnections).toBe(17)
      expect(loadConfig({}).http.maxConnections).toBe(4096)
    })
  })

  describe('stores and start-up settings', () => {
    it('resolves DATA_DIR to an absolute path', () => {
      expect(loadConfig({ DATA_DIR: 'var/lab' }).dataDir).toBe(path.resolve('var/lab'))
      expect(loadConfig({ DATA_DIR: '/srv/lab/' }).dataDir).toBe('/srv/lab')
      expect(path.isAbsolute(loadConfig({ DATA_DIR: '.' }).dataDir)).toBe(true)
    })

    it('reads the Postgres and ClickHouse connection settings', () => {
      const config = loadConfig({
        DATABASE_URL: 'postgres://lab@db/lab',
        CLICKHOUSE_URL: 'http://ch:8123',
        CLICKHOUSE_USER: 'lab',
        CLICKHOUSE_PASSWORD: 's3cret',
        CLICKHOUSE_DATABASE: 'retention',
        CLICKHOUSE_CLUSTER: 'main',
      })
      expect(config.databaseUrl).toBe('postgres://lab@db/lab')
      expect(config.clickhouse).toEqual({ url: 'http://ch:8123', username: 'lab', password: 's3cret', database: 'retention', cluster: 'main' })
    })

    it('turns the demo seed off only for SEED_DEMO=0', () => {
      expect(loadConfig({ SEED_DEMO: '0' }).seedDemo).toBe(false)
      expect(loadConfig({ SEED_DEMO: '1' }).seedDemo).toBe(true)
      expect(loadConfig({ SEED_DEMO: 'false' }).seedDemo).toBe(true)
    })
  })

  describe('ADMIN_API_KEY', () => {
    it(`accepts a key of exactly ${MIN_ADMIN_KEY_LENGTH} characters`, () => {
      expect(loadConfig({ ADMIN_API_KEY: validAdminKey }).adminApiKey).toBe(validAdminKey)
    })

    it('refuses a key one character short, saying its length, the minimum and how to make one', () => {
      const error = refusal({ ADMIN_API_KEY: validAdminKey.slice(1) })
      expect(error.message).toContain('ADMIN_API_KEY')
      expect(error.message).toContain(`is ${MIN_ADMIN_KEY_LENGTH - 1} characters`)
      expect(error.message).toContain(`at least ${MIN_ADMIN_KEY_LENGTH}`)
      expect(error.message).toContain('openssl rand')
    })

    it('refuses a one-character key', () => {
      expect(refusal({ ADMIN_API_KEY: 'x' }).message).toContain('ADMIN_API_KEY is 1 characters')
    })

    it('never puts the key itself in the error', () => {
      const short = 'short-but-secret-admin-key'
      expect(refusal({ ADMIN_API_KEY: short }).message).not.toContain(short)
    })
  })

  describe('numeric settings', () => {
    it.each(settings.map((s) => s.name))('reads %s', (name) => {
      const setting = settings.find((s) => s.name === name)!
      // REQUEST_TIMEOUT_MS is raised alongside so that HEADERS_TIMEOUT_MS may take the value too.
      expect(setting.read(loadConfig({ REQUEST_TIMEOUT_MS: '60000', [name]: '4321' }))).toBe(4321)
    })

    it.each(settings.map((s) => s.name))('accepts the smallest allowed %s', (name) => {
      const setting = settings.find((s) => s.name === name)!
      expect(setting.read(loadConfig({ [name]: String(setting.min) }))).toBe(setting.min)
    })

    it('ignores whitespace around a number', () => {
      expect(loadConfig({ MAX_CONNECTIONS: ' 64\n' }).http.maxConnections).toBe(64)
    })

    it('takes a whole number written with a zero fraction', () => {
      expect(loadConfig({ MAX_CONCURRENT_REQUESTS: '8.0' }).admission.maxConcurrentRequests).toBe(8)
    })

    it.each(decimalSettings.map((s) => s.name))('accepts a fraction for %s', (name) => {
      const setting = settings.find((s) => s.name === name)!
      expect(setting.read(loadConfig({ [name]: '0.5' }))).toBe(0.5)
    })

    it('turns a throttle off with a rate of 0', () => {
      const config = loadConfig({ AUTH_FAILURES_PER_MINUTE: '0', RATE_LIMIT_PER_KEY: '0' })
      expect(config.auth.failuresPerMinute).toBe(0)
      expect(config.auth.requestsPerSecondPerKey).toBe(0)
    })
  })

  describe('numeric settings refused', () => {
    const malformed = ['abc', '-1', '-0', '1e3', '0x10', '12abc', '1,000', '1_000', '.5', '5.', 'Infinity', 'NaN', '+5', '5 5']

    for (const setting of settings) {
      it(`refuses ${setting.name} that is not a plain decimal number, naming the variable and the value`, () => {
        for (const raw of malformed) {
          const error = refusal({ [setting.name]: raw })
          expect(error.message).toContain(setting.name)
          expect(error.message).toContain(`"${raw}"`)
        }
      })
    }

    it.each(wholeSettings.map((s) => s.name))('refuses a fraction for %s, which must be whole', (name) => {
      const error = refusal({ [name]: '2.5', REQUEST_TIMEOUT_MS: name === 'REQUEST_TIMEOUT_MS' ? '2.5' : '60000' })
      expect(error.message).toContain(`${name} is "2.5"`)
      expect(error.message).toContain('whole number')
    })

    it.each(settings.filter((s) => s.min > 0).map((s) => s.name))('refuses %s below its minimum, saying the minimum and the default', (name) => {
      const setting = settings.find((s) => s.name === name)!
      const below = String(setting.min - 1)
      const error = refusal({ [name]: below })
      expect(error.message).toContain(`${name} is "${below}"`)
      expect(error.message).toContain(`at least ${setting.min}`)
      expect(error.message).toMatch(/\(default \d+\)/)
    })

    it.each(['MAX_CONCURRENT_REQUESTS', 'MAX_BODY_BYTES_IN_FLIGHT', 'MAX_CONNECTIONS', 'AUTH_FAILURE_BURST', 'RATE_LIMIT_BURST'])(
      'refuses %s=0, which would refuse every request',
      (name) => {
        expect(refusal({ [name]: '0' }).message).toContain(name)
      },
    )

    it.each(settings.map((s) => s.name))('refuses an absurdly large %s, naming the variable', (name) => {
      for (const raw of ['9'.repeat(25), '1'.repeat(400)]) {
        expect(refusal({ [name]: raw }).message).toContain(name)
      }
    })

    it('refuses a number past what Node can hold exactly, which its server would refuse with a stack trace', () => {
      expect(loadConfig({ KEEP_ALIVE_TIMEOUT_MS: String(Number.MAX_SAFE_INTEGER) }).http.keepAliveTimeoutMs).toBe(Number.MAX_SAFE_INTEGER)
      expect(refusal({ KEEP_ALIVE_TIMEOUT_MS: String(Number.MAX_SAFE_INTEGER + 1) }).message).toContain('KEEP_ALIVE_TIMEOUT_MS')
    })

    it('refuses a port that is not a TCP port', () => {
      expect(loadConfig({ PORT: '65535' }).port).toBe(65535)
      expect(refusal({ PORT: '65536' }).message).toContain('PORT is "65536"')
      expect(refusal({ PORT: 'http' }).message).toContain('PORT is "http"')
    })
  })

  describe('timeouts', () => {
    it('lowers the headers timeout to a request timeout shorter than 30 s', () => {
      expect(loadConfig({ REQUEST_TIMEOUT_MS: '5000' }).http.headersTimeoutMs).toBe(5000)
    })

    it('keeps the headers timeout at 30 s when the request timeout is longer', () => {
      const config = loadConfig({ REQUEST_TIMEOUT_MS: '120000' })
      expect(config.http.requestTimeoutMs).toBe(120_000)
      expect(config.http.headersTimeoutMs).toBe(30_000)
    })

    it('accepts a headers timeout equal to the request timeout', () => {
      const config = loadConfig({ REQUEST_TIMEOUT_MS: '10000', HEADERS_TIMEOUT_MS: '10000' })
      expect(config.http.headersTimeoutMs).toBe(10_000)
    })

    it('refuses a headers timeout longer than the request timeout, naming both and their values', () => {
      const message = refusal({ REQUEST_TIMEOUT_MS: '10000', HEADERS_TIMEOUT_MS: '10001' }).message
      expect(message).toContain('HEADERS_TIMEOUT_MS (10001)')
      expect(message).toContain('REQUEST_TIMEOUT_MS (10000)')
    })

    it('refuses a headers timeout longer than the default request timeout', () => {
      expect(refusal({ HEADERS_TIMEOUT_MS: '30001' }).message).toContain('REQUEST_TIMEOUT_MS (30000)')
    })
  })

  describe('per-key rate limit', () => {
    it.each([
      ['0.5', 1],
      ['1', 1],
      ['2.5', 3],
      ['100', 100],
    ])('lets a key burst to the rate rounded up (RATE_LIMIT_PER_KEY=%s → %i) when RATE_LIMIT_BURST is unset', (rate, burst) => {
      expect(loadConfig({ RATE_LIMIT_PER_KEY: rate }).auth.keyBurst).toBe(burst)
    })

    it('takes RATE_LIMIT_BURST over the default, below or above the rate', () => {
      expect(loadConfig({ RATE_LIMIT_PER_KEY: '50', RATE_LIMIT_BURST: '5' }).auth.keyBurst).toBe(5)
      expect(loadConfig({ RATE_LIMIT_PER_KEY: '2', RATE_LIMIT_BURST: '500' }).auth.keyBurst).toBe(500)
    })

    it('says the burst default it would have used', () => {
      expect(refusal({ RATE_LIMIT_PER_KEY: '7.2', RATE_LIMIT_BURST: '0' }).message).toContain('(default 8)')
    })
  })
})
