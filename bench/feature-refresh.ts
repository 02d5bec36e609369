import { fork } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import type { WorldCommands } from './feature-refresh-world.ts'
import { median, writeResult } from './machine.ts'

// Feature refresh (issue 20): customer features are kept in customer_timeline by a materialised view on events, so
// ingesting N new events should cost time in proportion to N, whatever the history behind them. Two worlds, one
// with a tenth of the other's customers and events, each in its own chDB (feature-refresh-world.ts), take the same
// N new events in production's 50,000-row inserts, turn about; the new parts are dropped after each repetition so
// every one meets the same history. Beside them, in the same run: a full rescan (every customer's features from
// raw events), feature reads after a refresh, and OPTIMIZE … FINAL folding a refresh into the merged history.
// Usage: npm run bench:feature-refresh                       (200k customers / 2M events against 20k / 200k)
//        BENCH_CUSTOMERS=1000000 BENCH_EVENTS=10000000 npm run bench:feature-refresh    (issue 20's 1M world)
//        BENCH_NEW=100000,1000000 (new events per refresh) BENCH_REPS=5 BENCH_SMALLER=10 BENCH_LOOKUPS=1000
const customers = Number(process.env.BENCH_CUSTOMERS ?? 200_000)
const history = Number(process.env.BENCH_EVENTS ?? 2_000_000)
const smaller = Number(process.env.BENCH_SMALLER ?? 10)
const sizes = (process.env.BENCH_NEW ?? '100000,1000000').split(',').map(Number)
const reps = Number(process.env.BENCH_REPS ?? 5)
const lookups = Number(process.env.BENCH_LOOKUPS ?? 1000)

type Command = keyof WorldCommands
type Answer<K extends Command> = Awaited<ReturnType<WorldCommands[K]>>

function startWorld(name: string) {
  const child = fork(path.join(import.meta.dirname, 'feature-refresh-world.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' },
  })
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>()
  let next = 0
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id)!
    pending.delete(m.id)
    if (m.error) p.reject(new Error(`${name} world: ${m.error}`))
    else p.resolve(m.result)
  })
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`${name} world exited with ${code}`))
  })
  const call = <K extends Command>(cmd: K, args: Parameters<WorldCommands[K]>[0]) =>
    new Promise<Answer<K>>((resolve, reject) => {
      pending.set(++next, { resolve, reject })
      child.send({ id: next, cmd, args })
    })
  const stop = async () => {
    await call('close', undefined)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.disconnect()
    await exited
  }
  return { name, call, stop }
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US')
const secs = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1))
const loadAverageAtStart = os.loadavg().map((x) => +x.toFixed(2))
const worlds = [
  { ...startWorld('large'), customers, history },
  { ...startWorld('small'), customers: Math.round(customers / smaller), history: Math.round(history / smaller) },
]
const [large, small] = worlds

