import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', '**/public/vendor/**', 'agent-console/dist/**', 'storefront/dist/**', 'storefront/dist.tmp-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  { files: ['test/**', 'bench/**', 'scripts/**', 'cli/**', 'bin/**'], rules: { 'no-console': 'off', '@typescript-eslint/no-unused-expressions': 'off' } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['**/public/**/*.js'], languageOptions: { globals: { window: 'readonly', document: 'readonly', io: 'readonly', localStorage: 'readonly', speechSynthesis: 'readonly', SpeechSynthesisUtterance: 'readonly', navigator: 'readonly', crypto: 'readonly', TextEncoder: 'readonly', location: 'readonly', alert: 'readonly', EventSource: 'readonly', FormData: 'readonly', DOMParser: 'readonly', btoa: 'readonly' } } },
);
