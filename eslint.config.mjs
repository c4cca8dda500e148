import nextVitals from 'eslint-config-next/core-web-vitals';
import nextTs from 'eslint-config-next/typescript';

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: ['node_modules/**', '.next/**', '.data/**', 'next-env.d.ts', 'test-results/**', 'playwright-report/**', 'bench/out/**'],
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Node scripts and CommonJS config files.
    files: ['scripts/**', 'next.config.js', 'lib/db/**', 'db/**', 'bench/**', 'tests/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];

export default config;
