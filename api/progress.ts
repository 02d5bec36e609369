/** A one-line progress bar on stderr (redrawn in place on a terminal, a line every few seconds otherwise). */
export function progressBar(label: string, total: number) {
  const tty = process.stderr.isTTY
  const started = Date.now()
  let last = 0
  const fmt = (n: number) => Intl.NumberFormat('en-US', { notation: n >= 1e6 ? 'compact' : 'standard', maximumFractionDigits: 1 }).format(n)
  function render(done: number, items: number, final = false) {
    const now = Date.now()
    if (!final && now - last < (tty ? 200 : 5000)) return
    last = now
    const frac = total > 0 ? Math.min(1, done / total) : 0
    const secs = (now - started) / 1000
    const rate = secs > 0 ? items / secs : 0
    const eta = frac > 0 && frac < 1 ? Math.round((secs / frac) * (1 - frac)) : 0
    const width = 28
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░')
    const line = `${label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${fmt(items)} events  ${fmt(rate)}/s${eta ? `  ETA ${eta}s` : ''}`
    process.stderr.write(tty ? `\r${line}\x1b[K${final ? '\n' : ''}` : `${line}\n`)
  }
  return { update: (done: number, items: number) => render(done, items), finish: (items: number) => render(total, items, true) }
}
