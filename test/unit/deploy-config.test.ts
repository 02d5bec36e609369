import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { beforeAll, describe, expect, it } from 'vitest'
import { migrateClickHouse } from '../../api/stores/migrate.ts'
import type { ClickHouse } from '../../api/stores/clickhouse.ts'

// deploy/ cannot be started here (no container runtime), so this checks that its files agree with each other and with
// the DDL the ClickHouse migrations send in CLICKHOUSE_CLUSTER mode: cluster name, macros, hosts, Keeper, proxy.
const deploy = path.resolve(import.meta.dirname, '../../deploy')
const read = (file: string) => fs.readFileSync(path.join(deploy, file), 'utf8')
const tags = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1].trim())
/** Macros a ClickHouse server substitutes by itself in a Replicated table's path. */
const BUILTIN_MACROS = new Set(['database', 'table', 'uuid'])

type Service = { image?: string; build?: unknown; environment?: Record<string, string>; volumes?: string[]; command?: string[] }
let services: Record<string, Service>
let clusterXml: string
let clusterName: string
/** remote_servers: the hosts of each shard, in order. */
let shards: string[][]
/** What the migrations send to ClickHouse in cluster mode, in order. */
let ddl: string[]

beforeAll(async () => {
  services = parse(read('docker-compose.yml'), { merge: true }).services
  clusterXml = read('clickhouse/config.d/cluster.xml').replace(/<!--[\s\S]*?-->/g, '')
  const remote = /<remote_servers>\s*<(\w+)>([\s\S]*?)<\/\1>\s*<\/remote_servers>/.exec(clusterXml)!
  clusterName = remote[1]
  shards = [...remote[2].matchAll(/<shard>([\s\S]*?)<\/shard>/g)].map((m) => tags(m[1], 'host'))

  ddl = []
  const client = {
    command: async ({ query }: { query: string }) => void ddl.push(query),
    query: async () => ({ json: async () => [] }),
    insert: async () => undefined,
  }
  await migrateClickHouse({ client, cluster: clusterName, embedded: false, close: async () => undefined } as unknown as ClickHouse)
})

