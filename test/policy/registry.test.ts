import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { InputError, InputErrors } from '../../src/domain/errors.js';
import { POLICY_NAMES, createPolicy, policyParamsSchema, type PolicyName } from '../../src/policy/registry.js';
import { StaticPolicy } from '../../src/policy/static.js';
import { Value } from '@sinclair/typebox/value';

const policiesDir = new URL('../../policies/', import.meta.url).pathname;
const readText = (path: string) => readFileSync(path, 'utf8');
/** Parameters a policy cannot default (static-best's split comes from the caller's search). */
const callerParams: Partial<Record<PolicyName, Record<string, unknown>>> = { 'static-best': { prefill: 2, decode: 6 } };

t.test('every name creates its policy, named as asked', async (t) => {
  for (const name of POLICY_NAMES) t.equal(createPolicy(name, callerParams[name]).name, name);
});

t.test('one shipped file per policy; each validates and carries the schema defaults', async (t) => {
  const files = readdirSync(policiesDir).filter((f) => f.endsWith('.json'));
  t.same(files.map((f) => f.replace(/\.json$/, '')).sort(), [...POLICY_NAMES].sort());
  for (const name of POLICY_NAMES) {
    const path = `${policiesDir}${name}.json`;
    t.equal(createPolicy(path, callerParams[name], readText).name, name, `${name}.json loads`);
    const file = JSON.parse(readText(path)) as { params?: Record<string, unknown> };
    const defaults = Value.Default(policyParamsSchema(name), {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(file.params ?? {})) t.same(value, defaults[key], `${name}.json ${key} is the documented default`);
  }
});

t.test('static-best is static with the split chosen by the caller', async (t) => {
  const p = createPolicy('static-best', { prefill: 3, decode: 5 });
  t.ok(p instanceof StaticPolicy);
  t.same((p as StaticPolicy).params, { prefill: 3, decode: 5 });
  t.throws(() => createPolicy('static-best'), { message: /^policy static-best: prefill: static-best needs prefill and decode/ });
});

t.test('bad input names the policy, the file and the key', async (t) => {
  t.throws(() => createPolicy('nope'), { message: /^policy: unknown policy "nope" \(known: static, / });
  t.throws(() => createPolicy('nope'), InputError);
  t.throws(() => createPolicy('static', { prefill: 0 }), { message: /^policy static: prefill: Expected integer to be greater or equal to 1/ });
  t.throws(() => createPolicy('static', { prefil: 2 }), { message: /^policy static: prefil: Unexpected property/ }, 'unknown key');
  t.throws(() => createPolicy('static', { prefill: 'x', decode: 0 }), InputErrors, 'several faults at once');
  const files: Record<string, string> = {
    'a/bad-json.json': '{',
    'a/wrong-policy.json': '{"schemaVersion":1,"policy":"nope"}',
    'a/bad-param.json': '{"schemaVersion":1,"policy":"static","params":{"prefill":"two"}}',
    'a/no-version.json': '{"policy":"static"}',
  };
  const read = (p: string) => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  };
  t.throws(() => createPolicy('a/bad-json.json', {}, read), { message: /^a\/bad-json\.json: invalid JSON/ });
  t.throws(() => createPolicy('a/wrong-policy.json', {}, read), { message: /^a\/wrong-policy\.json: policy: unknown policy "nope"/ });
  t.throws(() => createPolicy('a/bad-param.json', {}, read), { message: /^a\/bad-param\.json: params\.prefill: Expected integer/ });
  t.throws(() => createPolicy('a/no-version.json', {}, read), { message: /^a\/no-version\.json: schemaVersion/ });
  t.throws(() => createPolicy('a/missing.json', {}, read), { message: /^a\/missing\.json: cannot read policy file: ENOENT/ });
  t.throws(() => createPolicy('a/bad-json.json'), { message: /pass a readText function/ });
});

t.test('explicit params override the file', async (t) => {
  const p = createPolicy(`${policiesDir}static.json`, { prefill: 3, decode: 1 }, readText) as StaticPolicy;
  t.same(p.params, { prefill: 3, decode: 1 });
});
