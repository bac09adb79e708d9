import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

export default defineConfig(
  {
    ignores: [
      'dist/',
      'dist-e2e/',
      'node_modules/',
      'test-results/',
      'playwright-report/',
      'tests/fixtures/generated/',
      'bench-results/',
      '.personabench-browser/',
    ],
  },
  js.configs.recommended,
  ...ts.configs.strictTypeChecked,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
      parserOptions: {
        project: ['./tsconfig.json', './tsconfig.node.json'],
        extraFileExtensions: ['.svelte'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: ts.parser, svelteConfig },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The worker is the only writer of IndexedDB (issue 9): the page reads with live queries and
    // asks the worker for every change, through the contract. Its implementation stays its own.
    files: ['src/state/**', 'src/ui/**', 'src/App.svelte', 'src/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/db', '**/db/*'],
              importNamePattern:
                '^(add|set|create|delete|remove|rename|send|prepare|finish|save|mark|commit|resolve|enqueue|claim|requeue|fail|complete|import|wipe|update|record|forget|touch|keep|index|unindex|backfill)',
              message:
                'Only the worker writes the database: add a handler to the worker contract (src/worker/contract.ts).',
            },
            {
              group: [
                '**/worker/*',
                '!**/worker/contract',
                '!**/worker/lock-names',
                '!**/worker/error-transfer',
                '!**/worker/assistant.worker.ts?worker&url',
              ],
              message:
                'The page talks to the worker through the contract (src/worker/contract.ts), never its implementation.',
            },
          ],
        },
      ],
    },
  },
  {
    // Pure domain logic: no engine, database, worker or UI code in it (they import core, not back).
    files: ['src/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/*', '**/db', '**/db/*', '**/worker/*', '**/state/*', '**/ui/*'],
              message: 'src/core imports nothing above it: move the shared type into src/core.',
            },
          ],
        },
      ],
    },
  },
);
