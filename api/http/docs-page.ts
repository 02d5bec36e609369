/** A readable, dependency-free rendering of the OpenAPI document (no CDN: the UI must work offline). */
export function docsPage(doc: {
  info: { title: string; version: string }
  paths?: Record<string, Record<string, { summary?: string; tags?: string[]; requestBody?: unknown; parameters?: unknown[] }>>
}): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)
  const byTag = new Map<string, string[]>()
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'Other'
      const body = op.requestBody
        ? JSON.stringify((op.requestBody as { content?: Record<string, { schema?: unknown }> }).content?.['application/json']?.schema ?? {}, null, 1)
        : ''
      const row = `<div class="op"><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code> — ${esc(op.summary ?? '')}${body ? `<details><summary>request body</summary><pre>${esc(body)}</pre></details>` : ''}</div>`
      byTag.set(tag, [...(byTag.get(tag) ?? []), row])
    }
  }
  const sections = [...byTag].map(([tag, rows]) => `<h2>${esc(tag)}</h2>${rows.join('')}`).join('')
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}code{font-size:14px}.op{padding:.4rem 0;border-bottom:1px solid #eee}.m{display:inline-block;min-width:4.5em;font-weight:600;font-size:12px}.get{color:#0969da}.post{color:#1a7f37}.patch,.put{color:#9a6700}.delete{color:#cf222e}pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:12px}</style></head>
<body><h1>${esc(doc.info.title)} API <small>v${esc(doc.info.version)}</small></h1>
<p>Every <code>/v1</code> route needs <code>Authorization: Bearer &lt;key&gt;</code>. Errors read <code>{ "error": { "code", "message", "field" } }</code>. Machine-readable document: <a href="/v1/openapi.json">/v1/openapi.json</a>.</p>${sections}</body></html>`
}
