import type { LoadSample } from '../domain/load.js';

/** A forecast figure with its uncertainty band (low ≤ mean ≤ high). */
export interface Band {
  mean: number;
  low: number;
  high: number;
}

/**
 * Expected load over the next `horizonSeconds`. Rates are per second; length
 * figures are per request. Never NaN: before any traffic has been seen the
 * forecast is zero load with zero lengths; after an idle gap the rate reads
 * 0 while the lengths are those of the last non-idle intervals (what the
 * next request will most likely look like), so a policy sizing for a burst
 * that ends the gap is not told prompts are 0 tokens long.
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

// The baseline lives in its own file like every other model; exported here as before.
export { LastValueForecaster } from './last-value-forecaster.js';