try {
  const build: Record<string, Answer<'build'>> = {}
  for (const w of worlds) {
    console.log(`${w.name} world: ${n0(w.customers)} customers, ${n0(w.history)} events through insertEvents in 50,000-row inserts…`)
    build[w.name] = await w.call('build', { customers: w.customers, history: w.history })
    const b = build[w.name]
    console.log(
      `  ${secs(b.insertSeconds)} s (${n0(b.eventsPerSecond)} events/s), view filled customer_timeline: ${n0(b.historyCustomers)} customers, ${n0(b.tuples)} tuples; OPTIMIZE customer_timeline FINAL ${secs(b.mergeSeconds)} s`,
    )
  }

  // Turn about, the order flipped every repetition, so load from other work lands on both worlds alike; each
  // world also takes the same rows with the view detached, the insert alone, to isolate the view's share.
  type Times = { view: number[]; bare: number[] }
  const refresh = new Map(sizes.map((n) => [n, { large: { view: [], bare: [] } as Times, small: { view: [], bare: [] } as Times }]))
  for (let rep = 0; rep < reps; rep++) {
    for (const n of sizes) {
      for (const w of rep % 2 ? [small, large] : [large, small]) {
        const times = refresh.get(n)![w.name as 'large' | 'small']
        for (const view of rep % 2 ? [false, true] : [true, false]) {
          const r = await w.call('refresh', { n, rep, customers, view })
          await w.call('undo', undefined)
          times[view ? 'view' : 'bare'].push(r.seconds)
        }
        console.log(
          `  rep ${rep + 1}: ${n0(n)} new events on the ${w.name} world: ${secs(times.view.at(-1)!)} s, ${secs(times.bare.at(-1)!)} s without the view`,
        )
      }
    }
  }

  const rescans = { large: [] as number[], small: [] as number[] }
  let rescannedCustomers = 0
  for (let rep = 0; rep < reps; rep++) {
    for (const w of worlds) {
      const r = await w.call('rescan', undefined)
      rescans[w.name as 'large' | 'small'].push(r.seconds)
      if (w === large) rescannedCustomers = r.customers
    }
  }

  // Reads and the merge after the largest refresh, its parts still unmerged beside the history.
  const biggest = Math.max(...sizes)
  const read: Record<string, Answer<'read'>> = {}
  const merge: Record<string, number> = {}
  for (const w of worlds) {
    const r = await w.call('refresh', { n: biggest, rep: reps, customers })
    await w.call('check', { expected: build[w.name].tuples + r.tuples })
    read[w.name] = await w.call('read', { lookups })
    await w.call('undo', undefined)
    merge[w.name] = (await w.call('merge', { n: biggest, customers })).seconds
  }

  const label = (w: (typeof worlds)[number]) => `${n0(w.history)} events / ${n0(w.customers)} customers`
  const rows: string[][] = [['', `history ${label(large)}`, `history ${label(small)}`, 'large ÷ small']]
  const row = (what: string, a: number, b: number, unit = 's') => rows.push([what, `${secs(a)} ${unit}`, `${secs(b)} ${unit}`, `${(a / b).toFixed(2)}×`])
  const refreshRows = sizes.map((n) => {
    const r = refresh.get(n)!
    // The view's share pairs the two inserts of one repetition, which ran back to back under the same load.
    const share = (t: Times) => median(t.view.map((v, i) => v - t.bare[i]))
    const m = { large: median(r.large.view), small: median(r.small.view), largeBare: median(r.large.bare), smallBare: median(r.small.bare) }
    row(`refresh: insert ${n0(n)} new events (view included)`, m.large, m.small)
    row(`  the same insert with the view detached`, m.largeBare, m.smallBare)
    row(`  the view's share (paired difference)`, share(r.large), share(r.small))
    return {
      newEvents: n,
      largeSeconds: +m.large.toFixed(3),
      smallSeconds: +m.small.toFixed(3),
      ratio: +(m.large / m.small).toFixed(2),
      largeWithoutViewSeconds: +m.largeBare.toFixed(3),
      smallWithoutViewSeconds: +m.smallBare.toFixed(3),
      largeViewSeconds: +share(r.large).toFixed(3),
      smallViewSeconds: +share(r.small).toFixed(3),
      runs: r,
    }
  })
  const rescan = { large: median(rescans.large), small: median(rescans.small) }
  row('full rescan: features of all customers from events', rescan.large, rescan.small)
  row(`OPTIMIZE customer_timeline FINAL after ${n0(biggest)}`, merge.large, merge.small)
  row(`customerFeatures after ${n0(biggest)}: median`, read.large.medianMs, read.small.medianMs, 'ms')
  row(`customerFeatures after ${n0(biggest)}: p99`, read.large.p99Ms, read.small.p99Ms, 'ms')
  row(`${n0(lookups)} customers in one featuresOfCustomers`, read.large.batchMs, read.small.batchMs, 'ms')
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  console.log(`\nmedians of ${reps} repetitions (reads: ${n0(lookups)} random customers of each world, one at a time)`)
  for (const r of rows) console.log(r.map((cell, c) => (c ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('   '))
  if (sizes.length > 1) {
    const [lo, hi] = [Math.min(...sizes), biggest]
    const grows = (w: 'largeSeconds' | 'smallSeconds') => refreshRows.find((r) => r.newEvents === hi)![w] / refreshRows.find((r) => r.newEvents === lo)![w]
    console.log(
      `\n${n0(hi)} new events cost ${grows('largeSeconds').toFixed(1)}× (large) and ${grows('smallSeconds').toFixed(1)}× (small) the time of ${n0(lo)}: the refresh grows with the new events; against ${smaller}× the history it costs ${refreshRows.map((r) => `${r.ratio}×`).join(' and ')}`,
    )
  }
  const last = refreshRows.at(-1)!
  console.log(
    `keeping the features through ${n0(biggest)} new events adds ${secs(last.largeViewSeconds)} s (${Math.round((100 * last.largeViewSeconds) / last.largeWithoutViewSeconds)}%) to their insert on the large world; recomputing them instead is a ${secs(rescan.large)} s rescan of its ${n0(rescannedCustomers)} customers, growing with the history (${(rescan.large / rescan.small).toFixed(1)}× for ${smaller}× the events)`,
  )

  writeResult('feature-refresh', {
    loadAverageAtStart,
    loadAverageAtEnd: os.loadavg().map((x) => +x.toFixed(2)),
    reps,
    insertRows: 50_000,
    worlds: worlds.map((w) => ({ name: w.name, customers: w.customers, events: w.history, ...build[w.name] })),
    refresh: refreshRows,
    rescanSeconds: { large: +rescan.large.toFixed(3), small: +rescan.small.toFixed(3), largeCustomers: rescannedCustomers },
    optimizeAfterRefreshSeconds: { newEvents: biggest, large: +merge.large.toFixed(3), small: +merge.small.toFixed(3) },
    reads: { afterNewEvents: biggest, lookups, large: read.large, small: read.small },
    note: 'New events land on customers drawn from the large world in both worlds (identical rows). Background merges are stopped during the timed refreshes so every repetition meets the same merged history; the OPTIMIZE row is the merge work they defer.',
  })
} finally {
  for (const w of worlds) await w.stop().catch(() => {})
}
