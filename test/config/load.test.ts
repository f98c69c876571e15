import t from 'tap';
import { join, relative } from 'node:path';
import { InputError, InputErrors } from '../../src/domain/errors.js';
import { loadConfig, validateConfig, type LoadOptions } from '../../src/config/load.js';
import { configKeys } from '../../src/config/reference.js';

/** A subtest, as tap's callbacks receive it. */
type Test = Parameters<Parameters<typeof t.test>[0]>[0];

type Fixture = Parameters<typeof t.testdir>[0];
const PROFILE = { profiles: { 'opt-13b-tp1-a100.json': '{}' } };
const TOKEN = 'a-token-of-24-characters';

/** Writes `document` as FOLDER/pdpilot.json beside `files` and returns its path. */
function configFile(t: Test, document: unknown, files: Fixture = PROFILE): string {
  const dir = t.testdir({ ...(files as object), 'pdpilot.json': typeof document === 'string' ? document : JSON.stringify(document, null, 2) });
  return join(dir, 'pdpilot.json');
}

/** The fault lines loading `document` gives, with the file's path shown as FILE and its folder as DIR. */
async function faults(t: Test, document: unknown, files?: Fixture, options?: LoadOptions): Promise<string[]> {
  const file = configFile(t, document, files);
  try {
    await loadConfig(file, options);
    return [];
  } catch (error) {
    const list = error instanceof InputErrors ? error.errors : error instanceof InputError ? [error] : [];
    if (list.length === 0) throw error;
    // Paths below the working directory are shown relative to it (the fixtures are), others absolute.
    const dir = relative(process.cwd(), file.slice(0, -'/pdpilot.json'.length));
    return list.map((e) => e.message.split(file).join('FILE').split(dir).join('DIR'));
  }
}

t.test('a minimal file loads: defaults applied, paths resolved against its folder', async (t) => {
  const file = configFile(t, { fleet: { workers: 6 } });
  const { config, warnings } = await loadConfig(file);
  const dir = file.slice(0, -'/pdpilot.json'.length);
  t.equal(config.fleet.profile, join(dir, 'profiles/opt-13b-tp1-a100.json'));
  t.equal(config.store.path, join(dir, '.pdpilot/state.json'));
  t.equal(config.fleet.initialPrefill, 3);
  t.equal(config.policy.name, 'pdpilot');
  t.equal(config.router.port, 8000);
  t.same(warnings, []);
});

t.test('the initial split defaults to half, moved into the floors', async (t) => {
  const split = async (workers: number, prefill: number, decode: number) =>
    (await loadConfig(configFile(t, { fleet: { workers }, controller: { minPerRole: { prefill, decode } } }))).config.fleet.initialPrefill;
  t.equal(await split(5, 1, 1), 2);
  t.equal(await split(5, 3, 1), 3);
  t.equal(await split(5, 1, 4), 1);
  t.equal(await split(1, 0, 0), 0);
});

t.test('a missing or unreadable config file is one error naming it', async (t) => {
  const dir = t.testdir({ folder: {} });
  await t.rejects(loadConfig(join(dir, 'none.json')), { where: join(dir, 'none.json'), message: `${join(dir, 'none.json')}: file not found` });
  await t.rejects(loadConfig(join(dir, 'folder')), { message: /is a folder, not a config file$/ });
});

t.test('invalid JSON names the line', async (t) => {
  t.same(await faults(t, '{\n  "fleet": {\n    "workers": 4,\n  }\n}\n'), ['FILE:4: invalid JSON: trailing comma before } (column 3)']);
});

t.test('referenced files: profile and policy file must exist, the store file may be created', async (t) => {
  t.same(await faults(t, {}, {}), ['FILE: fleet.profile: file not found: DIR/profiles/opt-13b-tp1-a100.json']);
  t.same(await faults(t, { fleet: { profile: 'profiles' } }), ['FILE: fleet.profile: not a file: DIR/profiles']);
  t.same(await faults(t, { policy: { file: 'policies/mine.json' } }), ['FILE: policy.file: file not found: DIR/policies/mine.json']);
  t.same(await faults(t, { policy: { file: 'policies/mine.json' } }, { ...PROFILE, policies: { 'mine.json': '{}' } }), []);
  t.same(await faults(t, { store: { path: 'deep/new/folders/state.json' } }), [], 'folders are created on first start');
  t.same(await faults(t, { store: { path: 'profiles' } }), ['FILE: store.path: not a file: DIR/profiles']);
  t.same(await faults(t, { store: { path: 'profiles/opt-13b-tp1-a100.json/state.json' } }), [
    'FILE: store.path: cannot be created: DIR/profiles/opt-13b-tp1-a100.json is not a folder',
  ]);
  t.same(await faults(t, {}, {}, { checkFiles: false }), [], 'checkFiles: false judges the content alone');
});

