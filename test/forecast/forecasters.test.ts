import t from 'tap';
import type { Forecaster, LoadForecast } from '../../src/forecast/forecaster.js';
import { LastValueForecaster } from '../../src/forecast/forecaster.js';
import { backtest } from '../../src/forecast/backtest.js';
import { createForecaster, FORECASTER_NAMES } from '../../src/forecast/create-forecaster.js';
import { EwmaForecaster } from '../../src/forecast/ewma-forecaster.js';
import { HoltForecaster } from '../../src/forecast/holt-forecaster.js';
import { HoltWintersForecaster } from '../../src/forecast/holt-winters-forecaster.js';
import { RegressionForecaster } from '../../src/forecast/regression-forecaster.js';
import { InputError } from '../../src/domain/errors.js';
import { idleSample } from '../../src/domain/load.js';
import { normal, seeded, series } from './fixtures/series.js';

function feed(model: Forecaster, samples: ReturnType<typeof series>): Forecaster {
  for (const s of samples) model.observe(s);
  return model;
}

function finite(forecast: LoadForecast): boolean {
  const { requestsPerSecond: r, inputMean, inputSecondMoment, outputMean } = forecast;
  return [r.low, r.mean, r.high, inputMean, inputSecondMoment, outputMean].every(Number.isFinite);
}

t.test('before any sample every model forecasts zero load and zero lengths', async (t) => {
  for (const name of FORECASTER_NAMES) {
    t.same(createForecaster(name).forecast(60), {
      horizonSeconds: 60,
      requestsPerSecond: { mean: 0, low: 0, high: 0 },
      inputMean: 0,
      inputSecondMoment: 0,
      outputMean: 0,
    }, name);
  }
});

t.test('a constant series is forecast exactly, at every horizon, with a zero-width band', async (t) => {
  const samples = series(Array(60).fill(4));
  for (const name of FORECASTER_NAMES) {
    const model = feed(createForecaster(name), samples);
    for (const horizon of [60, 300]) {
      const f = model.forecast(horizon);
      t.ok(Math.abs(f.requestsPerSecond.mean - 4) < 1e-9, `${name} rate at ${horizon} s: ${f.requestsPerSecond.mean}`);
      t.ok(f.requestsPerSecond.high - f.requestsPerSecond.low < 1e-9, `${name} band`);
      t.ok(Math.abs(f.inputMean - 1000) < 1e-6 && Math.abs(f.inputSecondMoment - 1_500_000) < 1e-3 && Math.abs(f.outputMean - 200) < 1e-6, `${name} lengths`);
    }
  }
});

t.test('traffic onset after idle ticks: the level starts at the first busy interval and the jump is no residual', async (t) => {
  // A controller that starts before traffic sees idle intervals first (the simulator's first tick, a daemon
  // started at night). The jump to the first traffic is not a forecast error: as a residual it would hold the
  // upper band 4 req/s wide for the whole residual window (docs/policies/pdpilot.md, "Forecast onset").
  const samples = series([0, 0, ...Array<number>(10).fill(4)]);
  for (const name of FORECASTER_NAMES.filter((n) => n !== 'holt-winters')) {
    const f = feed(createForecaster(name), samples).forecast(60);
    t.ok(Math.abs(f.requestsPerSecond.mean - 4) < 1e-9, `${name} level from the first busy interval: ${f.requestsPerSecond.mean}`);
    t.ok(f.requestsPerSecond.high - f.requestsPerSecond.low < 1e-9, `${name} band: ${f.requestsPerSecond.low}–${f.requestsPerSecond.high}`);
  }
  // A level change after traffic has been seen is an error like any other.
  const later = feed(createForecaster('ewma'), series([4, 4, 8, 8])).forecast(60);
  t.ok(later.requestsPerSecond.high - later.requestsPerSecond.mean > 0, 'later jumps widen the band');
});

t.test('on a linear trend damped Holt tracks where EWMA and last-value lag', async (t) => {
  // 1 → 1.1 → 1.2 …: the next interval is 0.1 req/s above the last.
  const rates = Array.from({ length: 40 }, (_, i) => 1 + 0.1 * i);
  const next = 1 + 0.1 * 40;
  const holt = feed(new HoltForecaster(), series(rates)).forecast(60).requestsPerSecond.mean;
  const ewma = feed(new EwmaForecaster(), series(rates)).forecast(60).requestsPerSecond.mean;
  const last = feed(new LastValueForecaster(), series(rates)).forecast(60).requestsPerSecond.mean;
  // Damping gives up a little of the trend on purpose (φ = 0.9): near, not exact.
  t.ok(Math.abs(holt - next) < 0.1, `holt ${holt} near ${next}`);
  t.ok(Math.abs(ewma - next) > 2 * Math.abs(holt - next), `ewma ${ewma} lags`);
  t.ok(holt > last, 'holt projects the trend past the last value');
  // Undamped (phi 1), the trend carries on in a straight line over the horizon: mean of steps 1..5 = next + 0.2.
  const straight = feed(new HoltForecaster({ phi: 1, alpha: 1, beta: 1 }), series(rates)).forecast(300).requestsPerSecond.mean;
  t.ok(Math.abs(straight - (next + 0.2)) < 1e-9, `undamped 5-interval mean ${straight}`);
});

