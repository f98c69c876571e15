// ESLint flat config. Besides the usual TypeScript rules it enforces the
// dependency direction of DESIGN.md ("Dependencies point downward"): each
// src/ folder lists the folders it may import from, and every other src/
// folder is a lint error. It also keeps the clock and I/O out of the code the
// simulator runs (control/, policy/, forecast/, router/scheduler/) and out of
// trace replay's core (replay/), which tests drive on a fake clock.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const FOLDERS = ['cli', 'config', 'domain', 'lib', 'perf', 'trace', 'forecast', 'policy', 'control',
  'router', 'fleet', 'sim', 'worker', 'store', 'api', 'telemetry', 'jobs', 'replay'];

// folder -> folders it may import (besides itself). Everything may use domain and lib.
const ALLOWED = {
  domain: [],
  lib: ['domain'],
  perf: [],
  trace: [],
  telemetry: [],
  store: [],
  forecast: [],
  // trace replay's pure core (schedule, SSE decoding, report); its HTTP transport is in cli/.
  replay: [],
  config: ['perf', 'trace'],
  policy: ['perf', 'forecast'],
  // control sees fleet and store only through their interface files (see PORT_FILES).
  control: ['policy', 'forecast', 'perf'],
  router: ['perf', 'fleet', 'telemetry', 'config'],
  fleet: ['perf', 'telemetry', 'config'],
  worker: ['perf', 'telemetry', 'config', 'fleet'],
  sim: ['control', 'router', 'policy', 'perf', 'trace', 'forecast'],
  api: ['control', 'router', 'store', 'telemetry', 'sim', 'policy', 'forecast', 'fleet', 'perf', 'config', 'trace'],
  jobs: ['control', 'forecast', 'store', 'telemetry', 'sim', 'policy', 'perf'],
  cli: FOLDERS.filter((f) => f !== 'cli'),
};
// Interface-only files that a folder not allowed the whole of fleet/ or store/ may still import.
const PORT_FILES = { fleet: 'worker-client', store: 'store' };

function restrictionsFor(folder) {
  const allowed = new Set([folder, 'domain', 'lib', ...ALLOWED[folder]]);
  return FOLDERS.filter((f) => !allowed.has(f)).map((f) => ({
    regex: PORT_FILES[f] && folder === 'control'
      ? `^(\\.\\./)+${f}/(?!${PORT_FILES[f]}\\.js$)`
      : `^(\\.\\./)+${f}(/|$)`,
    message: `src/${folder}/ may not import from src/${f}/ (DESIGN.md: dependencies point downward)`,
  }));
}

const pureClockRules = {
  'no-restricted-globals': ['error',
    { name: 'setTimeout', message: 'No timers here: the simulator drives this code on a virtual clock. Take a Clock.' },
    { name: 'setInterval', message: 'No timers here: the simulator drives this code on a virtual clock. Take a Clock.' },
    { name: 'performance', message: 'No wall clock here: take a Clock.' }],
  'no-restricted-syntax': ['error',
    { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'No wall clock here: take a Clock.' },
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'No wall clock here: take a Clock.' },
    { selector: "ImportDeclaration[source.value=/^(node:)?(fs|http|https|net|child_process|fs\\/promises)$/]", message: 'No I/O here: this code runs inside the simulator.' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native-worker/**', 'coverage/**', '.tap/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...FOLDERS.map((folder) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: restrictionsFor(folder) }] },
  })),
  {
    files: ['src/control/**/*.ts', 'src/policy/**/*.ts', 'src/forecast/**/*.ts', 'src/router/scheduler/**/*.ts', 'src/replay/**/*.ts'],
    rules: pureClockRules,
  },
);
