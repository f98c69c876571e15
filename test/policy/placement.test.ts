import t from 'tap';
import { searchPlacement } from '../../src/policy/placement.js';
import { decodeInstanceRate, prefillInstanceRate } from '../../src/policy/phase-capacity.js';
import { loadProfile } from '../../src/perf/profile.js';

const dir = new URL('../../profiles/', import.meta.url).pathname;
const profiles = await Promise.all([1, 2, 4].map(async (tp) => ({ name: `opt-13b-tp${tp}-a100.json`, profile: await loadProfile(`${dir}opt-13b-tp${tp}-a100.json`) })));
const slo = { ttftSeconds: 0.4, tpotSeconds: 0.04, attainment: 0.9 };
const lengths = { inputMean: 755, inputSecondMoment: 755 * 755, outputMean: 200 };

t.test('instance counts carry the target rate with the per-instance rates of each option', async (t) => {
  const search = searchPlacement({ profiles, rateRps: 40, slo, lengths });
  t.equal(search.options.length, 6, 'prefill and decode for each of tp1, tp2, tp4');
  for (const o of search.options) {
    const p = profiles.find((x) => x.name === o.profile)!.profile;
    const expected = o.phase === 'prefill' ? prefillInstanceRate(p, slo.ttftSeconds, slo.attainment, lengths) : decodeInstanceRate(p, slo.tpotSeconds, lengths).requestsPerSecond;
    t.equal(o.instanceRps, expected);
    t.equal(o.gpuRps, o.instanceRps / p.tensorParallel);
    t.equal(o.instances, Math.ceil(40 / o.instanceRps), `${o.phase} tp${o.tensorParallel}`);
    t.ok((o.instances ?? 0) * o.instanceRps >= 40 && ((o.instances ?? 0) - 1) * o.instanceRps < 40);
  }
  const best = search.best!;
  t.ok(best, 'a placement exists');
  t.equal(best.gpus, best.prefill.gpus + best.decode.gpus);
  for (const phase of ['prefill', 'decode'] as const) {
    const fewest = Math.min(...search.options.filter((o) => o.phase === phase).map((o) => o.gpus ?? Infinity));
    t.equal(best[phase].gpus, fewest, `${phase}: no option needs fewer GPUs`);
  }
  t.ok(best.capacityRps >= 40);
  t.equal(best.rpsPerGpu, 40 / best.gpus);
});

t.test('a larger tensor degree wins when one small instance cannot meet the SLO', async (t) => {
  // A TTFT bound below tp1's service time for these prompts: only wider instances prefill fast enough.
  const tp1 = profiles[0]!.profile;
  const serviceTp1 = (tp1.prefillMs[0] + tp1.prefillMs[1] * 1500 + tp1.prefillMs[2] * 1500 * 1500) / 1000;
  const search = searchPlacement({ profiles, rateRps: 2, slo: { ...slo, ttftSeconds: serviceTp1 * 0.9 }, lengths: { ...lengths, inputMean: 1500, inputSecondMoment: 1500 * 1500 } });
  const prefillTp1 = search.options.find((o) => o.phase === 'prefill' && o.tensorParallel === 1)!;
  t.equal(prefillTp1.instanceRps, 0);
  t.equal(prefillTp1.instances, undefined);
  t.ok(search.best && search.best.prefill.tensorParallel > 1, `prefill on tp${search.best?.prefill.tensorParallel}`);
});

t.test('infeasible: an SLO nothing meets, or a GPU cap', async (t) => {
  const none = searchPlacement({ profiles, rateRps: 5, slo: { ...slo, ttftSeconds: 0.001 }, lengths });
  t.equal(none.best, undefined);
  t.match(none.infeasible, /no prefill configuration meets TTFT 0.001 s/);
  const capped = searchPlacement({ profiles, rateRps: 40, slo, lengths, maxGpus: 4 });
  t.equal(capped.best, undefined);
  t.match(capped.infeasible, /needs \d+ GPUs, more than the 4 allowed/);
});
