import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // chDB binds one data directory per process: every test file gets its own fork.
    pool: 'forks',
    isolate: true,
    testTimeout: 60_000,
    // Generous guards, not expectations: a server start on a busy shared machine took over a minute.
    hookTimeout: 300_000,
  },
})
