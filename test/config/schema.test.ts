import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type PdpilotConfig, type SchemaNode } from '../../src/config/schema.js';
import { closestKey, dottedPath, schemaProblems } from '../../src/config/schema-errors.js';
import { configKeys } from '../../src/config/reference.js';
import { defaultConfig } from '../../src/config/load.js';

const withDefaults = (document: unknown) => Value.Default(ConfigSchema, structuredClone(document)) as PdpilotConfig;
const problemsOf = (document: unknown) => schemaProblems(ConfigSchema, withDefaults(document));

t.test('every key has a description, and every object is closed', async (t) => {
  const keys = configKeys();
  t.ok(keys.length > 50, `${keys.length} keys`);
  for (const { path, node } of keys) {
    t.ok(node.description && node.description.length > 10, `${path} is described`);
    const objectNode: SchemaNode | undefined = node.type === 'object' ? node : node.type === 'array' ? node.items : undefined;
    if (objectNode?.properties) t.equal(objectNode.additionalProperties, false, `${path} rejects unknown keys`);
  }
  t.equal((ConfigSchema as SchemaNode).additionalProperties, false, 'the top level rejects unknown keys');
});

t.test('the defaults fill an empty document and pass the schema', async (t) => {
  const document = withDefaults({});
  t.same(problemsOf({}), []);
  t.equal(document.router.port, 8000);
  t.equal(document.admin.port, 9400);
  t.equal(document.fleet.basePort, 8100);
  t.equal(document.fleet.host, '127.0.0.1');
  t.equal(document.fleet.profile, 'profiles/opt-13b-tp1-a100.json');
  t.equal(document.store.path, '.pdpilot/state.json');
});

t.test('defaultConfig() resolves what the file would leave to the loader', async (t) => {
  const config = defaultConfig('/srv/pdpilot');
  t.equal(config.fleet.profile, '/srv/pdpilot/profiles/opt-13b-tp1-a100.json');
  t.equal(config.store.path, '/srv/pdpilot/.pdpilot/state.json');
  t.equal(config.policy.name, 'pdpilot');
  t.equal(config.fleet.initialPrefill, 2, 'half of 4 workers');
  t.not(defaultConfig('/a').fleet, defaultConfig('/a').fleet, 'each call returns a fresh object');
});

t.test('schema faults come with a dotted key path and a plain reason', async (t) => {
  const cases: [string, unknown, { path: string; reason: string }[]][] = [
    ['unknown key', { controller: { intervalSecs: 5 } }, [{ path: 'controller.intervalSecs', reason: 'unknown key (did you mean "intervalSeconds"?)' }]],
    ['unknown key, unit left out', { slo: { ttft: 1 } }, [{ path: 'slo.ttft', reason: 'unknown key (did you mean "ttftSeconds"?)' }]],
    ['unknown section', { metrics: {} }, [{ path: 'metrics', reason: 'unknown key' }]],
    ['wrong type', { fleet: { workers: 'four' } }, [{ path: 'fleet.workers', reason: 'expected integer, got string' }]],
    ['fraction for an integer', { fleet: { workers: 2.5 } }, [{ path: 'fleet.workers', reason: 'expected integer, got 2.5' }]],
    ['null section', { router: null }, [{ path: 'router', reason: 'expected object, got null' }]],
    ['port too high', { router: { port: 70000 } }, [{ path: 'router.port', reason: 'must be ≤ 65535 (got 70000)' }]],
    ['port zero', { admin: { port: 0 } }, [{ path: 'admin.port', reason: 'must be ≥ 1 (got 0)' }]],
    ['interval not positive', { controller: { intervalSeconds: 0 } }, [{ path: 'controller.intervalSeconds', reason: 'must be > 0 (got 0)' }]],
    ['attainment above 1', { slo: { attainment: 1.01 } }, [{ path: 'slo.attainment', reason: 'must be ≤ 1 (got 1.01)' }]],
    ['attainment 0', { slo: { attainment: 0 } }, [{ path: 'slo.attainment', reason: 'must be > 0 (got 0)' }]],
    ['negative floor', { controller: { minPerRole: { decode: -1 } } }, [{ path: 'controller.minPerRole.decode', reason: 'must be ≥ 0 (got -1)' }]],
    ['tolerance of 1', { controller: { toleranceBand: 1 } }, [{ path: 'controller.toleranceBand', reason: 'must be < 1 (got 1)' }]],
    ['unknown backend', { fleet: { backend: 'gpu' } }, [{ path: 'fleet.backend', reason: 'expected one of "sim", "cpu", "cuda"; got "gpu"' }]],
    ['empty path', { store: { path: '' } }, [{ path: 'store.path', reason: 'must not be empty' }]],
    [
      'array entries by index',
      { admin: { tokens: [{ name: 'ops', tokenEnv: 'T', scope: 'admin' }, { tokenEnv: 'T', scope: 'root' }] } },
      [
        { path: 'admin.tokens.1.name', reason: 'missing required key' },
        { path: 'admin.tokens.1.scope', reason: 'expected one of "read", "admin"; got "root"' },
      ],
    ],
    ['not an object at all', [1, 2], [{ path: '', reason: 'expected object, got array' }]],
  ];
  for (const [name, document, expected] of cases) t.same(problemsOf(document), expected, name);
});

t.test('every fault is reported, not just the first', async (t) => {
  const problems = problemsOf({ fleet: { workers: 0, basePort: 'x' }, slo: { ttftSeconds: -1 }, policy: { name: 'magic' }, extra: true });
  t.same(
    problems.map((p) => p.path).sort(),
    ['extra', 'fleet.basePort', 'fleet.workers', 'policy.name', 'slo.ttftSeconds'],
  );
});

t.test('free-form policy params accept anything', async (t) => {
  t.same(problemsOf({ policy: { name: 'dopd', params: { correction: { ttft: 1.2 }, horizons: [1, 2] } } }), []);
});

t.test('dottedPath unescapes JSON pointer segments', async (t) => {
  t.equal(dottedPath('/admin/tokens/0/scope'), 'admin.tokens.0.scope');
  t.equal(dottedPath('/policy/params/a~1b~0c'), 'policy.params.a/b~c');
  t.equal(dottedPath(''), '');
});

t.test('closestKey suggests only plausible keys', async (t) => {
  const known = ['intervalSeconds', 'cooldownSeconds', 'advisory', 'port', 'host'];
  t.equal(closestKey('IntervalSeconds', known), 'intervalSeconds');
  t.equal(closestKey('cooldownSecond', known), 'cooldownSeconds');
  t.equal(closestKey('interval', known), 'intervalSeconds');
  t.equal(closestKey('prot', known), 'port');
  t.equal(closestKey('foo', known), undefined);
  t.equal(closestKey('gpuBudget', known), undefined);
});
