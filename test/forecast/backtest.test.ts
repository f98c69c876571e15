import t from 'tap';
import { backtest } from '../../src/forecast/backtest.js';
import { intervalSamples } from '../../src/forecast/interval-samples.js';
import { poolSamples } from '../../src/domain/load.js';
import { LastValueForecaster } from '../../src/forecast/forecaster.js';
import { idleSample, type LoadSample } from '../../src/domain/load.js';

async function collect(trace: Parameters<typeof intervalSamples>[0], intervalSeconds: number): Promise<LoadSample[]> {
  const out: LoadSample[] = [];
  for await (const s of intervalSamples(trace, intervalSeconds)) out.push(s);
  return out;
}

const req = (arrivalSeconds: number, inputTokens: number, outputTokens: number, failed?: boolean) => ({ arrivalSeconds, inputTokens, outputTokens, ...(failed ? { failed } : {}) });

t.test('intervalSamples: idle intervals included, the partial last interval and failed requests left out', async (t) => {
  const samples = await collect(
    [req(0, 10, 1), req(5, 30, 3), req(9.9, 99, 9, true), req(25, 20, 2), req(31, 7, 7)],
    10,
  );
  t.same(samples, [
    { startSeconds: 0, intervalSeconds: 10, requests: 2, inputMean: 20, inputSecondMoment: 500, outputMean: 2 },
    idleSample(10, 10),
    { startSeconds: 20, intervalSeconds: 10, requests: 1, inputMean: 20, inputSecondMoment: 400, outputMean: 2 },
  ]);
  await t.rejects(collect([req(12, 1, 1), req(3, 1, 1)], 10), /arrivals must not decrease/);
  await t.rejects(collect([], 0), /intervalSeconds/);
});

t.test('poolSamples pools lengths with request weights; all idle reads idle', async (t) => {
  const a = { startSeconds: 0, intervalSeconds: 10, requests: 3, inputMean: 10, inputSecondMoment: 100, outputMean: 1 };
  const b = { startSeconds: 10, intervalSeconds: 10, requests: 1, inputMean: 50, inputSecondMoment: 2500, outputMean: 5 };
  t.same(poolSamples([a, idleSample(10, 10), b]), { startSeconds: 0, intervalSeconds: 30, requests: 4, inputMean: 20, inputSecondMoment: 700, outputMean: 2 });
  t.same(poolSamples([idleSample(0, 10), idleSample(10, 10)]), idleSample(0, 20));
});

t.test('backtest numbers on a hand-computed case (last-value, interval 1 s)', async (t) => {
  // Rates 1, 2, idle, 4 with input lengths 10, 20, –, 40 (second moment l², output l/10).
  const s = (i: number, requests: number) =>
    requests === 0 ? idleSample(i, 1) : { startSeconds: i, intervalSeconds: 1, requests, inputMean: 10 * requests, inputSecondMoment: (10 * requests) ** 2, outputMean: requests };
  const samples = [s(0, 1), s(1, 2), s(2, 0), s(3, 4)];
  const [one, two] = backtest(samples, [() => new LastValueForecaster()], { horizonIntervals: 2 });
  // One step: forecasts 1, 2, 0 against 2, 0, 4 → errors 1, 2, 4.
  // Bands: no residual yet → [1, 1] misses 2; residuals {1} → 2 ± 1 = [1, 3] misses 0;
  // residuals {1, 2}, 90th percentile 1.9 → 0 ± 1.9, cut at 0: [0, 1.9] misses 4. Coverage 0.
  t.match(one, { horizonIntervals: 1 });
  const rate = one!.models[0]!.rate;
  t.equal(rate.count, 3);
  t.equal(rate.mae, 7 / 3);
  t.equal(rate.rmse, Math.sqrt(21 / 3));
  t.equal(rate.mapeCount, 2, 'MAPE skips the idle actual');
  t.equal(rate.mapePercent, (50 + 100) / 2);
  t.equal(rate.bandCoverage, 0);
  // Lengths only where the actual is non-idle: forecasts 10 vs 20 and 20 (held over the idle interval) vs 40.
  t.match(one!.models[0]!.inputMean, { count: 2, mae: 15, rmse: Math.sqrt((100 + 400) / 2), mapePercent: 50 });
  t.match(one!.models[0]!.outputMean, { count: 2, mae: 1.5 });
  // Two steps: at t=1 forecast 1 vs pooled (2 + 0)/2 = 1 → 0; at t=2 forecast 2 vs (0 + 4)/2 = 2 → 0.
  t.match(two!.models[0]!.rate, { count: 2, mae: 0, rmse: 0 });
  // Pooled lengths: at t=1 forecast 10 vs the 2 requests of 20 → 10; at t=2 forecast 20 vs the 4 requests of 40 → 20.
  t.match(two!.models[0]!.inputMean, { count: 2, mae: 15 });
});
