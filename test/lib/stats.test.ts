import t from 'tap';
import { bisectLargest, goodputRpsPerGpu, jointAttainment, logFactorial, mean, normalUpperTail, percentile, percentiles } from '../../src/lib/stats.js';
import { binCounts, SlidingTimeWindow } from '../../src/lib/time-window.js';
import { RingBuffer } from '../../src/lib/ring-buffer.js';
import { backoffSeconds } from '../../src/lib/backoff.js';
import { sampleFromRequests } from '../../src/domain/load.js';

t.test('percentiles interpolate linearly between closest ranks (numpy default)', async (t) => {
  const v = [1, 2, 3, 4];
  t.equal(percentile(v, 50), 2.5);
  t.equal(percentile(v, 90), 3.7);
  t.equal(percentile(v, 0), 1);
  t.equal(percentile(v, 100), 4);
  t.equal(percentile([], 99), 0, 'empty reads as 0, never NaN');
  t.same(percentiles([10, 0, 5], [50, 100]), [5, 10]);
  t.throws(() => percentile(v, 101), RangeError);
  t.equal(mean([]), 0);
  t.equal(mean([1, 2, 6]), 3);
});

t.test('joint attainment counts a request only if both TTFT and TPOT meet the SLO', async (t) => {
  const slo = { ttftSeconds: 1, tpotSeconds: 0.1 };
  const outcomes = [
    { ttftSeconds: 0.5, tpotSeconds: 0.05 }, // both ok
    { ttftSeconds: 1.5, tpotSeconds: 0.05 }, // TTFT miss
    { ttftSeconds: 0.5, tpotSeconds: 0.2 }, // TPOT miss
    { ttftSeconds: 1, tpotSeconds: 0.1 }, // on the bound counts
  ];
  t.equal(jointAttainment(outcomes, slo), 0.5);
  t.equal(jointAttainment(outcomes, slo, 4), 0.25, 'dropped requests count as misses');
  t.equal(jointAttainment([], slo), 1);
});

t.test('goodput per GPU and bisection of the largest passing rate scale', async (t) => {
  t.equal(goodputRpsPerGpu(2, 5.53, 4), 2.765);
  t.throws(() => goodputRpsPerGpu(1, 1, 0), RangeError);
  const k = bisectLargest((x) => x <= 3.3, 0.1, 10, 0.001);
  t.ok(k <= 3.3 && k > 3.29, `found ${k}`);
  t.equal(bisectLargest(() => false, 0.1, 10), 0.1);
  t.equal(bisectLargest(() => true, 0.1, 10), 10);
});

t.test('sliding time window keeps only the last windowSeconds', async (t) => {
  const w = new SlidingTimeWindow(60);
  for (let s = 0; s < 120; s++) w.add(s, s);
  t.equal(w.countAt(119), 60, 'values in (59, 119]');
  t.equal(w.rateAt(119), 1);
  t.same(w.valuesAt(119).slice(0, 2), [60, 61]);
  t.equal(w.sumAt(200), 0);
  t.throws(() => w.add(10, 1), RangeError, 'time cannot go backwards');
  t.same(binCounts([0, 59.9, 60, 185], 0, 60), [2, 1, 0, 1]);
});

t.test('ring buffer, backoff, load samples', async (t) => {
  const r = new RingBuffer<number>(3);
  [1, 2, 3, 4].forEach((x) => r.push(x));
  t.same(r.toArray(), [2, 3, 4]);
  t.equal(r.last(), 4);
  t.same([0, 1, 2, 10].map((a) => backoffSeconds(a, 0.5, 8)), [0.5, 1, 2, 8]);
  const idle = sampleFromRequests(0, 30, []);
  t.same(idle, { startSeconds: 0, intervalSeconds: 30, requests: 0, inputMean: 0, inputSecondMoment: 0, outputMean: 0 }, 'idle, never NaN');
  const s = sampleFromRequests(0, 30, [{ inputTokens: 100, outputTokens: 10 }, { inputTokens: 300, outputTokens: 30 }]);
  t.same([s.requests, s.inputMean, s.inputSecondMoment, s.outputMean], [2, 200, 50000, 20]);
});

t.test('logFactorial: exact below 256, Stirling above, continuous across the switch', async (t) => {
  const exact = (n: number) => {
    let sum = 0;
    for (let i = 2; i <= n; i++) sum += Math.log(i);
    return sum;
  };
  t.equal(logFactorial(0), 0);
  t.equal(logFactorial(1), 0);
  t.ok(Math.abs(logFactorial(10) - Math.log(3628800)) < 1e-12, 'ln 10!');
  for (const n of [255, 256, 257, 1000, 123456]) {
    t.ok(Math.abs(logFactorial(n) - exact(n)) / exact(n) < 1e-12, `n = ${n}`);
  }
});

t.test('normalUpperTail: known quantiles of the standard normal', async (t) => {
  t.ok(Math.abs(normalUpperTail(0) - 0.5) < 1e-7);
  t.ok(Math.abs(normalUpperTail(1.2815515655) - 0.1) < 1e-7, 'the 90th percentile');
  t.ok(Math.abs(normalUpperTail(-1.959963985) - 0.975) < 1e-7, 'the 2.5th percentile, from below');
  t.ok(Math.abs(normalUpperTail(3.090232306) - 0.001) / 0.001 < 1e-6, 'the 99.9th percentile, relative');
});
