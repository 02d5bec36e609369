/**
 * A streaming RFC 4180 CSV reader: quoted fields may hold commas, doubled quotes and newlines. Feed it text
 * chunks; it yields complete records.
 */
export class CsvReader {
  private field = ''
  private record: string[] = []
  private quoted = false
  // The semicolon matters: a generator method after a field initialiser would otherwise read as `false * push(…)`.
  private afterQuote = false;

  *push(chunk: string): Generator<string[]> {
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]
      if (this.quoted) {
        if (ch === '"') {
          if (chunk[i + 1] === '"') {
            this.field += '"'
            i++
          } else if (i + 1 === chunk.length) {
            // A quote at the end of a chunk: the next chunk decides whether it is doubled.
            this.quoted = false
            this.afterQuote = true
          } else {
            this.quoted = false
          }
        } else this.field += ch
        continue
      }
      if (this.afterQuote) {
        this.afterQuote = false
        if (ch === '"') {
          this.field += '"'
          this.quoted = true
          continue
        }
      }
      if (ch === '"' && this.field === '') this.quoted = true
      else if (ch === ',') {
        this.record.push(this.field)
        this.field = ''
      } else if (ch === '\n') {
        this.record.push(this.field.endsWith('\r') ? this.field.slice(0, -1) : this.field)
        this.field = ''
        const done = this.record
        this.record = []
        if (!(done.length === 1 && done[0] === '')) yield done
      } else this.field += ch
    }
  }

  *end(): Generator<string[]> {
    if (this.field !== '' || this.record.length) {
      this.record.push(this.field)
      yield this.record
    }
    this.field = ''
    this.record = []
  }
}

const numericFields = new Set(['revenue', 'margin', 'cost'])

/** Turns one CSV record into an event object by the header; empty cells are left out. */
export function csvEvent(header: string[], record: string[]): Record<string, unknown> {
  const event: Record<string, unknown> = {}
  header.forEach((name, i) => {
    const cell = record[i]
    if (cell === undefined || cell === '') return
    if (numericFields.has(name)) event[name] = cell.trim() === '' ? cell : Number(cell)
    else if (name === 'ts') event[name] = /^\d+$/.test(cell) ? Number(cell) : cell
    else if (name === 'properties') {
      try {
        event[name] = JSON.parse(cell)
      } catch {
        event[name] = cell
      }
    } else event[name] = cell
  })
  return event
}
