import t from 'tap';
import { md1TailExponent, md1WaitExceedance, md1WaitQuantileSeconds } from '../../src/perf/queueing.js';
import { percentile } from '../../src/lib/stats.js';

/** Waiting times of an M/D/1 queue by Lindley's recursion, with a seeded generator: the ground truth the formula is checked against. */
function simulatedWaits(rate: number, service: number, n: number, seed: number): number[] {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const waits: number[] = [];
  let w = 0;
  for (let i = 0; i < n; i++) {
    waits.push(w);
    const gap = -Math.log(uniform()) / rate;
    w = Math.max(0, w + service - gap);
  }
  return waits;
}

t.test('the tail exponent solves ρ(eˣ − 1) = x', async (t) => {
  for (const rho of [0.1, 0.5, 0.9, 0.99]) {
    const x = md1TailExponent(rho);
    t.ok(x > 0);
    t.ok(Math.abs(rho * Math.expm1(x) - x) < 1e-9 * Math.max(1, x), `ρ = ${rho}`);
  }
  t.throws(() => md1TailExponent(1), RangeError);
});

t.test('percentiles match a simulated M/D/1 queue', async (t) => {
  const service = 0.1;
  for (const rho of [0.5, 0.8, 0.9]) {
    const waits = simulatedWaits(rho / service, service, 400_000, 7);
    for (const q of [0.9, 0.99]) {
      const model = md1WaitQuantileSeconds(rho / service, service, q);
      const measured = percentile(waits, q * 100);
      t.ok(Math.abs(model - measured) <= 0.05 * measured + 0.1 * service, `ρ ${rho} p${q * 100}: model ${model.toFixed(4)} s, simulated ${measured.toFixed(4)} s`);
    }
    const measuredBusy = waits.filter((w) => w > 0).length / waits.length;
    t.ok(Math.abs(md1WaitExceedance(rho / service, service, 0) - measuredBusy) < 0.01, `P(W > 0) = ρ at ρ ${rho}`);
  }
});

t.test('edges: idle, mostly idle, unstable', async (t) => {
  t.equal(md1WaitQuantileSeconds(0, 0.1, 0.99), 0);
  t.equal(md1WaitQuantileSeconds(0.5, 0.1, 0.9), 0, 'ρ = 0.05: 95% of arrivals find the server idle, so p90 waits nothing');
  t.equal(md1WaitQuantileSeconds(10, 0.1, 0.9), Infinity);
  t.equal(md1WaitExceedance(10, 0.1, 5), 1);
  t.throws(() => md1WaitQuantileSeconds(1, 0.1, 1), RangeError);
});
