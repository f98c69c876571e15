import t from 'tap';
import { DopdPolicy } from '../../src/policy/dopd.js';
import { context, forecastOf, roundProfile } from './fixtures/helpers.js';

// Prefill 1 ms/token, decode step a constant 10 ms, 10,000 KV tokens.
const profile = roundProfile(1, 10, 0, 10_000);

t.test('reproduces a hand-computed N_P / N_D', async (t) => {
  // ISL 900, OSL 200: context 900 + 100 = 1,000 → C_max = 10; TTFT = 0.9 s, TPOT = 0.01 s;
  // r = 10 · 0.9 / (200 · 0.01) = 4.5; λ = 5/s → concurrency = 5 · 200 · 0.01 = 10 → N_D = 1, N_P = ⌈4.5⌉ = 5.
  const policy = new DopdPolicy({ useCorrection: true });
  const d = policy.decide(context(3, 3, { profile, forecast: forecastOf(5, 900, 200) }));
  t.equal(d.reason.detail?.cMax, 10);
  t.equal(d.reason.detail?.ratio, 4.5);
  t.equal(d.reason.detail?.decodeWanted, 1);
  t.equal(d.reason.detail?.prefillWanted, 5);
  t.same(d.target, { prefill: 5, decode: 1 }, 'N_P + N_D = 6 is the pool: taken as is');
  t.equal(d.changes.length, 2);
  t.equal(d.reason.code, 'dopd-ratio');

  // λ = 12/s → concurrency 24 → N_D = 3, N_P = ⌈13.5⌉ = 14; a pool of 12 gets 12 · 14/17 ≈ 9.9 → 10P/2D.
  const busy = policy.decide(context(6, 6, { profile, forecast: forecastOf(12, 900, 200) }));
  t.equal(busy.reason.detail?.decodeWanted, 3);
  t.equal(busy.reason.detail?.prefillWanted, 14);
  t.same(busy.target, { prefill: 10, decode: 2 });
  t.equal(busy.reason.code, 'dopd-ratio-over-pool');
});

t.test('correction factors: observed ÷ profiled latency scale r', async (t) => {
  // Prefill workers report TTFT p90 1.8 s against a profiled 0.9 s: factor 2 → r = 9 → N_P = 9.
  const slowPrefill = context(5, 5, { profile, forecast: forecastOf(5, 900, 200) }, (role) => (role === 'prefill' ? { ttftP90Seconds: 1.8 } : {}));
  const corrected = new DopdPolicy({ useCorrection: true }).decide(slowPrefill);
  t.equal(corrected.reason.detail?.prefillCorrection, 2);
  t.equal(corrected.reason.detail?.prefillWanted, 9);
  t.same(corrected.target, { prefill: 9, decode: 1 });
  const plain = new DopdPolicy({ useCorrection: false }).decide(slowPrefill);
  t.equal(plain.reason.detail?.prefillWanted, 5, 'without correction the profile alone decides');
  t.same(plain.target, { prefill: 8, decode: 2 }, '10 × 5/6 ≈ 8.3');
});

t.test('idle forecast keeps the split, never NaN', async (t) => {
  const d = new DopdPolicy({ useCorrection: true }).decide(context(2, 2, { profile }));
  t.equal(d.reason.code, 'idle');
  t.same(d.target, { prefill: 2, decode: 2 });
  t.same(d.changes, []);
});