t.test('on a seasonal series Holt-Winters beats EWMA and Holt', async (t) => {
  // Season of 12 intervals (12 min at 60 s), amplitude 3 req/s around 5, plus noise.
  const noise = normal(seeded(7));
  const rates = Array.from({ length: 12 * 12 }, (_, i) => Math.max(0, 5 + 3 * Math.sin((2 * Math.PI * i) / 12) + 0.3 * noise()));
  const [scores] = backtest(series(rates), [
    () => new HoltWintersForecaster({ seasonSeconds: 12 * 60 }),
    () => new EwmaForecaster(),
    () => new HoltForecaster(),
  ], { warmupIntervals: 36 });
  const mae = Object.fromEntries(scores!.models.map((m) => [m.model, m.rate.mae]));
  t.ok(mae['holt-winters']! < 0.5 * mae.ewma!, `holt-winters ${mae['holt-winters']} vs ewma ${mae.ewma}`);
  t.ok(mae['holt-winters']! < 0.5 * mae.holt!, `holt-winters ${mae['holt-winters']} vs holt ${mae.holt}`);
});

t.test('Holt-Winters before its first season completes forecasts as damped Holt', async (t) => {
  const rates = Array.from({ length: 30 }, (_, i) => 2 + Math.sin(i));
  const hw = feed(new HoltWintersForecaster(), series(rates)).forecast(120);
  const holt = feed(new HoltForecaster(), series(rates)).forecast(120);
  t.same(hw, holt);
  t.throws(() => new HoltWintersForecaster({ seasonSeconds: 60 }).observe(series([1])[0]!), /fewer than 2 intervals/);
});

t.test('idle gaps: never NaN, the rate reads 0 and lengths hold those of the last busy intervals', async (t) => {
  const busy = series([3, 5, 4, 6, 5, 4, 5, 6, 5, 4, 3, 5, 6, 4, 5, 5, 4, 6, 5, 4, 5, 5, 4, 6, 5], 60, (i) => ({
    inputMean: 2000 + 10 * i,
    inputSecondMoment: (2000 + 10 * i) ** 2 * 1.3,
    outputMean: 30,
  }));
  const idle = Array.from({ length: 40 }, (_, i) => idleSample((busy.length + i) * 60, 60));
  for (const name of FORECASTER_NAMES) {
    const model = feed(createForecaster(name), busy);
    const before = model.forecast(60);
    for (const s of idle) {
      model.observe(s);
      t.ok(finite(model.forecast(60)) && finite(model.forecast(600)), `${name} finite after idle`);
    }
    const after = model.forecast(60);
    t.ok(after.requestsPerSecond.mean < 0.05, `${name} rate near 0 after a long gap: ${after.requestsPerSecond.mean}`);
    t.ok(after.requestsPerSecond.low >= 0, `${name} band not below 0`);
    t.ok(after.inputMean > 2000 && after.inputMean < 2300, `${name} input mean held: ${after.inputMean}`);
    t.ok(Math.abs(after.outputMean - 30) < 1e-6, `${name} output mean held`);
    t.ok(after.inputSecondMoment >= after.inputMean ** 2, `${name} E[l²] ≥ E[l]²`);
    if (name !== 'regression') t.same([after.inputMean, after.outputMean], [before.inputMean, before.outputMean], `${name} lengths unchanged by idle`);
  }
});

t.test('a falling trend forecasts a rate clamped at 0, never negative', async (t) => {
  const rates = [10, 8, 6, 4, 2, 0.5];
  for (const name of FORECASTER_NAMES) {
    const f = feed(createForecaster(name), series(rates)).forecast(600);
    t.ok(f.requestsPerSecond.mean >= 0 && f.requestsPerSecond.low >= 0, `${name}: ${f.requestsPerSecond.mean}`);
  }
  t.equal(feed(new HoltForecaster({ phi: 1 }), series(rates)).forecast(600).requestsPerSecond.mean, 0, 'an undamped fall would go below 0');
});

