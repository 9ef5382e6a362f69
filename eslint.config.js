import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// The house's walls, as Kubernetes keeps them between k8s.io/api,
// k8s.io/client-go and the programs: api/ (the wire contract) imports
// nothing of ours; client/ (the Kubernetes client plumbing) only api/; the
// two apps (server/, plugin/) api/ and client/ but never each other; the
// local control plane (cluster/) api/ and client/. Tests of a module follow
// its module's rule.
const wall = (name, regex) => ({ regex, message: `${name}: keep the layers apart (see eslint.config.js and docs/architecture.md)` });
const APPS = wall('the apps may not import each other or the local cluster', '(^|/)(server|plugin|cluster)/');
const restrict = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cluster/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  // No import cycle anywhere, dynamic imports included: two modules that import each other are one
  // module in two files, or miss a third that both need (scripts/eslint-config.test.ts proves the
  // rule bites). Type-only imports are erased at build time and not followed by the rule.
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver()],
      // Read the files it follows as TypeScript.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  // Rooms a reader can hold in mind: no function of the apps or the client over 80 lines.
  {
    files: ['server/src/**/*.ts', 'plugin/src/**/*.ts', 'client/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  restrict(['api/**/*.ts'], [wall('api/ is the wire contract and imports nothing of ours', '(^|/)(client|server|plugin|cluster|test|bench|scripts)/')]),
  restrict(['client/**/*.ts'], [wall('client/ imports only api/', '(^|/)(server|plugin|cluster|test|bench|scripts)/')]),
  restrict(['server/**/*.ts'], [wall('server/ may not import the plugin, the local cluster or tests', '(^|/)(plugin|cluster|test|bench|scripts)/')]),
  restrict(['plugin/**/*.ts'], [wall('plugin/ may not import the server, the local cluster or tests', '(^|/)(server|cluster|test|bench|scripts)/')]),
  restrict(['cluster/**/*.ts'], [APPS]),
);
