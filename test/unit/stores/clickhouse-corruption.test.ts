import { describe, expect, it } from 'vitest'
import { recogniseCorruption } from '../../../api/stores/clickhouse-corruption.ts'

/** An error as @clickhouse/client throws it: the message, and the code and type parsed from ClickHouse's answer. */
const clickhouseError = (code: string, message: string) => Object.assign(new Error(message), { code, type: 'X' })

// Texts as chDB 3.4 (ClickHouse 26.7) printed them for parts whose bytes were flipped on disk.
const part = '/data/ch/store/a87/a8704cdd-6eb0-48cf-b07f-99a53a41e86b/all_1_1_1'
const codecText =
  `Unknown codec family code: 125: While reading or decompressing ${part}/data.bin (position: 692, typename: DB::AsynchronousReadBufferFromFileWithDescriptorsCache, compressed data header: <uninitialized>): ` +
  `(while reading column experiment_id): (while reading from part ${part}/ in table default.events (a8704cdd-6eb0-48cf-b07f-99a53a41e86b) located on disk default of type local, from mark 0 with max_rows_to_read = 100, offset = 0): While reading part all_1_1_1`
const indexText = `Checksum doesn't match: corrupted data. Reference: da48. Actual: ad3b. Size of compressed block: 30: While reading or decompressing ${part}/primary.cidx (position: 46, typename: DB::ReadBufferFromFilePReadWithDescriptorsCache, compressed data header: <uninitialized>). `

describe('recogniseCorruption', () => {
  it('names the code, table and part of a block that no longer decodes', () => {
    expect(recogniseCorruption(clickhouseError('432', codecText))).toEqual({
      code: 432,
      name: 'UNKNOWN_CODEC',
      table: 'events',
      part: 'all_1_1_1',
      path: `${part}/data.bin`,
    })
  })

  it('reads the code from "Code: NN." when the error carries none, and leaves the table to be resolved from the path', () => {
    expect(recogniseCorruption(new Error(`Code: 40. DB::Exception: ${indexText}(CHECKSUM_DOESNT_MATCH)`))).toEqual({
      code: 40,
      name: 'CHECKSUM_DOESNT_MATCH',
      part: 'all_1_1_1',
      path: `${part}/primary.cidx`,
    })
  })

  it('counts a short read as corruption only when it happened inside a part', () => {
    expect(
      recogniseCorruption(
        clickhouseError('33', `Cannot read all data. Bytes read: 3. Bytes expected: 8.: While reading or decompressing ${part}/data.bin (position: 0)`),
      )?.name,
    ).toBe('CANNOT_READ_ALL_DATA')
    expect(
      recogniseCorruption(
        clickhouseError('33', 'Cannot read all data. Bytes read: 3. Bytes expected: 8.: (at row 1): While executing ParallelParsingBlockInputFormat'),
      ),
    ).toBeNull()
  })

  it('leaves every other error alone', () => {
    expect(recogniseCorruption(clickhouseError('60', "Unknown table expression identifier 'nope'"))).toBeNull()
    expect(recogniseCorruption(clickhouseError('241', 'Memory limit (total) exceeded'))).toBeNull()
    expect(recogniseCorruption(new Error('connect ECONNREFUSED 127.0.0.1:8123'))).toBeNull()
    expect(recogniseCorruption('Code: 40.')).toBeNull()
  })
})