t.test('on a noisy stationary series the 90% band holds the truth most of the time', async (t) => {
  const noise = normal(seeded(3));
  const rates = Array.from({ length: 300 }, () => Math.max(0, 6 + 1.5 * noise()));
  const [scores] = backtest(series(rates), FORECASTER_NAMES.map((name) => () => createForecaster(name)), { warmupIntervals: 30 });
  for (const m of scores!.models) {
    t.ok(m.rate.bandCoverage >= 0.8 && m.rate.bandCoverage <= 0.97, `${m.model} coverage ${m.rate.bandCoverage}`);
  }
  // A narrower quantile gives a narrower band: coverage follows the parameter.
  const [narrow] = backtest(series(rates), [() => new EwmaForecaster({ bandQuantile: 0.5 })], { warmupIntervals: 30 });
  t.ok(narrow!.models[0]!.rate.bandCoverage < 0.65, `50% band covers ${narrow!.models[0]!.rate.bandCoverage}`);
});

t.test('the regression learns a lagged relation the smoothers cannot see', async (t) => {
  // The rate follows the previous interval's mean prompt: rate_t = 1 + 0.004·inputMean_{t−1}, prompts random.
  const random = seeded(11);
  const prompts = Array.from({ length: 200 }, () => 500 + 1500 * random());
  const rates = prompts.map((_, i) => (i === 0 ? 3 : 1 + 0.004 * prompts[i - 1]!));
  const samples = series(rates, 60, (i) => ({ inputMean: prompts[i]!, inputSecondMoment: prompts[i]! ** 2, outputMean: 100 }));
  const [scores] = backtest(samples, [() => new RegressionForecaster({ lengthAlpha: 1 }), () => new EwmaForecaster({ lengthAlpha: 1 })], { warmupIntervals: 60 });
  const [regression, ewma] = scores!.models;
  t.ok(regression!.rate.mae < 1e-6, `regression MAE ${regression!.rate.mae}`);
  t.ok(ewma!.rate.mae > 1, `ewma MAE ${ewma!.rate.mae}`);
  // The next rate is known from the last prompt exactly, so the band shrinks to nothing.
  const model = feed(new RegressionForecaster({ lengthAlpha: 1 }), samples);
  const f = model.forecast(60);
  t.ok(Math.abs(f.requestsPerSecond.mean - (1 + 0.004 * prompts[199]!)) < 1e-6);
});

t.test('the regression falls back to EWMA until it has enough history', async (t) => {
  const rates = [2, 4, 3, 5, 4, 6, 5];
  const fallback = feed(new RegressionForecaster(), series(rates)).forecast(60);
  const ewma = feed(new EwmaForecaster(), series(rates)).forecast(60);
  t.same(fallback, ewma);
});

t.test('length forecasts are request-weighted: a 1-request interval barely moves them', async (t) => {
  const model = new EwmaForecaster({ lengthAlpha: 0.5 });
  model.observe({ startSeconds: 0, intervalSeconds: 60, requests: 600, inputMean: 1000, inputSecondMoment: 1e6, outputMean: 100 });
  model.observe({ startSeconds: 60, intervalSeconds: 60, requests: 1, inputMean: 7000, inputSecondMoment: 49e6, outputMean: 1000 });
  // Weights: 600 requests at 0.5 then decayed by 0.5 again → 150; 1 request at 0.5 → 0.5.
  // (150·1000 + 0.5·7000) / 150.5 ≈ 1019.9, where an average of interval means would say 4000.
  t.ok(Math.abs(model.forecast(60).inputMean - (150_000 + 3500) / 150.5) < 1e-9);
});

t.test('the factory: names, parameters, and InputError for unknown ones', async (t) => {
  for (const name of FORECASTER_NAMES) t.equal(createForecaster(name).name, name);
  t.throws(() => createForecaster('arima'), InputError);
  t.throws(() => createForecaster('arima'), /unknown model "arima"; expected one of last-value, ewma/);
  t.throws(() => createForecaster('ewma', { beta: 0.2 }), /forecaster ewma: unknown parameter "beta"/);
  t.throws(() => createForecaster('holt', { phi: 1.5 }), /forecaster holt: phi must be within \(0, 1\]/);
  t.equal(feed(createForecaster('ewma', { alpha: 1 }), series([1, 9])).forecast(60).requestsPerSecond.mean, 9, 'alpha 1 is last-value');
});

t.test('bad samples and horizons are refused', async (t) => {
  const model = new EwmaForecaster();
  t.throws(() => model.observe({ ...series([1])[0]!, requests: Number.NaN }), /requests must be a finite number/);
  t.throws(() => model.forecast(0), /horizonSeconds/);
  model.observe(series([1], 60)[0]!);
  t.throws(() => model.observe(series([1], 30)[0]!), /one interval: got 30 s after 60 s/);
});
