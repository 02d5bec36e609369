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
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // Tests read loosely typed JSON answers on purpose.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
