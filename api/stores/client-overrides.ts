import type { ClickHouseClient } from '@clickhouse/client'

/**
 * `client` with some of its methods replaced; every other member is the client's own, bound to it. The layers in
 * front of a client (retries, the journal's read barrier, statement settings) each replace a few methods this way.
 */
export function overrideClient(
  client: ClickHouseClient,
  overrides: Partial<Pick<ClickHouseClient, 'query' | 'exec' | 'command' | 'insert'>>,
): ClickHouseClient {
  return new Proxy(client, {
    get(target, prop) {
      const replaced = (overrides as Record<PropertyKey, unknown>)[prop]
      if (replaced) return replaced
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
