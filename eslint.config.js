// @ts-check
/**
 * ESLint flat config. typescript-eslint "recommended" without type information (fast: no program is built).
 * Layer rules (which package may import which) live in .dependency-cruiser.js, not here.
 */
const { defineConfig } = require('eslint/config');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

// Declared by hand rather than via the `globals` package, which is not a direct dependency of this repo.
const nodeGlobals = {
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  global: 'readonly',
  globalThis: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  setImmediate: 'readonly',
  clearImmediate: 'readonly',
  queueMicrotask: 'readonly',
  structuredClone: 'readonly',
  URL: 'readonly',
  URLSearchParams: 'readonly',
  AbortController: 'readonly',
  AbortSignal: 'readonly',
  TextEncoder: 'readonly',
  TextDecoder: 'readonly',
  fetch: 'readonly',
};

const jestGlobals = {
  describe: 'readonly',
  it: 'readonly',
  test: 'readonly',
  expect: 'readonly',
  beforeAll: 'readonly',
  afterAll: 'readonly',
  beforeEach: 'readonly',
  afterEach: 'readonly',
  jest: 'readonly',
};

module.exports = defineConfig(
  {
    ignores: ['apps/console/src/api/schema.d.ts', '**/dist/**', '**/node_modules/**', '**/.data/**', '**/.tools/**', '**/coverage/**', '**/.test-infra/**'],
  },

  // CommonJS JavaScript: scripts/*.js and the root config files (eslint, jest, dependency-cruiser).
  {
    files: ['**/*.js'],
    ...js.configs.recommended,
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: nodeGlobals },
  },

  // TypeScript everywhere: eslint recommended + typescript-eslint recommended (which switches off the core
  // rules TypeScript already checks, such as no-undef).
  ...[js.configs.recommended, ...tseslint.configs.recommended].map((config) => ({ ...config, files: ['**/*.ts', '**/*.tsx'] })),
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { globals: nodeGlobals },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A `let x | undefined` read by a callback created before `x = ...` (late binding, e.g. store.onAppended ->
      // relay) cannot become a `const` without moving it below the callback and into its temporal dead zone.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },

  // Production code logs through pino, never the console.
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },

  // The web console runs in the browser (apps/console, docs/console.md).
  {
    files: ['apps/console/src/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLDialogElement: 'readonly',
        HTMLButtonElement: 'readonly',
        IntersectionObserver: 'readonly',
        Response: 'readonly',
        Blob: 'readonly',
      },
    },
  },

  // Jest globals in test files (and the shared test helpers).
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'libs/testing/**/*.ts'],
    languageOptions: { globals: jestGlobals },
  },
);