t.test('absolute paths are kept as they are', async (t) => {
  const profile = join(t.testdirName, 'elsewhere', 'p.json');
  const dir = t.testdir({ elsewhere: { 'p.json': '{}' }, conf: { 'pdpilot.json': JSON.stringify({ fleet: { profile } }) } });
  const { config } = await loadConfig(join(dir, 'conf', 'pdpilot.json'));
  t.equal(config.fleet.profile, profile);
});

t.test('fleet size against the floors, the initial split and the GPU budget', async (t) => {
  t.same(await faults(t, { fleet: { workers: 3 }, controller: { minPerRole: { prefill: 2, decode: 2 } } }), [
    'FILE: controller.minPerRole: needs 4 workers (prefill 2 + decode 2) but the fleet has 3',
  ]);
  t.same(await faults(t, { fleet: { workers: 4, initialPrefill: 5 } }), ['FILE: fleet.initialPrefill: must be ≤ fleet.workers (4) (got 5)']);
  t.same(await faults(t, { fleet: { workers: 4, initialPrefill: 0 } }), ['FILE: fleet.initialPrefill: must be ≥ controller.minPerRole.prefill (1) (got 0)']);
  t.same(await faults(t, { fleet: { workers: 4, initialPrefill: 4 } }), [
    'FILE: fleet.initialPrefill: leaves 0 decode workers, fewer than controller.minPerRole.decode (1)',
  ]);
  t.same(await faults(t, { fleet: { workers: 4 }, controller: { gpuBudget: 3 } }), ['FILE: controller.gpuBudget: must be ≥ the fleet size (4) (got 3)']);
  t.same(await faults(t, { fleet: { workers: 4 }, controller: { gpuBudget: 8 } }), []);
});

t.test('ports may not collide, and the worker range must fit', async (t) => {
  t.same(await faults(t, { admin: { port: 8000 } }), ['FILE: admin.port: collides with router.port (8000)']);
  t.same(await faults(t, { router: { port: 8102 } }), ['FILE: fleet.basePort: collides with router.port (8102)']);
  t.same(await faults(t, { admin: { port: 8103 } }), ['FILE: fleet.basePort: collides with admin.port (8103)']);
  t.same(await faults(t, { admin: { port: 8104 } }), [], 'the port after the last worker is free');
  t.same(await faults(t, { admin: { port: 8000, host: '10.1.2.3' } }), [], 'different addresses do not collide');
  t.same(await faults(t, { admin: { port: 8000, host: '0.0.0.0' } }), ['FILE: admin.port: collides with router.port (8000)'], 'a wildcard overlaps every address');
  t.same(await faults(t, { admin: { port: 8000, host: 'localhost' } }), ['FILE: admin.port: collides with router.port (8000)'], 'loopback names overlap');
  t.same(await faults(t, { fleet: { workers: 10, basePort: 65530 } }), ['FILE: fleet.basePort: 10 workers from port 65530 would need ports up to 65539 (> 65535)']);
});

