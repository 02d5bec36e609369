import v8 from 'node:v8'
import vm from 'node:vm'
import { performance } from 'node:perf_hooks'

const MiB = 1024 * 1024

/**
 * Makes V8 grow its heap by at most `percent` over the live data at each full collection, instead of the up to
 * 4× its heuristics allow when collections are fast. Parsed request bodies die young but outlive a scavenge, so
 * under a flood of 4.7 MB bodies V8 let garbage pile up: peak RSS 1,023–1,196 MiB over five runs of the load
 * benchmark, 837–897 MiB over four with 20%, and no consistent cost to ingest throughput (README, Benchmarks).
 * The flag is read at each collection, so setting it at run time takes effect (checked against the command-line
 * flag).
 *
 * @example
 * keepHeapTight() // composition root, before serving
 */
export function keepHeapTight(percent = 20): void {
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`)
}

/**
 * Runs a full garbage collection once the process goes quiet after a busy spell. V8 collects only when JavaScript
 * allocates, and shrinks its heap only after a collection, so a server that goes idle after a burst of large
 * bodies keeps the dead bodies and parsed events for as long as it stays idle: measured after 30 connections of
 * 4.7 MB bodies, RSS stayed ~200 MiB above idle for 45 s, until something allocated again. A spell counts when
 * the event loop was more than a quarter busy over `everyMs`, or RSS grew by `minGrowthBytes` since the last
 * collection; quiet is at most 5% busy. The collection (two full passes, tens of milliseconds each) therefore
 * runs at most once per spell, and never while requests keep the loop busy.
 *
 * @example
 * const stop = collectWhenIdle() // composition root; stop() on shutdown
 */
export function collectWhenIdle(opts: { everyMs?: number; minGrowthBytes?: number } = {}): () => void {
  const everyMs = opts.everyMs ?? 5000
  const minGrowthBytes = opts.minGrowthBytes ?? 32 * MiB
  // `gc` is only exposed by a flag; set at run time it appears in contexts created afterwards.
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  let afterLastGc = process.memoryUsage.rss()
  let spell = false
  let loop = performance.eventLoopUtilization()
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization()
    const busy = performance.eventLoopUtilization(now, loop).utilization
    loop = now
    const rss = process.memoryUsage.rss()
    afterLastGc = Math.min(afterLastGc, rss)
    if (busy > 0.25 || rss - afterLastGc >= minGrowthBytes) spell = true
    if (!spell || busy > 0.05) return
    // Twice: the first frees the objects, the second the buffers and external strings they held (released by
    // callbacks after a collection): 1.5× the memory back in a test. Without arguments: given an options object
    // ({ type: 'major' }), Node 20's gc() freed nothing in the same test, and the server's RSS came down only
    // when V8's memory reducer ran, 20–25 s later.
    gc()
    gc()
    afterLastGc = process.memoryUsage.rss()
    spell = false
  }, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
