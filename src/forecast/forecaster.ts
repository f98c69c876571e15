import type { LoadSample } from '../domain/load.js';

/** A forecast figure with its uncertainty band (low ≤ mean ≤ high). */
export interface Band {
  mean: number;
  low: number;
  high: number;
}

/**
 * Expected load over the next `horizonSeconds`. Rates are per second; length
 * figures are per request. When the recent past is idle the forecast is zero
 * load with zero lengths, never NaN.
 */
export interface LoadForecast {
  horizonSeconds: number;
  requestsPerSecond: Band;
  inputMean: number;
  /** E[l²] of prompt lengths, tokens²: prefill cost is convex in l, so the mean alone misleads. */
  inputSecondMoment: number;
  outputMean: number;
}

/**
 * Learns from per-interval load samples and forecasts the next horizon.
 * Pure: no clock, no I/O; the controller feeds it samples in time order.
 */
export interface Forecaster {
  readonly name: string;
  /** Adds the sample of one finished interval (samples arrive in time order). */
  observe(sample: LoadSample): void;
  forecast(horizonSeconds: number): LoadForecast;
}

/** Forecasts that the next horizon looks like the last interval: the baseline every other model must beat. */
export class LastValueForecaster implements Forecaster {
  readonly name = 'last-value';
  private last: LoadSample | undefined;

  observe(sample: LoadSample): void {
    this.last = sample;
  }

  forecast(horizonSeconds: number): LoadForecast {
    const s = this.last;
    const rate = s && s.intervalSeconds > 0 ? s.requests / s.intervalSeconds : 0;
    return {
      horizonSeconds,
      requestsPerSecond: { mean: rate, low: rate, high: rate },
      inputMean: s?.inputMean ?? 0,
      inputSecondMoment: s?.inputSecondMoment ?? 0,
      outputMean: s?.outputMean ?? 0,
    };
  }
}