t.test('static fleets', async (t) => {
  const urls = [
    { url: 'http://10.0.0.5:8100' },
    { url: 'http://10.0.0.6:8000', kind: 'vllm', role: 'decode' },
    { url: 'http://127.0.0.1:8100', kind: 'sglang', role: 'prefill' },
  ];
  const file = configFile(t, { fleet: { mode: 'static', urls } });
  const { config } = await loadConfig(file);
  t.equal(config.fleet.urls.length, 3);
  t.equal(config.fleet.urls[0]?.kind, 'native', 'kind defaults to native');
  t.equal(config.fleet.initialPrefill, undefined, 'the split of a static fleet is what its workers report');

  t.same(await faults(t, { fleet: { mode: 'static' } }), ['FILE: fleet.urls: a static fleet needs at least one worker']);
  t.same(await faults(t, { fleet: { mode: 'static', workers: 3, initialPrefill: 1, urls } }), [
    'FILE: fleet.workers: applies only when fleet.mode is "local" (a static fleet has one worker per fleet.urls entry)',
    'FILE: fleet.initialPrefill: applies only when fleet.mode is "local" (a static fleet has one worker per fleet.urls entry)',
  ]);
  t.same(await faults(t, { fleet: { urls } }), ['FILE: fleet.urls: applies only when fleet.mode is "static"']);
  t.same(
    await faults(t, {
      fleet: {
        mode: 'static',
        urls: [{ url: 'http://a:1' }, { url: 'ftp://a:2' }, { url: 'not a url' }, { url: 'http://a:1/' }, { url: 'http://b:3', kind: 'vllm' }, { url: 'http://127.0.0.1:9400' }],
      },
    }),
    [
      'FILE: fleet.urls.1.url: must be an http or https URL (got ftp:)',
      'FILE: fleet.urls.2.url: not a URL: "not a url"',
      'FILE: fleet.urls.3.url: duplicate of fleet.urls.0.url',
      'FILE: fleet.urls.4.role: required for a vllm worker',
      'FILE: fleet.urls.5.url: collides with admin.port (9400)',
    ],
  );
  const loaded = await loadConfig(configFile(t, { fleet: { mode: 'static', urls, backend: 'cuda', basePort: 9000 } }));
  t.same(
    loaded.warnings.map((w) => w.message),
    ['ignored: applies only when fleet.mode is "local"', 'ignored: applies only when fleet.mode is "local"'],
  );
  t.same(loaded.warnings.map((w) => w.where.split(': ')[1]), ['fleet.backend', 'fleet.basePort']);
});

t.test('router, restart, policy, retention and job rules', async (t) => {
  t.same(await faults(t, { router: { maxTokens: 2048, contextTokens: 2048 } }), [
    'FILE: router.maxTokens: must be < router.contextTokens (2048) so that a prompt still fits (got 2048)',
  ]);
  t.same(await faults(t, { router: { localPrefillMaxTokens: 4096 } }), ['FILE: router.localPrefillMaxTokens: must be < router.contextTokens (2048) (got 4096)']);
  t.same(await faults(t, { router: { scorers: { lengthAware: 0, queue: 0, kv: 0, batch: 0 } } }), [
    'FILE: router.scorers: lengthAware and queue are both 0: nothing ranks prefill workers',
    'FILE: router.scorers: kv and batch are both 0: nothing ranks decode workers',
  ]);
  t.same(await faults(t, { fleet: { restart: { backoffBaseSeconds: 10, backoffMaxSeconds: 5 } } }), [
    'FILE: fleet.restart.backoffMaxSeconds: must be ≥ fleet.restart.backoffBaseSeconds (10) (got 5)',
  ]);
  t.same(await faults(t, { policy: { name: 'dopd', file: 'p.json' } }, { ...PROFILE, 'p.json': '{}' }), ['FILE: policy: give policy.name or policy.file, not both']);
  t.same(await faults(t, { policy: { name: 'oracle' } }), ['FILE: policy.name: "oracle" runs only in the simulator (pdpilot sim / bench), not in the daemon']);
  t.same(await faults(t, { store: { retention: { historyDays: 1, compactAfterHours: 24 } } }), [
    'FILE: store.retention.compactAfterHours: must be < store.retention.historyDays × 24 (24): history would be deleted before it is compacted (got 24)',
  ]);
  t.same(await faults(t, { jobs: { refit: '61 * * * *', compaction: 'off', dailySummary: 'daily', timezone: 'Mars/Olympus' } }), [
    'FILE: jobs.refit: invalid cron expression: 61 is a invalid expression for minute',
    'FILE: jobs.dailySummary: invalid cron expression: expected 5 or 6 fields but got 1',
    'FILE: jobs.timezone: unknown time zone "Mars/Olympus"',
  ]);
  t.same(await faults(t, { jobs: { refit: '*/15 * * * *', timezone: 'Europe/Paris' } }), []);
});

