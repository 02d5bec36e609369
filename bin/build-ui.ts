import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// Runs before `npm start` and `npm test`: builds the dashboard when ui/dist is missing or older than any
// source file, so a fresh clone needs no separate build step and a pulled change is never served stale.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const uiDir = path.join(root, 'ui')
const index = path.join(uiDir, 'dist', 'index.html')

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue
    const p = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs)
  }
  return newest
}

const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0
// The power calculator bundles stats/power.ts (and what it imports), so stats/ is a dashboard source too.
if (built >= Math.max(newestMtime(uiDir), newestMtime(path.join(root, 'stats')))) process.exit(0)
console.log(built ? 'Dashboard sources changed: rebuilding ui/dist…' : 'Building the dashboard (ui/dist)…')
const { build } = await import('vite')
await build({ configFile: path.join(uiDir, 'vite.config.ts'), root: uiDir, logLevel: 'warn' })
console.log('Dashboard built.')
