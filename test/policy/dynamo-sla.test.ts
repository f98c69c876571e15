import t from 'tap';
import { DynamoSlaPolicy } from '../../src/policy/dynamo-sla.js';
import { context, forecastOf, roundProfile } from './fixtures/helpers.js';

// Prefill 1 ms/token (1,000 tokens/s per instance); decode step 10 + 1·batch ms; KV large enough that TPOT binds.
const profile = roundProfile(1, 10, 1, 1_000_000);
const slo = { ttftSeconds: 2, tpotSeconds: 0.05, attainment: 0.9 };

t.test('replicas from forecast tokens over profiled throughput', async (t) => {
  // λ 8/s, ISL 900: 7,200 prompt tokens/s ÷ 1,000 → N_P = 8.
  // TPOT 50 ms → batch 40 (step 50 ms) → 800 tokens/s; 8 · 200 = 1,600 → N_D = 2.
  const d = new DynamoSlaPolicy({ useCorrection: true }).decide(context(5, 5, { profile, slo, forecast: forecastOf(8, 900, 200) }));
  t.equal(d.reason.detail?.prefillWanted, 8);
  t.equal(d.reason.detail?.decodeTokensPerSecond, 800);
  t.equal(d.reason.detail?.decodeWanted, 2);
  t.same(d.target, { prefill: 8, decode: 2 });
  t.equal(d.reason.code, 'sla-replicas');
});

t.test('applies the correction factors as Dynamo does', async (t) => {
  // Decode instances run a batch of 10 (profiled step 20 ms) but report TPOT 40 ms: factor 2.
  // Corrected TPOT 25 ms → batch 15 (step 25 ms) → 600 tokens/s → N_D = ⌈1,600/600⌉ = 3;
  // 8 + 3 = 11 > 10 → scaled: 10 · 8/11 ≈ 7.3 → 7P/3D.
  const slowDecode = context(5, 5, { profile, slo, forecast: forecastOf(8, 900, 200) }, (role) => (role === 'decode' ? { runningRequests: 10, tpotP90Seconds: 0.04 } : {}));
  const d = new DynamoSlaPolicy({ useCorrection: true }).decide(slowDecode);
  t.equal(d.reason.detail?.decodeCorrection, 2);
  t.equal(d.reason.detail?.correctedTpotSeconds, 0.025);
  t.equal(d.reason.detail?.decodeWanted, 3);
  t.same(d.target, { prefill: 7, decode: 3 });
  t.equal(d.reason.code, 'sla-replicas-over-pool');

  // Prefill correction below 1 (prefix-cache hits: TTFT 0.45 s against 0.9 s) halves the token load: N_P = ⌈3.6⌉ = 4;
  // above 1 it is capped at 1 (min(1, factor)): a slow TTFT does not inflate the load.
  const fastPrefill = context(5, 5, { profile, slo, forecast: forecastOf(8, 900, 200) }, (role) => (role === 'prefill' ? { ttftP90Seconds: 0.45 } : {}));
  t.equal(new DynamoSlaPolicy({ useCorrection: true }).decide(fastPrefill).reason.detail?.prefillWanted, 4);
  const slowPrefill = context(5, 5, { profile, slo, forecast: forecastOf(8, 900, 200) }, (role) => (role === 'prefill' ? { ttftP90Seconds: 3 } : {}));
  t.equal(new DynamoSlaPolicy({ useCorrection: true }).decide(slowPrefill).reason.detail?.prefillWanted, 8);
  t.equal(new DynamoSlaPolicy({ useCorrection: false }).decide(slowDecode).reason.detail?.decodeWanted, 2, 'correction off');
});

t.test('an unreachable TPOT asks for all the decode it can get; idle keeps the split', async (t) => {
  const tight = { ...slo, tpotSeconds: 0.005 };
  const d = new DynamoSlaPolicy({ useCorrection: true }).decide(context(5, 5, { profile, slo: tight, forecast: forecastOf(8, 900, 200) }));
  t.equal(d.reason.code, 'decode-tpot-infeasible');
  t.ok(d.target.decode > 5);
  const idle = new DynamoSlaPolicy({ useCorrection: true }).decide(context(3, 1, { profile, slo }));
  t.equal(idle.reason.code, 'idle');
  t.same(idle.target, { prefill: 3, decode: 1 });
});
