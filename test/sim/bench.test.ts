import t from 'tap';
import { readFileSync } from 'node:fs';
import { createPolicy } from '../../src/policy/registry.js';
import { runBench } from '../../src/sim/bench.js';
import { searchGoodput } from '../../src/sim/goodput.js';
import { searchStaticSplit } from '../../src/sim/static-best.js';
import { CompactTrace } from '../../src/trace/compact-trace.js';
import { handProfile } from './fixtures/helpers.js';

t.test('goodput search: largest passing scale within the tolerance, bracketing up and down', async (t) => {
  for (const threshold of [0.3, 1, 3.7, 100]) {
    const r = await searchGoodput(async (k) => (k <= threshold ? 0.95 : 0.5), 0.9, 0.01);
    t.ok(r.rateScale <= threshold && r.rateScale >= threshold * 0.99, `threshold ${threshold}: found ${r.rateScale}`);
    t.ok(r.probes.every((p) => (p.attainment >= 0.9) === (p.rateScale <= threshold)), 'every probe simulated');
  }
  const never = await searchGoodput(async () => 0, 0.9);
  t.equal(never.rateScale, 0, 'nothing passes: goodput 0');
});

t.test('static split search finds the best split, exhaustively or by ternary search', async (t) => {
  const goodputOf = (best: number) => async (prefill: number) => ({ rateScale: 10 - Math.abs(prefill - best), probes: [] });
  t.equal((await searchStaticSplit(8, goodputOf(3))).prefill, 3);
  const big = await searchStaticSplit(100, goodputOf(71));
  t.equal(big.prefill, 71);
  t.ok(big.tried.length < 40, `ternary search tried ${big.tried.length} splits, not 99`);
});

t.test('bench JSON has exactly the shape of DESIGN.md', async (t) => {
  const n = 200;
  const trace = new CompactTrace(
    Float64Array.from({ length: n }, (_, i) => i * 0.5),
    Int32Array.from({ length: n }, (_, i) => 100 + ((i * 37) % 500)),
    Int32Array.from({ length: n }, (_, i) => 2 + ((i * 13) % 40)),
  );
  let clock = 0;
  const out = await runBench({
    trace,
    tracePath: 'hand.csv',
    profile: handProfile(),
    profilePath: 'hand.json',
    gpus: 4,
    slo: { ttftSeconds: 0.5, tpotSeconds: 0.02, attainment: 0.9 },
    policies: ['static', 'static-best', 'colocated'],
    makePolicy: (name, params = {}) => createPolicy(name, params, (p) => readFileSync(p, 'utf8')),
    wallSeconds: () => (clock += 1),
  });
  const json = out.json;
  t.same(Object.keys(json), ['trace', 'gpus', 'profile', 'slo', 'policies', 'simulated_requests', 'wall_s']);
  t.same(json.trace, { path: 'hand.csv', requests: n, span_s: 99.5 });
  t.same(json.slo, { ttft_s: 0.5, tpot_s: 0.02, attainment: 0.9 });
  t.same(json.policies.map((p) => p.name), ['static', 'static-best', 'colocated']);
  for (const p of json.policies) {
    t.same(Object.keys(p), ['name', 'goodput_rate_scale', 'goodput_rps_per_gpu', 'at_scale_1']);
    t.same(Object.keys(p.at_scale_1), ['attainment', 'ttft_p50_s', 'ttft_p90_s', 'ttft_p99_s', 'tpot_p50_s', 'tpot_p90_s', 'tpot_p99_s', 'gpu_seconds', 'flips', 'completed', 'dropped']);
    t.ok(p.goodput_rate_scale > 0);
    t.ok(Math.abs(p.goodput_rps_per_gpu - (p.goodput_rate_scale * (n / 99.5)) / 4) < 1e-9, 'rps per GPU = scale × mean rate ÷ GPUs');
    t.equal(p.at_scale_1.completed, n);
  }
  const staticBest = json.policies[1]!;
  t.ok(staticBest.goodput_rate_scale >= json.policies[0]!.goodput_rate_scale, 'the best split is at least as good as 2P/2D');
  t.ok(json.simulated_requests > 10 * n, 'every probe counted');
  t.equal(json.wall_s, 1);
  // Monotone: the found scale passes and a scale a little above it (beyond the tolerance) fails.
  const search = out.searches.get('static')!;
  const passing = search.probes.filter((p) => p.attainment >= 0.9).map((p) => p.rateScale);
  const failing = search.probes.filter((p) => p.attainment < 0.9).map((p) => p.rateScale);
  t.equal(Math.max(...passing), search.rateScale);
  t.ok(Math.min(...failing) > search.rateScale && Math.min(...failing) <= search.rateScale * 1.021, 'bracket within 2%');
});
