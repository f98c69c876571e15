import t from 'tap';
import { loadProfile } from '../../src/perf/profile.js';
import { decodeCapacity, md1MeanSeconds, meanPrefillSeconds, prefillSeconds } from '../../src/perf/capacity.js';
import { decodeStepMs } from '../../src/perf/latency.js';

const profile = await loadProfile(new URL('../../profiles/opt-13b-tp1-a100.json', import.meta.url).pathname);

t.test('M/D/1 mean time: D at zero load, the DistServe formula in between, unstable at R·D ≥ 1', async (t) => {
  t.equal(md1MeanSeconds(0, 0.2), 0.2);
  // R = 2/s, D = 0.25 s: 0.25 + 2·0.0625/(2·0.5) = 0.375
  t.equal(md1MeanSeconds(2, 0.25), 0.375);
  t.equal(md1MeanSeconds(4, 0.25), Infinity);
  t.throws(() => md1MeanSeconds(-1, 1), RangeError);
});

t.test('mean prefill time uses the second moment: same mean, more spread costs more', async (t) => {
  const equal = meanPrefillSeconds(profile, 1000, 1000 * 1000);
  const spread = meanPrefillSeconds(profile, 1000, (100 * 100 + 1900 * 1900) / 2);
  t.equal(equal, prefillSeconds(profile, 1000));
  t.ok(spread > equal, `${spread} > ${equal}`);
  t.ok(Math.abs(spread - (prefillSeconds(profile, 100) + prefillSeconds(profile, 1900)) / 2) < 1e-12, "exact for the mean of unbatched prefills");
});

t.test('decode capacity: largest batch within the TPOT bound and the KV limit', async (t) => {
  const cap = decodeCapacity(profile, 0.1, 1000);
  t.equal(cap.limitedBy, 'kv', 'at 1,000 tokens of context KV (66 requests) binds before a 100 ms TPOT');
  t.equal(cap.maxBatch, Math.floor(66144 / 1000));
  t.ok(cap.stepSeconds <= 0.1);
  t.equal(cap.tokensPerSecond, cap.maxBatch / cap.stepSeconds);

  const tight = decodeCapacity(profile, 0.03, 200);
  t.equal(tight.limitedBy, 'tpot');
  t.ok(decodeStepMs(profile, tight.maxBatch, tight.maxBatch * 200) / 1000 <= 0.03, 'the chosen batch meets the bound');
  t.ok(decodeStepMs(profile, tight.maxBatch + 1, (tight.maxBatch + 1) * 200) / 1000 > 0.03, 'one more does not');

  const impossible = decodeCapacity(profile, 0.005, 1000);
  t.equal(impossible.maxBatch, 0);
  t.equal(impossible.tokensPerSecond, 0);
});
