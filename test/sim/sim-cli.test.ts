import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// End to end through the built CLI (npm test builds first) on the shipped traces.
const root = fileURLToPath(new URL('../../', import.meta.url));
const conv = 'data/traces/AzureLLMInferenceTrace_conv.csv';
const code = 'data/traces/AzureLLMInferenceTrace_code.csv';
const profile = 'profiles/opt-13b-tp1-a100.json';

function pdpilot(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/pdpilot.js', ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('sim static on the conv trace: exit 0 and the sim JSON', async (t) => {
  const r = pdpilot('sim', '--trace', conv, '--gpus', '8', '--profile', profile, '--policy', 'static', '--prefill', '3', '--decode', '5', '--json', '-');
  t.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as Record<string, number | string>;
  t.same(Object.keys(json), [
    'policy', 'attainment', 'ttft_p50_s', 'ttft_p90_s', 'ttft_p99_s', 'tpot_p50_s', 'tpot_p90_s', 'tpot_p99_s',
    'gpu_seconds', 'flips', 'completed', 'dropped', 'ttft_mean_s', 'tpot_mean_s', 'decisions',
  ]);
  t.equal(json.policy, 'static');
  t.equal(json.completed, 19366);
  t.equal(json.flips, 0);
  t.ok((json.ttft_p50_s as number) <= (json.ttft_p90_s as number) && (json.ttft_p90_s as number) <= (json.ttft_p99_s as number));
});

t.test('sim --compat distserve and --rate-scale run on the code trace', async (t) => {
  const r = pdpilot('sim', '--trace', code, '--gpus', '4', '--profile', profile, '--policy', 'static', '--prefill', '2', '--decode', '2', '--compat', 'distserve', '--rate-scale', '0.5', '--json', '-');
  t.equal(r.code, 0, r.stderr);
  t.equal((JSON.parse(r.stdout) as { completed: number }).completed, 8819);
});

t.test('bad input: exit 2 with one line naming the fault', async (t) => {
  const dir = t.testdir({ 'broken-profile.json': '{"schemaVersion": 1,' });
  const cases: [string, string[], RegExp][] = [
    ['unknown policy', ['--policy', 'nope'], /unknown policy "nope"/],
    ['SLO ≤ 0', ['--policy', 'static', '--slo-ttft', '0'], /^--slo-ttft: must be a number > 0/],
    ['pool below the minimum', ['--policy', 'static', '--gpus', '1'], /^--gpus: 1 GPU\(s\) is smaller than policy static's minimum pool of 2/],
    ['split not adding up', ['--policy', 'static', '--prefill', '3', '--decode', '3'], /do not add up to --gpus 8/],
    ['profile that does not parse', ['--policy', 'static', '--profile', `${dir}/broken-profile.json`], /broken-profile\.json: invalid JSON/],
    ['trace that does not parse', ['--policy', 'static', '--trace', 'profiles/opt-13b-tp1-a100.json'], /profiles\/opt-13b-tp1-a100\.json.*unknown trace format/],
    ['missing trace', ['--policy', 'static', '--trace', 'nope.csv'], /^nope\.csv: /],
  ];
  for (const [what, args, pattern] of cases) {
    const base: Record<string, string> = { '--trace': conv, '--gpus': '8', '--profile': profile };
    for (let i = 0; i < args.length; i += 2) base[args[i]!] = args[i + 1]!;
    const r = pdpilot('sim', ...Object.entries(base).flat());
    t.equal(r.code, 2, `${what}: exit 2 (${r.stderr.trim()})`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
    t.match(r.stderr, pattern, what);
  }
});

t.test('bench: unknown policy and bad attainment are refused before any simulation', async (t) => {
  const base = ['bench', '--trace', code, '--gpus', '8', '--profile', profile, '--slo-ttft', '1', '--slo-tpot', '0.1'];
  const unknown = pdpilot(...base, '--attainment', '0.9', '--policies', 'static,bogus');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^--policies: unknown policy "bogus"/);
  const slo = pdpilot('bench', '--trace', code, '--gpus', '8', '--profile', profile, '--slo-ttft', '-1', '--slo-tpot', '0.1', '--attainment', '0.9', '--policies', 'static');
  t.equal(slo.code, 2);
  t.match(slo.stderr, /^--slo-ttft: must be a number > 0/);
});

t.test('bench writes the JSON and a self-contained HTML report', async (t) => {
  const dir = t.testdir({});
  const r = pdpilot('bench', '--trace', code, '--gpus', '4', '--profile', profile, '--slo-ttft', '2', '--slo-tpot', '0.1', '--attainment', '0.9', '--policies', 'static,colocated', '--json', `${dir}/b.json`, '--report', `${dir}/r.html`);
  t.equal(r.code, 0, r.stderr);
  const json = JSON.parse(readFileSync(`${dir}/b.json`, 'utf8')) as { policies: { name: string }[]; trace: { requests: number } };
  t.same(json.policies.map((p) => p.name), ['static', 'colocated']);
  t.equal(json.trace.requests, 8819);
  const html = readFileSync(`${dir}/r.html`, 'utf8');
  t.equal((html.match(/<svg/g) ?? []).length, 4, 'four inline charts');
  t.notMatch(html, /<script/, 'no scripts: self-contained');
  t.match(html, /TTFT CDF per policy/);
});
