import t from 'tap';
import { decodeInstanceRate, prefillInstanceRate } from '../../src/policy/phase-capacity.js';
import { md1WaitQuantileSeconds } from '../../src/perf/queueing.js';
import { roundProfile } from './fixtures/helpers.js';

t.test('prefill: the largest rate whose TTFT percentile meets the SLO', async (t) => {
  const profile = roundProfile(1, 10, 1, 1_000_000);
  const lengths = { inputMean: 100, inputSecondMoment: 100 * 100, outputMean: 100 };
  const rate = prefillInstanceRate(profile, 1, 0.9, lengths);
  const service = 0.1;
  t.ok(service + md1WaitQuantileSeconds(rate, service, 0.9) <= 1, 'meets the bound');
  t.ok(service + md1WaitQuantileSeconds(rate * 1.01, service, 0.9) > 1, '1% more misses it');
  t.ok(prefillInstanceRate(profile, 1, 0.99, lengths) < rate, 'a stricter attainment admits less');
  t.equal(prefillInstanceRate(profile, 0.05, 0.9, lengths), 0, 'service alone exceeds the SLO');
  const spread = prefillInstanceRate(roundProfile(1, 10, 1, 1e6), 1, 0.9, { ...lengths, inputSecondMoment: 2 * 100 * 100 });
  t.equal(spread, rate, 'linear prefill cost: the second moment does not matter');
  const convex = { ...profile, prefillMs: [0, 1, 0.01] as [number, number, number] };
  t.ok(prefillInstanceRate(convex, 1, 0.9, { ...lengths, inputSecondMoment: 3 * 100 * 100 }) < prefillInstanceRate(convex, 1, 0.9, lengths), 'convex cost: spread lengths cost more');
});

t.test('decode: batch within TPOT and KV, each request holding its slot for OSL steps', async (t) => {
  // Step 10 + 1·batch ms; TPOT 50 ms → batch 40, step 50 ms; OSL 200 → 40 / (200 · 0.05) = 4 req/s.
  const r = decodeInstanceRate(roundProfile(1, 10, 1, 1_000_000), 0.05, { inputMean: 900, inputSecondMoment: 0, outputMean: 200 });
  t.same(r, { requestsPerSecond: 4, batch: 40, limitedBy: 'tpot', stepSeconds: 0.05 });
  // KV of 20,000 tokens at context 1,000 → batch 20, step 30 ms → 20 / (200 · 0.03) ≈ 3.33 req/s.
  const kv = decodeInstanceRate(roundProfile(1, 10, 1, 20_000), 0.05, { inputMean: 900, inputSecondMoment: 0, outputMean: 200 });
  t.equal(kv.limitedBy, 'kv');
  t.equal(kv.batch, 20);
  t.ok(Math.abs(kv.requestsPerSecond - 20 / 6) < 1e-9);
});
