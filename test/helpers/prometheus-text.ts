/**
 * A strict parser of Prometheus' text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format), for tests: any line that does
 * not follow the format throws, naming the line. It checks what a scraper would reject or misread: metric and
 * label names, label value escapes, numbers, a TYPE before a family's samples and at most one per family, samples
 * of one family kept together, duplicate series, and histograms whose buckets are cumulative and end in `+Inf`
 * equal to `_count`.
 *
 * @example
 * const m = parsePrometheusText(await (await fetch(`${base}/metrics`, { headers })).text())
 * m.value('retention_http_requests_total', { method: 'GET', route: '/v1/experiments/:id', status: '200' })
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: MetricType
  help: string | null
  samples: Sample[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export class PrometheusParseError extends Error {
  constructor(lineNo: number, line: string, problem: string) {
    super(`line ${lineNo}: ${problem}: ${JSON.stringify(line.slice(0, 200))}`)
  }
}

function parseNumber(text: string): number | null {
  if (text === '+Inf' || text === 'Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return null
  return Number(text)
}

/** `{a="x",b="y\"z"}` starting at `text[0] === '{'`; returns the labels and the index after `}`. */
function parseLabels(text: string, fail: (problem: string) => never): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {}
  let i = 1
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 }
    const name = /^[^=]*/.exec(text.slice(i))![0]
    if (!LABEL_NAME.test(name)) fail(`bad label name ${JSON.stringify(name)}`)
    if (name in labels) fail(`label ${name} repeated`)
    i += name.length
    if (text[i] !== '=' || text[i + 1] !== '"') fail(`expected ="… after label ${name}`)
    i += 2
    let value = ''
    for (;;) {
      const ch = text[i]
      if (ch === undefined) fail('unterminated label value')
      if (ch === '"') break
      if (ch === '\n') fail('raw newline in a label value')
      if (ch === '\\') {
        const next = text[i + 1]
        if (next === '\\') value += '\\'
        else if (next === '"') value += '"'
        else if (next === 'n') value += '\n'
        else fail(`bad escape \\${next ?? ''} in a label value`)
        i += 2
        continue
      }
      value += ch
      i++
    }
    labels[name] = value
    i++
    if (text[i] === ',') i++
    else if (text[i] !== '}') fail(`expected , or } after label ${name}`)
  }
}

/** Which declared family a sample name belongs to (histograms and summaries expose suffixed series). */
function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(sampleName)
  if (exact) return exact
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue
    const family = families.get(sampleName.slice(0, -suffix.length))
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family
  }
  return undefined
}

export function parsePrometheusText(text: string) {
  if (text.length && !text.endsWith('\n')) throw new Error('the exposition does not end with a newline')
  const families = new Map<string, Family>()
  const finished = new Set<string>()
  const seen = new Set<string>()
  let current: Family | null = null
  const lines = text.split('\n')
  lines.pop()
  lines.forEach((line, index) => {
    const fail = (problem: string): never => {
      throw new PrometheusParseError(index + 1, line, problem)
    }
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line)
      if (!m) return // other comments are allowed
      const [, kind, name, rest = ''] = m
      if (!METRIC_NAME.test(name)) fail(`bad metric name ${name}`)
      let family = families.get(name)
      if (!family) {
        if (finished.has(name)) fail(`family ${name} resumed after other families`)
        family = { name, type: 'untyped', help: null, samples: [] }
        families.set(name, family)
      }
      if (current && current !== family) finished.add(current.name)
      current = family
      if (kind === 'TYPE') {
        if (!TYPES.has(rest as MetricType)) fail(`unknown type ${rest}`)
        if (family.samples.length) fail(`TYPE of ${name} after its samples`)
        if (family.type !== 'untyped') fail(`second TYPE for ${name}`)
        family.type = rest as MetricType
      } else {
        if (family.help !== null) fail(`second HELP for ${name}`)
        family.help = rest
      }
      return
    }
    const name = /^[^\s{]*/.exec(line)![0]
    if (!METRIC_NAME.test(name)) fail(`bad metric name ${JSON.stringify(name)}`)
    let rest = line.slice(name.length)
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) {
      const parsed = parseLabels(rest, fail)
      labels = parsed.labels
      rest = rest.slice(parsed.end)
    }
    const parts = rest.split(' ')
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) fail('expected " <value> [timestamp]" after the series')
    const value = parseNumber(parts[1])
    if (value === null) fail(`bad value ${parts[1]}`)
    if (parts.length === 3 && !/^-?\d+$/.test(parts[2])) fail(`bad timestamp ${parts[2]}`)
    let family = familyOf(name, families)
    if (!family) {
      if (finished.has(name)) fail(`family ${name} resumed after other families`)
      family = { name, type: 'untyped', help: null, samples: [] }
      families.set(name, family)
    }
    if (current && current !== family) {
      if (finished.has(family.name)) fail(`samples of ${family.name} not kept together`)
      finished.add(current.name)
    }
    current = family
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    if (seen.has(key)) fail('duplicate series')
    seen.add(key)
    if (family.type === 'counter' && (value! < 0 || Number.isNaN(value))) fail('a counter below zero')
    family.samples.push({ name, labels, value: value! })
  })
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family)

  const matches = (sample: Sample, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => sample.labels[k] === v)
  return {
    families,
    /** Every sample named `name` (a family, or a histogram's `_bucket`/`_sum`/`_count`). */
    samples(name: string): Sample[] {
      return [...families.values()].flatMap((f) => f.samples.filter((s) => s.name === name))
    },
    /** The one sample of `name` whose labels include `labels`; 0 when there is none (a counter not yet incremented). */
    value(name: string, labels: Record<string, string> = {}): number {
      const found = this.samples(name).filter((s) => matches(s, labels))
      if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`)
      return found[0]?.value ?? 0
    },
    /** The sum over every sample of `name` whose labels include `labels`. */
    sum(name: string, labels: Record<string, string> = {}): number {
      return this.samples(name)
        .filter((s) => matches(s, labels))
        .reduce((a, s) => a + s.value, 0)
    },
  }
}
export type PrometheusScrape = ReturnType<typeof parsePrometheusText>

function checkHistogram(family: Family) {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>()
  for (const s of family.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    const entry = series.get(key) ?? { buckets: [] }
    series.set(key, entry)
    if (s.name === `${family.name}_bucket`) {
      const bound = le === undefined ? null : parseNumber(le)
      if (bound === null) throw new Error(`${family.name}_bucket without a numeric le label`)
      entry.buckets.push([bound, s.value])
    } else if (s.name === `${family.name}_count`) entry.count = s.value
    else if (s.name === `${family.name}_sum`) entry.sum = s.value
    else throw new Error(`histogram ${family.name} has a sample ${s.name}`)
  }
  for (const [key, { buckets, count, sum }] of series) {
    if (count === undefined || sum === undefined) throw new Error(`histogram ${family.name}${key} lacks _count or _sum`)
    const last = buckets.at(-1)
    if (!last || last[0] !== Infinity) throw new Error(`histogram ${family.name}${key} does not end with le="+Inf"`)
    if (last[1] !== count) throw new Error(`histogram ${family.name}${key}: +Inf bucket ${last[1]} differs from _count ${count}`)
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i][0] <= buckets[i - 1][0]) throw new Error(`histogram ${family.name}${key}: bucket bounds not increasing`)
      if (buckets[i][1] < buckets[i - 1][1]) throw new Error(`histogram ${family.name}${key}: buckets not cumulative`)
    }
  }
}
