import type { LoadSample } from '../domain/load.js';
import type { Forecaster, LoadForecast } from './forecaster.js';
import { poolSamples } from '../domain/load.js';

/** The quantities a backtest scores. Input length is scored by √E[l²] (tokens), the second moment on the scale of the mean. */
export const BACKTEST_QUANTITIES = ['rate', 'inputMean', 'inputRms', 'outputMean'] as const;
export type BacktestQuantity = (typeof BACKTEST_QUANTITIES)[number];

export interface ErrorStats {
  /** Forecasts scored. */
  count: number;
  mae: number;
  rmse: number;
  /** Mean absolute percentage error, percent, over the scored forecasts whose actual is non-zero (`mapeCount`); 0 when there are none. */
  mapePercent: number;
  mapeCount: number;
}

export interface RateErrorStats extends ErrorStats {
  /** Fraction of actual rates within the forecast band [low, high]. */
  bandCoverage: number;
}

export interface ModelScore {
  model: string;
  rate: RateErrorStats;
  inputMean: ErrorStats;
  inputRms: ErrorStats;
  outputMean: ErrorStats;
}

export interface HorizonScores {
  horizonIntervals: number;
  models: ModelScore[];
}

export interface BacktestOptions {
  /** Besides one step ahead, also score forecasts this many intervals ahead (the mean over them). Default 1. */
  horizonIntervals?: number;
  /** Samples every model sees before the first forecast is scored. Default 1. */
  warmupIntervals?: number;
}

/**
 * Walk-forward backtest: each model sees the samples in order; before
 * learning sample t it forecasts the next H intervals, and that forecast is
 * scored against the pooled actual load of samples t..t+H−1 (poolSamples:
 * total rate, request-weighted lengths). H = 1 always, plus
 * `horizonIntervals` when larger.
 *
 * What is scored where:
 * - rate: MAE and RMSE (requests/s) over every scored forecast, idle
 *   intervals included (forecasting 0 matters); MAPE over non-idle actuals
 *   only (0 has no percentage error); band coverage over every forecast;
 * - lengths (mean input, RMS input, mean output; tokens): every figure over
 *   non-idle actuals only, since an idle interval has no lengths.
 * Pure and deterministic; `createModels` makes fresh forecasters so a
 * backtest never inherits state.
 */
export function backtest(samples: readonly LoadSample[], createModels: readonly (() => Forecaster)[], options: BacktestOptions = {}): HorizonScores[] {
  const horizon = options.horizonIntervals ?? 1;
  const warmup = options.warmupIntervals ?? 1;
  if (!Number.isInteger(horizon) || horizon < 1) throw new RangeError(`horizonIntervals must be a positive integer, got ${horizon}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`warmupIntervals must be an integer ≥ 0, got ${warmup}`);
  const horizons = horizon > 1 ? [1, horizon] : [1];
  const scores: HorizonScores[] = horizons.map((h) => ({ horizonIntervals: h, models: [] }));
  for (const create of createModels) {
    const model = create();
    const accumulators = horizons.map(() => new ModelAccumulator());
    samples.forEach((sample, t) => {
      horizons.forEach((h, i) => {
        if (t < warmup || t + h > samples.length) return;
        const intervalSeconds = sample.intervalSeconds * h;
        (accumulators[i] as ModelAccumulator).add(model.forecast(intervalSeconds), poolSamples(samples.slice(t, t + h)));
      });
      model.observe(sample);
    });
    accumulators.forEach((acc, i) => (scores[i] as HorizonScores).models.push(acc.score(model.name)));
  }
  return scores;
}

class ErrorAccumulator {
  private count = 0;
  private absSum = 0;
  private squareSum = 0;
  private percentSum = 0;
  private percentCount = 0;

  add(forecast: number, actual: number): void {
    const error = Math.abs(forecast - actual);
    this.count++;
    this.absSum += error;
    this.squareSum += error * error;
    if (actual !== 0) {
      this.percentSum += (100 * error) / Math.abs(actual);
      this.percentCount++;
    }
  }

  stats(): ErrorStats {
    const n = this.count;
    return {
      count: n,
      mae: n === 0 ? 0 : this.absSum / n,
      rmse: n === 0 ? 0 : Math.sqrt(this.squareSum / n),
      mapePercent: this.percentCount === 0 ? 0 : this.percentSum / this.percentCount,
      mapeCount: this.percentCount,
    };
  }
}

class ModelAccumulator {
  private readonly rate = new ErrorAccumulator();
  private readonly inputMean = new ErrorAccumulator();
  private readonly inputRms = new ErrorAccumulator();
  private readonly outputMean = new ErrorAccumulator();
  private covered = 0;
  private scored = 0;

  add(forecast: LoadForecast, actual: LoadSample): void {
    const actualRate = actual.requests / actual.intervalSeconds;
    const band = forecast.requestsPerSecond;
    this.rate.add(band.mean, actualRate);
    this.scored++;
    if (actualRate >= band.low && actualRate <= band.high) this.covered++;
    if (actual.requests === 0) return;
    this.inputMean.add(forecast.inputMean, actual.inputMean);
    this.inputRms.add(Math.sqrt(forecast.inputSecondMoment), Math.sqrt(actual.inputSecondMoment));
    this.outputMean.add(forecast.outputMean, actual.outputMean);
  }

  score(model: string): ModelScore {
    return {
      model,
      rate: { ...this.rate.stats(), bandCoverage: this.scored === 0 ? 0 : this.covered / this.scored },
      inputMean: this.inputMean.stats(),
      inputRms: this.inputRms.stats(),
      outputMean: this.outputMean.stats(),
    };
  }
}
