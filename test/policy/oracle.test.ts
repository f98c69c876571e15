import t from 'tap';
import type { LoadSample } from '../../src/domain/load.js';
import { OraclePolicy } from '../../src/policy/oracle.js';
import { bestSplit, splitModel } from '../../src/policy/pdpilot-policy.js';
import { context, forecastOf, profile, slo } from './fixtures/helpers.js';

const sample = (rps: number, inputMean: number, outputMean: number): LoadSample => ({
  startSeconds: 660,
  intervalSeconds: 60,
  requests: rps * 60,
  inputMean,
  inputSecondMoment: inputMean * inputMean,
  outputMean,
});

t.test('picks the split that matches a known future, not the forecast', async (t) => {
  const oracle = new OraclePolicy({ lookaheadIntervals: 1, linkGBps: 300, kvPressure: 0.9 });
  // Long prompts, short answers: prefill-heavy. The forecast (last value) says the opposite.
  const prefillHeavy = oracle.decide(context(4, 4, { future: [sample(6, 1800, 20)], forecast: forecastOf(6, 50, 800) }));
  t.ok(prefillHeavy.target.prefill >= 6, `prefill-heavy future → ${prefillHeavy.target.prefill}P`);
  t.equal(prefillHeavy.reason.code, 'oracle-best-split');
  const decodeHeavy = oracle.decide(context(4, 4, { future: [sample(6, 50, 800)], forecast: forecastOf(6, 1800, 20) }));
  t.ok(decodeHeavy.target.decode >= 6, `decode-heavy future → ${decodeHeavy.target.decode}D`);
});

t.test("the oracle is pdpilot's planner on the true load: the split with the most headroom", async (t) => {
  const future = sample(10, 1000, 150);
  const d = new OraclePolicy({ lookaheadIntervals: 1, linkGBps: 300, kvPressure: 0.9 }).decide(context(4, 4, { future: [future] }));
  const lengths = { inputMean: 1000, inputSecondMoment: 1e6, outputMean: 150 };
  const model = splitModel({ profile, slo }, 8, lengths, 10, 10, 300e9);
  const chosen = model.headroom(d.target.prefill);
  for (let p = 1; p < 8; p++) t.ok(model.headroom(p) <= chosen, `${p}P/${8 - p}D is no better (${model.headroom(p).toFixed(3)} ≤ ${chosen.toFixed(3)})`);
  t.equal(d.target.prefill, bestSplit(8, (p) => model.prefillHeadroom(p), (n) => model.decodeHeadroom(n), 4));
  t.ok(Math.abs(Number(d.reason.detail?.headroom ?? 0) - chosen) < 1e-12, 'the reason carries the headroom');
  t.ok(d.changes.length === Math.abs(d.target.prefill - 4), 'it moves straight there (flips are free)');
});

t.test('lookahead: serves the worst of the coming intervals; idle keeps the split; no future is an error', async (t) => {
  const params = { linkGBps: 300, kvPressure: 0.9 };
  const burst = [sample(1, 1000, 150), sample(12, 1800, 20)];
  const near = new OraclePolicy({ lookaheadIntervals: 1, ...params }).decide(context(4, 4, { future: burst }));
  const far = new OraclePolicy({ lookaheadIntervals: 2, ...params }).decide(context(4, 4, { future: burst }));
  t.ok(far.target.prefill > near.target.prefill, 'seeing the burst coming, it holds more prefill');
  const idle = new OraclePolicy({ lookaheadIntervals: 1, ...params }).decide(context(3, 5, { future: [{ ...sample(0, 0, 0), requests: 0 }] }));
  t.equal(idle.reason.code, 'idle');
  t.same(idle.changes, []);
  t.throws(() => new OraclePolicy({ lookaheadIntervals: 1, ...params }).decide(context(4, 4)), { message: /needs the true future load/ });
});
