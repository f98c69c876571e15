// `pdpilot config check FILE` end to end: the built CLI in a child process,
// its stdout, stderr and exit status (DESIGN.md: 0 valid, 2 bad input).
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A subtest, as tap's callbacks receive it. */
type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin/pdpilot.js');
const example = readFileSync(join(root, 'config.example.json'), 'utf8');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function pdpilot(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    // A clean environment: no PDPILOT_ADMIN_TOKEN leaking in from the developer's shell.
    const env = { PATH: process.env.PATH ?? '', ...options.env };
    execFile(process.execPath, [bin, ...args], { env, cwd: options.cwd ?? root }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** A folder holding `config` as c.json and a stand-in for the shipped profile; returns the folder. */
function withConfig(t: Test, config: string | object): string {
  const text = typeof config === 'string' ? config : JSON.stringify(config, null, 2);
  return t.testdir({ 'c.json': text, profiles: { 'opt-13b-tp1-a100.json': '{}' } });
}

t.test('the example config is valid: exit 0, a summary on stdout, the unset token as a warning', async (t) => {
  // Run from elsewhere: the example's relative paths resolve against its own folder, not the working directory.
  const file = join(withConfig(t, example), 'c.json');
  const run = await pdpilot(['config', 'check', file]);
  t.equal(run.code, 0);
  t.match(run.stdout, `${file}: valid\n`);
  t.match(run.stdout, /fleet\s+local, 4 sim workers on 127\.0\.0\.1:8100–8103, starting 2 prefill \/ 2 decode/);
  t.match(run.stdout, /slo\s+TTFT ≤ 1 s and TPOT ≤ 0\.1 s for 90% of requests/);
  t.match(run.stdout, /policy\s+pdpilot/);
  t.match(run.stdout, /router\s+http:\/\/127\.0\.0\.1:8000 serving facebook\/opt-13b/);
  t.match(run.stdout, /admin\s+http:\/\/127\.0\.0\.1:9400 \(API and \/metrics\), no tokens/);
  t.match(run.stdout, /store\s+.*\.pdpilot\/state\.json/);
  t.equal(run.stderr, `${file}: admin.tokens.0.tokenEnv: warning: PDPILOT_ADMIN_TOKEN is not set: token "operator" is disabled\n`);

  const withToken = await pdpilot(['config', 'check', file], { env: { PDPILOT_ADMIN_TOKEN: 'an-operator-token-for-tests' } });
  t.equal(withToken.code, 0);
  t.equal(withToken.stderr, '');
  t.match(withToken.stdout, /1 token \(1 admin, 0 read\)/);
  t.notMatch(withToken.stdout, /an-operator-token-for-tests/, 'the secret is never printed');
});

t.test('faults: exit 2, nothing on stdout, one line FILE: key.path: reason each', async (t) => {
  const cases: [string, object | string, string[]][] = [
    ['unknown key', { router: { prot: 8000 } }, ['c.json: router.prot: unknown key (did you mean "port"?)']],
    ['wrong type', { controller: { advisory: 'yes' } }, ['c.json: controller.advisory: expected boolean, got string']],
    ['out of range', { slo: { attainment: 1.5 } }, ['c.json: slo.attainment: must be ≤ 1 (got 1.5)']],
    ['missing referenced file', { policy: { file: 'policies/none.json' } }, ['c.json: policy.file: file not found: policies/none.json']],
    ['invalid JSON', '{\n  "slo": {\n    "ttftSeconds": 1\n    "tpotSeconds": 0.1\n  }\n}\n', [`c.json:4: invalid JSON: expected ',' or '}', found '"' (column 5)`]],
    [
      'several at once',
      { fleet: { workers: 0, backend: 'tpu' }, admin: { port: 8000, tokens: [{ name: 'x', scope: 'read' }] }, extra: 1 },
      [
        'c.json: extra: unknown key',
        'c.json: fleet.backend: expected one of "sim", "cpu", "cuda"; got "tpu"',
        'c.json: fleet.workers: must be ≥ 1 (got 0)',
        'c.json: admin.port: collides with router.port (8000)',
        'c.json: admin.tokens.0: give exactly one of token and tokenEnv',
      ],
    ],
  ];
  for (const [name, config, expected] of cases) {
    await t.test(name, async (t) => {
      const run = await pdpilot(['config', 'check', 'c.json'], { cwd: withConfig(t, config) });
      t.equal(run.code, 2, 'exit 2');
      t.equal(run.stdout, '');
      t.same(run.stderr.trimEnd().split('\n'), expected);
    });
  }
});

t.test('a config file that does not exist', async (t) => {
  const run = await pdpilot(['config', 'check', 'no/such/config.json']);
  t.equal(run.code, 2);
  t.equal(run.stderr, 'no/such/config.json: file not found\n');
});

t.test('no file argument is bad usage', async (t) => {
  const run = await pdpilot(['config', 'check']);
  t.equal(run.code, 2);
  t.match(run.stderr, /missing required argument 'file'/);
});

t.test('config reference prints the key table', async (t) => {
  const run = await pdpilot(['config', 'reference']);
  t.equal(run.code, 0);
  t.match(run.stdout, /\| `controller\.intervalSeconds` \| number \| `30` \| > 0 \|/);
});
