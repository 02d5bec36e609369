import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

// The dashboard and the API share their wire types through api/contract only (STYLE.md → Habits).

const root = path.resolve(import.meta.dirname, '../../..')
const filesUnder = (dir: string, ext: RegExp): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), ext) : ext.test(e.name) ? [path.join(dir, e.name)] : []))

/** Every `import … from '…'` / `export … from '…'` of a file: the specifier and whether it is type-only. */
function importsOf(file: string): Array<{ from: string; typeOnly: boolean }> {
  const text = fs.readFileSync(file, 'utf8')
  return [...text.matchAll(/\b(?:import|export)\s+(type\s+)?(?:[^'";]*?\bfrom\s+)?'([^']+)'/g)].map((m) => ({ from: m[2], typeOnly: Boolean(m[1]) }))
}
const rel = (file: string) => path.relative(root, file)
/** The contract modules the dashboard may import at run time: plain data and pure formatting, importing nothing. */
const RUNTIME_LIMITS = 'api/contract/limits.ts'
const RUNTIME_MONEY = 'api/contract/money.ts'

describe('wire contract', () => {
  it('lets the dashboard leave ui/ only for the contract (types) and the stats library', () => {
    const strays: string[] = []
    for (const file of filesUnder(path.join(root, 'ui/src'), /\.(ts|svelte)$/)) {
      for (const { from, typeOnly } of importsOf(file)) {
        if (!from.startsWith('.')) continue
        const target = rel(path.resolve(path.dirname(file), from))
        if (target.startsWith('ui/') || target.startsWith('stats/')) continue
        if (target === 'api/contract/index.ts' && typeOnly) continue
        // The schema's numeric bounds, so the form checks a field beside it with the API's own numbers; plain data
        // (see the test below), where the zod schemas themselves would bring zod and server code into the bundle.
        if (target === RUNTIME_LIMITS) continue
        // Money as the API's sentences print it (the overview's headline), so the page and the sentence agree.
        if (target === RUNTIME_MONEY) continue
        strays.push(`${rel(file)} → ${from}${typeOnly ? '' : ' (not type-only)'}`)
      }
    }
    expect(strays).toEqual([])
  })

  it('keeps the limits and the money formatting the dashboard runs self-contained, importing nothing', () => {
    expect(importsOf(path.join(root, RUNTIME_LIMITS))).toEqual([])
    expect(importsOf(path.join(root, RUNTIME_MONEY))).toEqual([])
  })

  it('keeps the contract to types of zod schemas and stats/, with no server code', () => {
    const strays: string[] = []
    for (const file of filesUnder(path.join(root, 'api/contract'), /\.ts$/)) {
      for (const { from, typeOnly } of importsOf(file)) {
        const target = from.startsWith('.') ? rel(path.resolve(path.dirname(file), from)) : from
        const allowed = target === 'zod' || target.startsWith('api/contract/') || target.startsWith('stats/') || /^api\/[a-z-]+\/schema\.ts$/.test(target)
        if (!typeOnly || !allowed) strays.push(`${rel(file)} → ${from}`)
      }
    }
    expect(strays).toEqual([])
  })
})
