import t from 'tap';
import { fitDecode, fitPrefill, type DecodeMeasurement, type PrefillMeasurement } from '../../src/perf/fit.js';

// Deterministic pseudo-random numbers so the test is repeatable.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const close = (actual: number, expected: number) => Math.abs(actual - expected) <= 0.01 * Math.abs(expected);

t.test('fitPrefill recovers known [a, b, c] within 1% from noisy synthetic batches', async (t) => {
  const truth = [18.1, 0.1019, 7.12e-6] as const;
  const rand = lcg(7);
  const points: PrefillMeasurement[] = [];
  for (let i = 0; i < 200; i++) {
    const n = 1 + Math.floor(rand() * 8);
    const lengths = Array.from({ length: n }, () => 16 + Math.floor(rand() * 4000));
    const sum = lengths.reduce((s, l) => s + l, 0);
    const sq = lengths.reduce((s, l) => s + l * l, 0);
    const ms = (truth[0] + truth[1] * sum + truth[2] * sq) * (1 + (rand() - 0.5) * 0.002);
    points.push({ promptTokens: lengths, ms });
  }
  const [a, b, c] = fitPrefill(points);
  t.ok(close(a, truth[0]), `a ${a} ≈ ${truth[0]}`);
  t.ok(close(b, truth[1]), `b ${b} ≈ ${truth[1]}`);
  t.ok(close(c, truth[2]), `c ${c} ≈ ${truth[2]}`);
});

t.test('fitDecode recovers both regimes within 1%', async (t) => {
  const small = [19.93, 0.000627, 0.0385] as const;
  const large = [7.17, 0.00058, 0.158] as const;
  const rand = lcg(11);
  const points: DecodeMeasurement[] = [];
  for (let i = 0; i < 400; i++) {
    const batch = 1 + Math.floor(rand() * 200);
    const sumContextTokens = batch * (50 + Math.floor(rand() * 2000));
    const [a, b, c] = batch < 95 ? small : large;
    points.push({ batch, sumContextTokens, ms: a + b * (sumContextTokens + batch) + c * batch });
  }
  const fit = fitDecode(points, 95);
  fit.smallBatch.forEach((v, i) => t.ok(close(v, small[i]!), `small[${i}] ${v} ≈ ${small[i]}`));
  fit.largeBatch.forEach((v, i) => t.ok(close(v, large[i]!), `large[${i}] ${v} ≈ ${large[i]}`));
  t.equal(fit.thresholdBatch, 95);
});

t.test('fitting needs at least three points', async (t) => {
  t.throws(() => fitPrefill([{ promptTokens: [1], ms: 1 }]), RangeError);
});
