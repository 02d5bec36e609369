import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../api/config.ts'
import { openClickHouse } from '../api/stores/clickhouse.ts'
import { migrateClickHouse } from '../api/stores/migrate.ts'
import { EventWriter } from '../api/ingest/event-writer.ts'
import { validateEvent, type EventRow } from '../api/ingest/event-schema.ts'
import { CsvReader, csvEvent } from '../api/ingest/csv.ts'
import { progressBar } from '../api/progress.ts'

// Owner-only files, as for the server (bin/server.ts): the stores hold customer ids and revenue.
process.umask(0o077)

const usage = `Usage: npm run import -- <events.ndjson|events.csv> [--url http://localhost:3000 --key <ingest key>] [--batch 10000]

Imports historical events (e.g. a year of purchases for the CUPED pre-period) through the same validation
and writer as POST /v1/events. Without --url it writes to the stores configured by DATA_DIR / CLICKHOUSE_URL
directly (stop a server using the same embedded data directory first); with --url it posts to a running API.
Rejected rows are written, with their line number and reason, to <file>.rejected.ndjson.`

const { values: opts, positionals } = parseArgs({
  options: { url: { type: 'string' }, key: { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean' } },
  allowPositionals: true,
})
if (opts.help || positionals.length !== 1) {
  console.error(usage)
  process.exit(opts.help ? 0 : 2)
}
const file = path.resolve(positionals[0])
if (!fs.existsSync(file)) {
  console.error(`No such file: ${file}`)
  process.exit(2)
}
const batchSize = Math.min(10_000, Number(opts.batch ?? 10_000))
const isCsv = file.toLowerCase().endsWith('.csv')
const rejectedFile = `${file}.rejected.ndjson`
const rejectedOut = fs.createWriteStream(rejectedFile)
const totals = { accepted: 0, duplicates: 0, rejected: 0 }

/** One sink per mode: both take raw items with their line numbers and return the write's counts. */
type Item = { line: number; value: unknown } | { line: number; error: string; raw: string }
let sink: (items: Item[]) => Promise<void>
let closeSink: () => Promise<void> = async () => {}

function reject(line: number, field: string | null, message: string, raw: unknown) {
  totals.rejected++
  rejectedOut.write(JSON.stringify({ line, field, message, raw }) + '\n')
}

if (opts.url) {
  if (!opts.key) {
    console.error('--url needs --key (an API key with the ingest or admin role)')
    process.exit(2)
  }
  const endpoint = new URL('/v1/events', opts.url).toString()
  sink = async (items) => {
    const sendable = items.filter((it): it is { line: number; value: unknown } => 'value' in it)
    for (const it of items) if ('error' in it) reject(it.line, null, it.error, it.raw)
    if (!sendable.length) return
    const body = sendable.map((it) => JSON.stringify(it.value)).join('\n')
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(endpoint, { method: 'POST', headers: { authorization: `Bearer ${opts.key}`, 'content-type': 'application/x-ndjson' }, body })
      const json: any = await res.json().catch(() => ({}))
      if (res.status === 503 && attempt < 30) {
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)))
        continue
      }
      if (res.status !== 200 && res.status !== 422) throw new Error(`the API answered ${res.status}: ${json?.error?.message ?? JSON.stringify(json)}`)
      totals.accepted += json.accepted ?? 0
      totals.duplicates += json.duplicates ?? 0
      for (const r of json.rejected ?? []) reject(sendable[r.index].line, r.field, r.message, sendable[r.index].value)
      return
    }
  }
} else {
  const config = loadConfig()
  let ch
  try {
    ch = await openClickHouse(config)
    await migrateClickHouse(ch)
  } catch (e) {
    console.error(`Could not open the ClickHouse store (${config.clickhouse.url ?? path.join(config.dataDir, 'ch')}): ${e instanceof Error ? e.message : e}`)
    console.error('If a server is running on the same embedded data directory, stop it or import through it with --url and --key.')
    process.exit(1)
  }
  const writer = new EventWriter(ch, { maxPendingRows: 1_000_000 })
  sink = async (items) => {
    const rows: EventRow[] = []
    const lines: number[] = []
    const values: unknown[] = []
    for (const it of items) {
      if ('error' in it) {
        reject(it.line, null, it.error, it.raw)
        continue
      }
      const v = validateEvent(it.value, it.line)
      if ('row' in v) {
        rows.push(v.row)
        lines.push(it.line)
        values.push(it.value)
      } else reject(it.line, v.rejection.field, v.rejection.message, it.value)
    }
    const r = await writer.write(rows)
    for (const i of r.conflicts)
      reject(lines[i], 'eventId', `eventId '${rows[i].event_id}' is already stored for a different event; give this event its own eventId`, values[i])
    totals.accepted += r.accepted
    totals.duplicates += r.duplicates
  }
  closeSink = async () => {
    await writer.close()
    await ch.close()
  }
}

const size = fs.statSync(file).size
const bar = progressBar(`Importing ${path.basename(file)}`, size)
let bytes = 0
let line = 0
let items: Item[] = []
let inFlight: Promise<void> = Promise.resolve()
let header: string[] | null = null
const csv = new CsvReader()

async function flush() {
  const batch = items
  items = []
  // One batch in flight while the next is parsed: reading and writing overlap.
  await inFlight
  inFlight = sink(batch)
}

function addLine(text: string) {
  line++
  if (!text.trim()) return
  try {
    items.push({ line, value: JSON.parse(text) })
  } catch {
    items.push({ line, error: 'the line is not valid JSON', raw: text.slice(0, 1000) })
  }
}

const stream = fs.createReadStream(file)
const decoder = new TextDecoder('utf-8')
let carry = ''
for await (const chunk of stream as AsyncIterable<Buffer>) {
  bytes += chunk.length
  const text = decoder.decode(chunk, { stream: true })
  if (isCsv) {
    for (const record of csv.push(text)) {
      line++
      if (!header) header = record.map((h) => h.trim())
      else items.push({ line, value: csvEvent(header, record) })
      if (items.length >= batchSize) await flush()
    }
  } else {
    const parts = (carry + text).split('\n')
    carry = parts.pop() ?? ''
    for (const part of parts) {
      addLine(part)
      if (items.length >= batchSize) await flush()
    }
  }
  bar.update(bytes, totals.accepted + totals.duplicates + totals.rejected)
}
if (isCsv)
  for (const record of csv.end())
    if (header) items.push({ line: ++line, value: csvEvent(header, record) })
    else if (carry) addLine(carry)
await flush()
await inFlight
await closeSink()
await new Promise<void>((r) => rejectedOut.end(r))
bar.finish(totals.accepted + totals.duplicates + totals.rejected)
if (!totals.rejected) fs.rmSync(rejectedFile, { force: true })

const n = (x: number) => x.toLocaleString('en-US')
console.log(
  `Imported ${path.basename(file)}: ${n(totals.accepted)} accepted, ${n(totals.duplicates)} duplicates (already stored), ${n(totals.rejected)} rejected`,
)
if (totals.rejected) console.log(`Rejected rows and reasons: ${rejectedFile}`)
