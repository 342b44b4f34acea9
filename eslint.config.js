import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.dependency-cruiser.cjs', 'node_modules/**', 'dist/**', 'test/bench/results/**', '**/*.wasm', 'unikernel-runner/zapps/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-globals': ['error', { name: 'parseFloat', message: 'money and gas are bigint' }],
      'no-restricted-syntax': ['error', {
        selector: "BinaryExpression[operator='/'][left.type='CallExpression'][left.callee.object.name='Date'][left.callee.property.name='now']",
        message: 'Unix seconds come from systemClock (unikernel-runner/clock.ts), or from a Clock passed in',
      }],
    },
  },
  { files: ['unikernel-runner/clock.ts'], rules: { 'no-restricted-syntax': 'off' } },
  {
    // The contract is pure: no clock, no randomness, no environment, no I/O.
    files: ['contracts/**/*.ts'],
    ignores: ['contracts/**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'time comes in through the context' },
        { object: 'Math', property: 'random', message: 'randomness comes in as an input' },
        { object: 'process', property: 'env', message: 'the contract reads no environment' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date']", message: 'time comes in through the context' },
      ],
      'no-restricted-imports': ['error', { patterns: ['node:fs*', 'node:net', 'node:http*', 'node:child_process', 'node:worker_threads', 'fs', 'net', 'http'] }],
    },
  },
);
