/**
 * Which events qualify for a catalogue metric and what each is worth, as ClickHouse expressions over the events
 * table's own columns (metrics/compile.ts puts them into a query): event types, filters on fields and properties, the
 * value read. Every value a definition holds is bound through a Binder, never spliced.
 */
import type { EventField, MetricFilter, MetricSource, MetricValue } from './schema.ts'
import { propertyColumnName, type StoredPropertyColumns } from '../stores/property-columns.ts'

export type ParamType = 'String' | 'Float64' | 'Int64' | 'UInt32' | 'Array(String)'

/**
 * The property paths the definitions read, each extracted once per event as its raw JSON text (`prop_0` …): a
 * filter or value then reads that short text instead of parsing the whole properties document again. The top-level
 * key is looked up in `properties_map` (the document split into keys and raw values at insert,
 * migrations/clickhouse/004): a lookup there costs about a quarter of parsing the document, and gives the same text
 * as JSONExtractRaw. Only a deeper path parses, and only its parent's value, on the event types that read it.
 */
export class PropertyColumns {
  readonly params: Record<string, unknown> = {}
  /** The events table's columns of single keys (stores/property-columns.ts): a key with one reads it, not the map. */
  constructor(private readonly stored: StoredPropertyColumns = new Set()) {}
  private readonly byPath = new Map<string, string>()
  /** The event types whose events read each column: others skip a nested path's parse. */
  private readonly typesOf = new Map<string, Set<string>>()
  column(path: string, types: readonly string[]): string {
    let col = this.byPath.get(path)
    if (!col) {
      col = `prop_${this.byPath.size}`
      path.split('.').forEach((key, i) => (this.params[`${col}_k${i}`] = key))
      this.byPath.set(path, col)
      this.typesOf.set(col, new Set())
    }
    const seen = this.typesOf.get(col)!
    for (const t of types) seen.add(t)
    this.params[`${col}_types`] = [...seen]
    return col
  }
  /** The event-level extractions. */
  eventColumns(): string[] {
    return [...this.byPath].map(([path, col]) => {
      const [top, ...nested] = path.split('.').map((_, i) => `{${col}_k${i}:String}`)
      const own = propertyColumnName(path.split('.')[0])
      // The key's own column holds the map's text for it. Else the map's own lookup: in the report's pass it cost
      // ~30% less CPU than indexOf over the keys subcolumn (measured at 1M/10M), though alone on the table the
      // indexOf form was faster.
      const value = this.stored.has(own) ? own : `properties_map[${top}]`
      // A top-level key is looked up on every event: an if() on the type would first copy the map column's
      // selected rows and then spread the result back, which cost more than the lookups it saves (measured at
      // 1M/10M). Every reader tests the type anyway (the source's flag), so other types' text is never used.
      if (!nested.length) return `${value} AS ${col}`
      return `if(type IN {${col}_types:Array(String)}, JSONExtractRaw(${value}, ${nested.join(', ')}), '') AS ${col}`
    })
  }
}

/** Collects a metric's bound parameters; `bind` returns the placeholder to put in the SQL. */
export class Binder {
  readonly params: Record<string, unknown> = {}
  constructor(
    readonly prefix: string,
    readonly props: PropertyColumns,
    /** The event types of the source the metric reads. */
    readonly types: readonly string[],
  ) {}
  bind(name: string, type: ParamType, value: unknown): string {
    const key = `${this.prefix}_${name}`
    this.params[key] = value
    return `{${key}:${type}}`
  }
  /**
   * Numbers travel as their shortest round-trip text: chDB's binder refuses integer-valued doubles beyond 2^53
   * (1e21), and ClickHouse parses the text back to the same double.
   */
  float(name: string, value: number): string {
    return this.bind(name, 'Float64', String(value))
  }
  floats(name: string, values: number[]): string {
    return `arrayMap(x -> toFloat64(x), ${this.bind(name, 'Array(String)', values.map(String))})`
  }
}

const isNumber = (v: string | number): v is number => typeof v === 'number'

/** A string comparison: whether the target is a string among `values` (one value for eq). */
type StringAmong = (name: string, values: string[]) => string

/**
 * A property as typed values, read from its raw JSON text without parsing it again (JSON functions on every event
 * were most of a catalogue metric's cost): a number parses as a Float64 (no other JSON value does), and a missing
 * key extracts as '' and a JSON null as 'null': both are missing. Strings are compared as raw text where they can
 * be: a JSON string without a backslash is exactly its text between quotes, so a value holding no quote, backslash
 * or control character matches its quoted form; a raw text with a backslash (an escape, whatever it decodes to) is
 * decoded by JSONExtractString first. Comparing raw text cost a fifth less of the report's CPU than taking every
 * event's text between its quotes (measured).
 */
