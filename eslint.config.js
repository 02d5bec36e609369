// Lint for the TypeScript sources (typescript-eslint's recommended rules). Svelte components are type-checked by
// the build and formatted by prettier; they are not linted here (no svelte parser dependency).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', 'ui/dist/**', 'data/**', 'bench/results/**', 'test/fixtures/**', '**/*.svelte'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused names are errors, except those that start with _ (kept on purpose, e.g. destructured away).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Ids, event fields and URLs are checked for control characters on purpose.
      'no-control-regex': 'off',
      // Flags `let x = null; try { x = parse() } catch {}`, the way we read optional JSON.
      'no-useless-assignment': 'off',
      // `cond ? a++ : b++` tallies read well in simulations.
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }],
    },
  },
  {
    // Kysely migrations take Kysely<any> by convention (the schema type is what they create); the seed and CLIs
    // read loosely typed JSON answers of the API.
    files: ['migrations/**/*.ts', 'seed/**/*.ts', 'bin/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { Blob: 'readonly', process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // Tests read loosely typed JSON answers on purpose.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
