// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Import boundaries from STYLE.md: libs import nothing of src/apps; apps import nothing of src. */
const noAppImports = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: noAppImports(
      ['**/src/core/**', '**/src/modules/**', '../../../src/**', '**/apps/**'],
      'libs/ never import src/ or apps/',
    ),
  },
  {
    files: ['apps/**/*.ts'],
    rules: noAppImports(
      ['../../../src/**', '../../src/**', '**/src/core/**', '**/src/modules/**'],
      'apps/ never import src/',
    ),
  },
  {
    // SQL lives in repositories: only they, entities, the database core and migrations touch typeorm.
    files: ['src/**/*.ts', 'cli/**/*.ts', 'apps/**/*.ts', 'libs/**/*.ts'],
    ignores: [
      'src/**/*.repository.ts',
      'src/**/entities/*.ts',
      'src/core/database/**',
      'src/app.ts',
      'src/app.module.ts',
      'src/modules/health/database.health.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'typeorm', message: 'SQL belongs in *.repository.ts', allowTypeImports: true }] },
      ],
    },
  },
  {
    // Nest's DI reads constructor parameter types at runtime: type-only imports would erase them.
    files: ['src/**/*.ts', 'apps/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
);