const clickhouseServices = () => Object.keys(services).filter((name) => services[name].image?.startsWith('clickhouse/clickhouse-server'))
const macrosOf = (service: string) => {
  const mount = services[service].volumes!.find((v) => v.endsWith(':/etc/clickhouse-server/config.d/macros.xml:ro'))
  expect(mount, `${service} mounts a macros.xml`).toBeDefined()
  const xml = fs.readFileSync(path.resolve(deploy, mount!.split(':')[0]), 'utf8')
  const block = /<macros>([\s\S]*?)<\/macros>/.exec(xml)![1]
  return Object.fromEntries([...block.matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((m) => [m[1], m[2].trim()]))
}

describe('deploy/ for a ClickHouse cluster', () => {
  it('defines 2 shards × 2 replicas, whose hosts are the compose ClickHouse services', () => {
    expect(shards.map((s) => s.length)).toEqual([2, 2])
    expect(shards.flat().sort()).toEqual(clickhouseServices().sort())
    expect(clusterXml).toContain('<internal_replication>true</internal_replication>')
  })

  it('sends every DDL statement ON CLUSTER with the remote_servers name, and nothing unclustered', () => {
    expect(ddl.length).toBeGreaterThan(0)
    // A backfill (INSERT … SELECT) is data, not DDL: it goes through the Distributed tables, which shard it.
    for (const statement of ddl.filter((s) => !s.startsWith('INSERT INTO '))) {
      expect(statement).toMatch(
        /^(CREATE TABLE IF NOT EXISTS|CREATE MATERIALIZED VIEW IF NOT EXISTS|ALTER TABLE|DROP (VIEW|TABLE) IF EXISTS) \w+ ON CLUSTER '(\w+)'/,
      )
      expect(/ON CLUSTER '(\w+)'/.exec(statement)![1]).toBe(clusterName)
    }
    for (const [, cluster] of ddl.join('\n').matchAll(/Distributed\('([^']*)'/g)) expect(cluster).toBe(clusterName)
  })

  it('uses only macros every node defines, with one (shard, replica) per node and the shard of its remote_servers entry', () => {
    const used = new Set([...ddl.join('\n').matchAll(/\{(\w+)\}/g)].map((m) => m[1]))
    expect([...used].sort()).toEqual(['database', 'replica', 'shard'])
    const perNode = new Map(clickhouseServices().map((s) => [s, macrosOf(s)]))
    for (const [node, macros] of perNode) for (const m of used) if (!BUILTIN_MACROS.has(m)) expect(macros[m], `${node} defines {${m}}`).toBeTruthy()
    expect(new Set([...perNode.values()].map((m) => `${m.shard}/${m.replica}`)).size).toBe(perNode.size)
    // Replicas of one remote_servers shard share a {shard}, so they share the table's Keeper path; shards differ.
    const shardMacros = shards.map((hosts) => new Set(hosts.map((h) => perNode.get(h)!.shard)))
    for (const set of shardMacros) expect(set.size).toBe(1)
    expect(new Set(shardMacros.map((s) => [...s][0])).size).toBe(shards.length)
  })

  it('gives each table a replicated local table with its own Keeper path and a Distributed table over it', () => {
    const creates = ddl.filter((s) => s.startsWith('CREATE TABLE'))
    const locals = creates.filter((s) => /ENGINE = Replicated\w*MergeTree/.test(s))
    const paths = locals.map((s) => /Replicated\w*MergeTree\('([^']+)', '\{replica\}'\)/.exec(s)?.[1])
    expect(paths.every(Boolean)).toBe(true)
    expect(new Set(paths).size).toBe(paths.length)
    for (const s of locals) {
      const table = /CREATE TABLE IF NOT EXISTS (\w+)/.exec(s)![1]
      expect(paths).toContain(`/clickhouse/tables/{shard}/{database}/${table}`)
    }
    const distributed = creates.filter((s) => s.includes('ENGINE = Distributed'))
    for (const table of ['events', 'exposures', 'suppressions']) {
      const d = distributed.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${table} `))
      expect(d, `a Distributed ${table}`).toMatch(
        new RegExp(`AS ${table}_local ENGINE = Distributed\\('${clusterName}', currentDatabase\\(\\), ${table}_local, cityHash64\\(customer_id\\)\\)`),
      )
      expect(locals.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${table}_local `))).toMatch(/customer_id String/)
    }
    // A materialised view reads a shard's local table and writes to that shard's local target table.
    const views = ddl.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'))
    expect(views.length).toBeGreaterThan(0)
    for (const v of views) expect(v).toMatch(/ TO \w+_local AS[\s\S]*\bFROM \w+_local\b/)
    // ALTERs go to the replicated local tables; a new column also to the Distributed table in front of them.
    for (const s of ddl.filter((x) => x.startsWith('ALTER')))
      expect(s).toMatch(/^ALTER TABLE \w+_local ON CLUSTER|^ALTER TABLE (events|exposures|suppressions) ON CLUSTER '\w+' ADD COLUMN /)
  })

  it('points the migration and every API process at the cluster by that name, with the configured user', () => {
    const apis = Object.entries(services).filter(([, s]) => s.build !== undefined)
    expect(apis.map(([name]) => name).sort()).toEqual(['api-1', 'api-2', 'api-3', 'migrate'])
    const users = read('clickhouse/users.d/retention.xml')
    for (const [name, s] of apis) {
      const env = s.environment!
      expect(env.CLICKHOUSE_CLUSTER, name).toBe(clusterName)
      expect(clickhouseServices(), name).toContain(new URL(env.CLICKHOUSE_URL).hostname)
      expect(Object.keys(services), name).toContain(new URL(env.DATABASE_URL.replace(/\$\{\w+\}/g, 'x')).hostname)
      expect(users, name).toContain(`<${env.CLICKHOUSE_USER}>`)
      expect(env.SEED_DEMO, name).toBe('0')
    }
    expect(users).toContain('<distributed_foreground_insert>1</distributed_foreground_insert>')
    expect(services.migrate.command).toEqual(['node', '--import', 'tsx', 'bin/migrate.ts'])
  })

  it('connects every node to the Keeper ensemble the compose file runs', () => {
    const zookeeper = /<zookeeper>([\s\S]*?)<\/zookeeper>/.exec(clusterXml)![1]
    const keepers = Object.keys(services).filter((n) => services[n].image?.startsWith('clickhouse/clickhouse-keeper'))
    expect(tags(zookeeper, 'host').sort()).toEqual(keepers.sort())
    const raft = read('clickhouse/keeper/keeper_config.xml')
    expect(tags(raft, 'hostname').sort()).toEqual(keepers.sort())
    const ids = new Map([...raft.matchAll(/<server><id>(\d+)<\/id><hostname>([^<]+)<\/hostname>/g)].map((m) => [m[2], m[1]] as const))
    for (const k of keepers) expect(services[k].environment!.KEEPER_SERVER_ID, k).toBe(ids.get(k))
    for (const port of tags(zookeeper, 'port')) expect(raft).toContain(`<tcp_port>${port}</tcp_port>`)
  })

  it('balances over exactly the API processes, passing a request id they honour', () => {
    const nginx = read('nginx/nginx.conf')
    const upstream = /upstream retention_api \{([\s\S]*?)\}/.exec(nginx)![1]
    const servers = [...upstream.matchAll(/server ([\w-]+):(\d+)/g)].map((m) => m[1])
    expect(servers.sort()).toEqual(['api-1', 'api-2', 'api-3'])
    expect(nginx).toContain('proxy_set_header X-Request-Id $request_id')
  })
})