t.test('admin tokens: literal or from the environment, never short, names unique', async (t) => {
  const env = { OPS_TOKEN: TOKEN, SHORT: 'abc' };
  const file = configFile(t, {
    admin: {
      tokens: [
        { name: 'ops', tokenEnv: 'OPS_TOKEN', scope: 'admin' },
        { name: 'grafana', token: 'literal-token-0123456789', scope: 'read' },
        { name: 'ci', tokenEnv: 'UNSET_TOKEN', scope: 'admin' },
      ],
    },
  });
  const { config, warnings } = await loadConfig(file, { env });
  t.same(
    config.admin.tokens.map((e) => [e.name, e.token]),
    [
      ['ops', TOKEN],
      ['grafana', 'literal-token-0123456789'],
    ],
    'the token whose variable is unset is dropped',
  );
  t.same(warnings, [{ where: `${file}: admin.tokens.2.tokenEnv`, message: 'UNSET_TOKEN is not set: token "ci" is disabled' }]);

  t.same(
    await faults(
      t,
      {
        admin: {
          tokens: [
            { name: 'a', tokenEnv: 'SHORT', scope: 'admin' },
            { name: 'b', token: 'short', scope: 'read' },
            { name: 'a', token: TOKEN, tokenEnv: 'OPS_TOKEN', scope: 'read' },
            { name: 'd', scope: 'read' },
          ],
        },
      },
      PROFILE,
      { env },
    ),
    [
      'FILE: admin.tokens.1.token: must be at least 16 characters (got 5)',
      'FILE: admin.tokens.2: give exactly one of token and tokenEnv',
      'FILE: admin.tokens.2.name: duplicate of admin.tokens.0.name ("a")',
      'FILE: admin.tokens.3: give exactly one of token and tokenEnv',
      'FILE: admin.tokens.0.tokenEnv: SHORT holds 3 characters; a token needs at least 16',
    ],
  );
});

t.test('an admin API open beyond loopback without tokens is a warning', async (t) => {
  const { warnings } = await loadConfig(configFile(t, { admin: { host: '0.0.0.0' } }));
  t.same(warnings.map((w) => w.message), ['binds 0.0.0.0, beyond loopback, and admin.tokens is empty']);
});

t.test('one bad value gives one error, while other rules still run', async (t) => {
  // workers is wrong, so the floor and port rules that need it stay quiet; the
  // unrelated router rule and the missing profile are still reported.
  t.same(
    await faults(t, { fleet: { workers: 'many' }, controller: { minPerRole: { prefill: 9 } }, router: { maxTokens: 4096 } }, {}),
    [
      'FILE: fleet.workers: expected integer, got string',
      'FILE: router.maxTokens: must be < router.contextTokens (2048) so that a prompt still fits (got 4096)',
      'FILE: fleet.profile: file not found: DIR/profiles/opt-13b-tp1-a100.json',
    ],
  );
  t.same(await faults(t, 'null'), ['FILE: expected object, got null']);
});

t.test('any key set to a wrong type is reported, never a crash', async (t) => {
  // Each key in turn, at every depth, replaced by null and by a string: the
  // cross-field rules must skip what the schema rejected, not trip over it.
  const base = {
    fleet: { mode: 'static', urls: [{ url: 'http://10.0.0.5:8100' }, { url: 'http://10.0.0.6:8100' }] },
    admin: { tokens: [{ name: 'a', token: TOKEN, scope: 'admin' }] },
  };
  await t.resolves(validateConfig(base, 'c.json', { checkFiles: false }), 'the base document is valid');
  for (const { path } of configKeys()) {
    for (const bad of [null, 'x']) {
      const document = structuredClone(base) as Record<string, unknown>;
      const keys = path.replace(/\[\]/g, '.0').split('.');
      let node = document;
      for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
      node[keys.at(-1)!] = bad;
      const outcome = await validateConfig(document, 'c.json', { checkFiles: false }).then(
        () => 'loaded',
        (error: unknown) => (error instanceof InputErrors ? error.errors.map((e) => e.message).join('; ') : String(error)),
      );
      t.match(outcome, /^(loaded$|c\.json: )/, `${path} = ${JSON.stringify(bad)}: ${outcome}`);
    }
  }
});