function property(b: Binder, path: string) {
  const raw = b.props.column(path, b.types)
  const stringAmong: StringAmong = (name, values) => {
    const plain = values.filter((v) => !/["\\\u0000-\u001f]/.test(v)).map((v) => `"${v}"`)
    const escaped = `position(${raw}, '\\\\') > 0`
    const decoded = `startsWith(${raw}, '"') AND has(${b.bind(`${name}_vs`, 'Array(String)', values)}, JSONExtractString(${raw}))`
    const rawMatch = plain.length === 1 ? `${raw} = ${b.bind(`${name}_raw`, 'String', plain[0])}` : `${raw} IN ${b.bind(`${name}_raw`, 'Array(String)', plain)}`
    // No plain form holds a backslash, so the two tests never both apply. ClickHouse evaluates a later operand of
    // AND/OR only on the rows the earlier ones leave undecided: with the backslash test first, the decoding runs
    // on no row of usual data and the raw comparison on every row. As an if() on the backslash (or with the raw
    // comparison first) the text was copied for a branch, which cost more (measured at 1M/10M in the report's
    // pass, with the type test last as in sourceSql: 1.84× the built-ins' time before, 1.59–1.64× after).
    return plain.length ? `((${escaped} AND ${decoded}) OR ${rawMatch})` : `(${escaped} AND ${decoded})`
  }
  return {
    isNumber: `isNotNull(toFloat64OrNull(${raw}))`,
    number: `toFloat64OrZero(${raw})`,
    exists: `(${raw} != '' AND ${raw} != 'null')`,
    stringAmong,
  }
}

const numericFields: Partial<Record<EventField, string>> = { revenue: 'revenue', cost: 'cost', margin: 'margin' }
// Filters and values are evaluated on the events table's own rows, before the join (see `EventColumns`).
const textFields: Partial<Record<EventField, string>> = { order_id: 'order_id', experiment_id: 'experiment_id', arm: 'arm' }

/**
 * The readers of a filter's target, the same shape for event columns and properties: `number` reads the value
 * when it is a number and `isNumber` says whether it is; `stringAmong` compares it with strings. Either is null
 * when the target never is of that type.
 */
function target(b: Binder, f: MetricFilter): { isNumber: string; number: string | null; exists: string; stringAmong: StringAmong | null } {
  if (f.on === 'property') return property(b, f.path)
  const numeric = numericFields[f.field]
  // margin is Nullable (not sent): it is then missing, like an absent property.
  if (numeric === 'margin') return { isNumber: 'margin IS NOT NULL', number: 'assumeNotNull(margin)', exists: 'margin IS NOT NULL', stringAmong: null }
  if (numeric) return { isNumber: '1', number: numeric, exists: '1', stringAmong: null }
  const column = textFields[f.field]!
  return { isNumber: '0', number: null, exists: '1', stringAmong: (name, values) => `has(${b.bind(`${name}_vs`, 'Array(String)', values)}, ${column})` }
}

/**
 * A filter as a boolean expression. A number compares only with a JSON number (or a numeric column), a string
 * only with a JSON string (or a text column); `neq` and `not_in` are the negations of `eq` and `in`, so a missing
 * property fails eq, in, lt…gte and exists and passes neq and not_in.
 */
function filterSql(b: Binder, name: string, f: MetricFilter): string {
  const t = target(b, f)
  // A value of the other type than a column's matches nothing (and must not reach ClickHouse, which would try
  // to convert it).
  const equals = (v: string | number) =>
    isNumber(v)
      ? t.number === null
        ? '0'
        : `(${t.isNumber} AND ${t.number} = ${b.float(`${name}_v`, v)})`
      : t.stringAmong === null
        ? '0'
        : t.stringAmong(name, [v])
  const among = (values: Array<string | number>) => {
    const strings = values.filter((v): v is string => !isNumber(v))
    const numbers = values.filter(isNumber)
    const branches = [
      ...(strings.length && t.stringAmong !== null ? [t.stringAmong(name, strings)] : []),
      ...(numbers.length && t.number !== null ? [`(${t.isNumber} AND has(${b.floats(`${name}_vn`, numbers)}, ${t.number}))`] : []),
    ]
    return branches.length ? `(${branches.join(' OR ')})` : '0'
  }
  const compare = (op: string, v: number) => (t.number === null ? '0' : `(${t.isNumber} AND ${t.number} ${op} ${b.float(`${name}_v`, v)})`)
  switch (f.op) {
    case 'eq':
      return equals(f.value)
    case 'neq':
      return `(NOT ${equals(f.value)})`
    case 'in':
      return among(f.values)
    case 'not_in':
      return `(NOT ${among(f.values)})`
    case 'lt':
      return compare('<', f.value)
    case 'lte':
      return compare('<=', f.value)
    case 'gt':
      return compare('>', f.value)
    case 'gte':
      return compare('>=', f.value)
    case 'exists':
      return `(${t.exists})`
  }
}

/** Which events qualify regardless of when: one of the types and every filter. */
export function sourceSql(b: Binder, source: MetricSource): string {
  // IN builds a set once and tests the LowCardinality type by its dictionary; has() compared strings on every
  // event, for every metric (measured: most of what catalogue metrics without properties cost). The type goes
  // last: AND evaluates a later operand only on the rows the earlier ones left, copying them first, and copying
  // the type's dictionary indexes is cheaper than copying a property's text (measured at 1M/10M: 1.73× → 1.59×
  // the built-ins with both property filters of the bench).
  return [...source.filters.map((f, j) => filterSql(b, `f${j}`, f)), `type IN ${b.bind('types', 'Array(String)', source.eventTypes)}`].join(' AND ')
}

/**
 * What one qualifying event contributes. Margin is the event's margin or, when it carries none, revenue × the
 * experiment's default margin rate (as the report's net value); a property is its number, 0 when missing or not a
 * number.
 */
export function valueSql(b: Binder, value: MetricValue): string {
  if (value.of === 'property') {
    // A number, else 0: `number` is already 0 for any other JSON value (one parse of the raw text, not two).
    return property(b, value.path).number
  }
  if (value.of === 'count') return 'toFloat64(1)'
  if (value.of === 'margin') return 'ifNull(margin, revenue * {marginRate:Float64})'
  return value.of
}
