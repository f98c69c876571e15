import t from 'tap';
import { largestConsistentPass, searchGoodput, VERIFY_FRACTIONS } from '../../src/sim/goodput.js';

t.test('goodput search, monotone attainment: the threshold within the tolerance, verified below', async (t) => {
  for (const threshold of [0.3, 1, 3.7, 100]) {
    const r = await searchGoodput(async (k) => (k <= threshold ? 0.95 : 0.5), 0.9, 0.01);
    t.ok(r.rateScale <= threshold && r.rateScale >= threshold * 0.99, `threshold ${threshold}: found ${r.rateScale}`);
    for (const f of VERIFY_FRACTIONS) t.ok(r.probes.some((p) => Math.abs(p.rateScale - r.rateScale * f) < 1e-9), `×${f} below the answer was probed`);
  }
});

t.test('goodput search, non-monotone attainment: a lucky pass above a failing scale is not reported', async (t) => {
  // Passes up to 1.2, fails in (1.2, 1.4), passes again in [1.4, 1.5] (noise), fails above 1.5.
  const attainment = (k: number) => (k <= 1.2 || (k >= 1.4 && k <= 1.5) ? 0.95 : 0.8);
  const r = await searchGoodput(async (k) => attainment(k), 0.9);
  t.ok(r.rateScale <= 1.2 && r.rateScale >= 1.2 * 0.98, `settles below the dip, at its edge: ${r.rateScale}`);
  const failing = r.probes.filter((p) => p.attainment < 0.9).map((p) => p.rateScale);
  t.ok(failing.every((k) => k > r.rateScale), 'no probe at or below the answer failed');
  t.ok(r.probes.find((p) => p.rateScale === r.rateScale)!.attainment >= 0.9, 'the answer itself was simulated and passed');
  t.ok(r.probes.length < 20, `${r.probes.length} probes`);
});

t.test('largestConsistentPass', async (t) => {
  const p = (rateScale: number, attainment: number) => ({ rateScale, attainment });
  t.equal(largestConsistentPass([p(1, 0.95), p(2, 0.95), p(1.5, 0.8)], 0.9), 1);
  t.equal(largestConsistentPass([p(1, 0.8)], 0.9), 0);
  t.equal(largestConsistentPass([p(1, 0.95), p(2, 0.92)], 0.9), 2);
});

t.test('nothing passes: goodput 0', async (t) => {
  t.equal((await searchGoodput(async () => 0, 0.9)).rateScale, 0);
});
