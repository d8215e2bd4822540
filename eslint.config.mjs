import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/*.js', '**/*.d.ts', 'node_modules/**', 'dist/**', 'dist-pkg/**', 'examples/java/target/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'eqeqeq': ['error', 'always'],
      'no-console': ['error', { allow: ['warn', 'error', 'log'] }],
      'prefer-const': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      // Python, Java and Go users would read `Error: <message>` (lib/shared/errors.ts).
      'no-restricted-syntax': ['error', {
        selector: "ThrowStatement > NewExpression[callee.name='Error']",
        message: 'throw EtcdConfigError (lib/shared/errors.ts), whose string form is its message in every jsii language',
      }],
    },
  },
);
