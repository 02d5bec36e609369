import { defineConfig } from 'vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

// `npm run build` (vite build ui) writes the static dashboard to ui/dist, which the API serves at `/`.
// `npx vite ui` serves it with hot reload and forwards /v1 to an API started on API_URL (default :3200).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [svelte({ configFile: false })],
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/v1': process.env.API_URL ?? 'http://localhost:3200' } },
})
