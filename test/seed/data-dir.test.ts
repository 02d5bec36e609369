import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../api/config.ts'
import { assertRetentionLabDataDir, DataDirError, wipeDataDir } from '../../seed/data-dir.ts'

// demo:reset deletes a directory: it must only ever delete a Retention Lab data directory.
const made: string[] = []
function dir(files: Record<string, string>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-datadir-'))
  made.push(root)
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    fs.writeFileSync(path.join(root, file), text)
  }
  return root
}
afterEach(() => made.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

describe('demo:reset', () => {
  it('accepts a missing, an empty or a Retention Lab data directory', () => {
    expect(() => assertRetentionLabDataDir(path.join(os.tmpdir(), 'rl-does-not-exist-42'))).not.toThrow()
    expect(() => assertRetentionLabDataDir(dir({}))).not.toThrow()
    expect(() => assertRetentionLabDataDir(dir({ 'pg/PG_VERSION': '17', 'ch/status': 'PID: 1', 'truth.json': '{}' }))).not.toThrow()
  })

  it('refuses a directory holding anything else, or without the stores’ marks', () => {
    expect(() => assertRetentionLabDataDir(dir({ 'pg/PG_VERSION': '17', 'thesis.tex': '…' }))).toThrow(
      /does not look like a Retention Lab data directory.*thesis\.tex/,
    )
    expect(() => assertRetentionLabDataDir(dir({ 'pg/notes.txt': 'x' }))).toThrow(DataDirError)
  })

  it('wipes only embedded stores, and only after those checks', async () => {
    const foreign = dir({ 'src/main.ts': '' })
    await expect(wipeDataDir(loadConfig({ DATA_DIR: foreign }))).rejects.toThrow(DataDirError)
    expect(fs.existsSync(path.join(foreign, 'src/main.ts'))).toBe(true)
    await expect(wipeDataDir(loadConfig({ DATA_DIR: dir({}), DATABASE_URL: 'postgres://db/prod' }))).rejects.toThrow(/never wipes a server/)
    const ours = dir({ 'pg/PG_VERSION': '17', 'truth.json': '{}' })
    await wipeDataDir(loadConfig({ DATA_DIR: ours }))
    expect(fs.existsSync(ours)).toBe(false)
  })
})
