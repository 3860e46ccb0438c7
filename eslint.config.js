// Lint: typescript-eslint's recommended type-aware rules, plus vitest's valid-expect so that an
// `expect` without a matcher (which asserts nothing) fails the build.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vitest from '@vitest/eslint-plugin';

export default tseslint.config(
  // vendor/: the FAISS binding's build and the OHIF viewer that scripts/fetch-ohif.sh unpacks.
  { ignores: ['.bench-build/**', 'dist/**', 'node_modules/**', 'var/**', 'coverage/**', 'models/**', 'vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { vitest },
    rules: {
      'vitest/valid-expect': 'error',
      // Helpers named expectXxx() hold the assertions of the tests that call them.
      'vitest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*'] }],
      'vitest/no-focused-tests': 'error',
      'vitest/no-identical-title': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', module: 'writable', require: 'readonly', URL: 'readonly' } },
  },
);
